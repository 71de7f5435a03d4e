"""Generated specs for the benchmarks: Dense chains, wide DAGs with merges, block-heavy specs.

Each generator returns YAML text whose model, once blocks and repeats are expanded,
has about `n` nodes (the count `graphspec.Limits.max_nodes` bounds). Every spec here
also builds: all Dense layers have the same width, so every merge is shape-compatible.
"""

from __future__ import annotations

HEADER = "graphspec: 1\nname: {name}\nparams:\n  width: {width}\ninputs:\n  x: {{shape: [{width}]}}\n"


def chain(n: int, width: int = 8) -> str:
    """A chain of `n` Dense layers: d1 <- x, d2 <- d1, ..."""
    lines = [HEADER.format(name=f"chain_{n}", width=width), "nodes:"]
    prev = "x"
    for i in range(1, n + 1):
        lines.append(f"  d{i}: {{type: Dense, units: $width, from: {prev}}}")
        prev = f"d{i}"
    lines.append(f"outputs: [{prev}]")
    return "\n".join(lines) + "\n"


def dag_plan(n: int, fan: int = 64) -> list[tuple[str, str, list[str]]]:
    """The wide DAG of `wide_dag` as (name, "dense" or "add" or "concatenate", refs)."""
    plan: list[tuple[str, str, list[str]]] = []
    names: list[str] = []
    used: set[str] = set()
    for i in range(n - 1):
        name = f"n{i}"
        if i % 4 == 3:
            plan.append((name, "add", [names[i - 1], names[i - 2], names[i - 3]]))
        else:
            plan.append((name, "dense", ["x" if i == 0 else names[i - 1 - (i * 7919) % min(i, fan)]]))
        used.update(plan[-1][2])
        names.append(name)
    loose = [m for m in names if m not in used] or names[-1:]
    plan.append(("out", "concatenate", loose) if len(loose) > 1 else ("out", "dense", loose))
    return plan


def wide_dag(n: int, width: int = 8, fan: int = 64) -> str:
    """`n` nodes, one in four an `add` merge of three earlier nodes, the others Dense
    layers reading a node up to `fan` places back: many merges, long-range edges.
    Every node reaches the output (the last node concatenates the loose ends)."""
    lines = [HEADER.format(name=f"dag_{n}", width=width), "nodes:"]
    for name, kind, refs in dag_plan(n, fan):
        if kind == "dense":
            lines.append(f"  {name}: {{type: Dense, units: $width, from: {refs[0]}}}")
        else:
            lines.append(f"  {name}: {{merge: {kind}, from: [{', '.join(refs)}]}}")
    lines.append("outputs: [out]")
    return "\n".join(lines) + "\n"


# The same models written by hand in Keras (imported lazily: loading never needs Keras).


def keras_chain(n: int, width: int = 8):
    import keras

    x = keras.Input(shape=(width,), name="x")
    h = x
    for i in range(1, n + 1):
        h = keras.layers.Dense(width, name=f"d{i}")(h)
    return keras.Model(x, h, name=f"chain_{n}")


def keras_dag(n: int, width: int = 8, fan: int = 64):
    import keras

    x = keras.Input(shape=(width,), name="x")
    tensors = {"x": x}
    for name, kind, refs in dag_plan(n, fan):
        inputs = [tensors[r] for r in refs]
        if kind == "dense":
            tensors[name] = keras.layers.Dense(width, name=name)(inputs[0])
        elif kind == "add":
            tensors[name] = keras.layers.Add(name=name)(inputs)
        else:
            tensors[name] = keras.layers.Concatenate(name=name)(inputs)
    return keras.Model(x, tensors["out"], name=f"dag_{n}")


BLOCK = """blocks:
  unit:
    params: {units: null}
    inputs: [x]
    nodes:
      a:   {type: Dense, units: $units, activation: relu, from: x}
      b:   {type: Dense, units: $units, from: a}
      add: {merge: add, from: [x, b]}
      out: {type: Activation, activation: relu, from: add}
    outputs: [out]
"""


def blocks(n: int, width: int = 8, repeat: int = 2) -> str:
    """Block nodes `{block: unit, repeat: 2}` in a chain: each expands to 5 nodes (the
    block node and its 4 inner nodes), so about n/5 block nodes; the Keras model has
    2 * 4 layers per block node."""
    lines = [HEADER.format(name=f"blocks_{n}", width=width), BLOCK.rstrip("\n"), "nodes:"]
    prev = "x"
    for i in range(1, max(1, n // 5) + 1):
        lines.append(f"  u{i}: {{block: unit, units: $width, repeat: {repeat}, from: {prev}}}")
        prev = f"u{i}"
    lines.append(f"outputs: [{prev}]")
    return "\n".join(lines) + "\n"


KINDS = {"chain": chain, "dag": wide_dag, "blocks": blocks}


def leaf_layers(model) -> list:
    """Layers holding weights, nested models (graphspec blocks) opened, in model order."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            out += leaf_layers(layer)
        elif layer.weights:
            out.append(layer)
    return out


def copy_weights(src, dst) -> str:
    """Give `dst` the weights of `src`; returns how. ValueError when they do not line up."""
    a, b = src.get_weights(), dst.get_weights()
    if len(a) == len(b) and all(x.shape == y.shape for x, y in zip(a, b, strict=True)):
        dst.set_weights(a)
        return "model.set_weights(get_weights())"
    la, lb = leaf_layers(src), leaf_layers(dst)
    if len(la) == len(lb) and all(
        [w.shape for w in x.get_weights()] == [w.shape for w in y.get_weights()] for x, y in zip(la, lb, strict=True)
    ):
        for x, y in zip(la, lb, strict=True):
            y.set_weights(x.get_weights())
        return "layer by layer, nested blocks opened"
    raise ValueError(f"weights do not line up: {len(a)} vs {len(b)} arrays, {len(la)} vs {len(lb)} layers")


def resnet50_nested(**build_kwargs):
    """examples/resnet50.yaml with `model: true` on its blocks: each residual unit one nested
    keras.Model (graphspec's only form before flat blocks), the same weights otherwise."""
    import re
    from pathlib import Path

    import graphspec

    path = Path(__file__).resolve().parent.parent / "examples" / "resnet50.yaml"
    text = re.sub(r"^(  bottleneck(?:_proj)?:.*\n)", r"\1    model: true\n", path.read_text(), flags=re.M)
    assert text.count("model: true") == 2
    return graphspec.build(graphspec.loads(text, file=str(path)), **build_kwargs)
