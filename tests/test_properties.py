"""Property tests (hypothesis): valid specs build as counted; broken specs only raise SpecError.

(a) Random valid DAG specs built from a safe set of layers (Dense, Dropout,
    BatchNormalization, LayerNormalization, Activation), merges on compatible widths,
    shares of square Dense nodes, a block with params used once or twice, and `repeat`,
    written out in a random node order, always build, and the model's parameter count
    equals the count this file computes from the spec by hand (Dense: in*units + units,
    BatchNormalization: 4*features, LayerNormalization: 2*features, ...).
(b) Random mutations of valid specs (examples/, tests/cases/ and the specs of (a)):
    deleted and renamed keys, values of the wrong type, random refs, cycles, truncated
    text, inserted YAML syntax, random unicode and random bytes. `loads` and `build` raise
    nothing but `graphspec.SpecError`, and `graphspec validate` returns 0, 1 or 2.
(c) Hostile values (huge integers in every spelling, NULs, control characters, overlong
    strings, huge output indexes) at any value or key of a valid spec, and chains of
    blocks deeper than the limit: SpecError only, with a bounded text.

The example counts are small by default so that the file runs in about a minute on two
cores. ``GRAPHSPEC_HYPOTHESIS_EXAMPLES=N`` sets the count of the `loads` mutation property
to N and scales the others in proportion (building Keras models is the slow part):

    GRAPHSPEC_HYPOTHESIS_EXAMPLES=2000 pytest tests/test_properties.py --hypothesis-show-statistics
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras  # noqa: F401 - imported before hypothesis runs: Keras raises the recursion limit on import
import yaml
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

import graphspec
from graphspec import SpecError
from graphspec.cli import main as cli_main
from graphspec.source import parse_yaml

ROOT = Path(__file__).parent.parent

# -- example counts ----------------------------------------------------------------------------------

_BASE_LOADS = 300  # the loads-mutation property; the others are fixed fractions of it
_SCALE = int(os.environ.get("GRAPHSPEC_HYPOTHESIS_EXAMPLES", _BASE_LOADS))


def examples(base: int, minimum: int = 5) -> int:
    """`base` examples by default, scaled with GRAPHSPEC_HYPOTHESIS_EXAMPLES."""
    return max(minimum, round(base * _SCALE / _BASE_LOADS))


def profile(base: int) -> settings:
    return settings(
        max_examples=examples(base),
        deadline=None,
        database=None,  # no .hypothesis/ folder in the work tree; failures print their example
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


# -- (a) random valid DAG specs with an independent parameter count ----------------------------------

ACTIVATIONS = [None, "relu", "tanh", "sigmoid", "linear", "gelu", "softmax", "elu"]
SAME_WIDTH_MERGES = ["add", "multiply", "average", "maximum", "minimum", "subtract"]


@dataclass
class Case:
    """A generated spec, with what the model must be."""

    spec: dict[str, Any]
    params: int  # count_params() of the model
    widths: dict[str, int]  # output name -> feature width
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        return yaml.safe_dump(self.spec, sort_keys=False, allow_unicode=True)


def block_params(width: int, units: int, repeat: int) -> int:
    """Parameters of the block `mlp` below on an input of `width` features, repeated."""
    def one(w: int) -> int:
        return (w * units + units) + 2 * units + (units * units + units)

    return one(width) + (repeat - 1) * one(units)


MLP_BLOCK = {
    "params": {"units": 4, "act": "relu"},
    "inputs": ["i"],
    "nodes": {
        "a": {"type": "Dense", "units": "$units", "activation": "$act", "from": "i"},
        "n": {"type": "LayerNormalization", "from": "a"},
        "b": {"type": "Dense", "units": "$(units)", "from": "n"},
        "s": {"merge": "add", "from": ["a", "b"]},
    },
    "outputs": ["s"],
}


@st.composite
def dag_specs(draw: Callable[..., Any], max_steps: int = 8, max_width: int = 6) -> Case:
    """A random valid spec on 1-D features and the parameter count of its model."""
    widths: dict[str, int] = {}  # every tensor (input or node) -> features
    spec: dict[str, Any] = {"graphspec": 1, "name": "prop"}
    params: dict[str, Any] = {}
    if draw(st.booleans()):
        params["hidden"] = draw(st.integers(1, max_width))
        spec["params"] = params
    inputs = {}
    for i in range(draw(st.integers(1, 2))):
        width = draw(st.integers(1, max_width))
        inputs[f"in{i}"] = {"shape": [width]}
        widths[f"in{i}"] = width
    spec["inputs"] = inputs
    nodes: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    square_dense: list[str] = []  # Dense nodes whose input width equals their units: shareable
    block_uses = 0
    total = 0

    def pick(candidates: list[str] | None = None) -> str:
        name = draw(st.sampled_from(sorted(candidates if candidates is not None else widths)))
        used.add(name)
        return name

    def ref(name: str) -> Any:
        return [name] if draw(st.integers(0, 5)) == 0 else name  # a list of one ref is that ref

    def units() -> tuple[Any, int]:
        choice = draw(st.integers(0, 3)) if "hidden" in params else 0
        if choice == 1:
            return "$hidden", params["hidden"]
        if choice == 2:
            return "$(hidden * 2 - 1)", params["hidden"] * 2 - 1
        value = draw(st.integers(1, max_width))
        return value, value

    for step in range(draw(st.integers(1, max_steps))):
        name = f"n{step}"
        kind = draw(st.sampled_from(["dense", "dense", "dropout", "batchnorm", "layernorm", "activation", "merge", "concat", "share", "block"]))
        if kind == "share" and not square_dense:
            kind = "dense"
        if kind == "block" and block_uses >= 2:
            kind = "dense"
        if kind == "dense":
            source = pick()
            written, value = units()
            node: dict[str, Any] = {"type": "Dense", "units": written, "from": ref(source)}
            activation = draw(st.sampled_from(ACTIVATIONS))
            if activation is not None or draw(st.booleans()):
                node["activation"] = activation
            bias = draw(st.booleans())
            if not bias:
                node["use_bias"] = False
            if draw(st.integers(0, 3)) == 0:
                node["kernel_initializer"] = {"type": "HeNormal", "seed": draw(st.integers(0, 9))}
            repeat = draw(st.sampled_from([None, None, None, 1, 2, 3]))
            if repeat is not None:
                node["repeat"] = repeat
            copies = repeat or 1
            total += widths[source] * value + (value if bias else 0) + (copies - 1) * (value * value + (value if bias else 0))
            if widths[source] == value:
                square_dense.append(name)
            widths[name] = value
        elif kind == "dropout":
            source = pick()
            node = {"type": "Dropout", "rate": draw(st.sampled_from([0.0, 0.1, 0.5])), "from": ref(source)}
            widths[name] = widths[source]
        elif kind == "batchnorm":
            source = pick()
            center, scale = draw(st.booleans()), draw(st.booleans())
            node = {"type": "BatchNormalization", "center": center, "scale": scale, "from": ref(source)}
            total += widths[source] * (2 + center + scale)  # moving mean and variance, beta, gamma
            widths[name] = widths[source]
        elif kind == "layernorm":
            source = pick()
            center, scale = draw(st.booleans()), draw(st.booleans())
            node = {"type": "LayerNormalization", "center": center, "scale": scale, "from": ref(source)}
            total += widths[source] * (center + scale)
            widths[name] = widths[source]
        elif kind == "activation":
            source = pick()
            node = {"type": "Activation", "activation": draw(st.sampled_from(ACTIVATIONS[1:])), "from": ref(source)}
            widths[name] = widths[source]
        elif kind == "merge":
            groups: dict[int, list[str]] = {}
            for tensor, width in widths.items():
                groups.setdefault(width, []).append(tensor)
            width = draw(st.sampled_from(sorted(groups)))
            merge = draw(st.sampled_from(SAME_WIDTH_MERGES + ["dot"]))
            count = 2 if merge in ("subtract", "dot") else draw(st.integers(2, 3))
            sources = [pick(groups[width]) for _ in range(count)]
            node = {"merge": merge, "from": sources}
            if merge == "dot":
                node["axes"] = 1
            widths[name] = 1 if merge == "dot" else width
        elif kind == "concat":
            sources = [pick() for _ in range(draw(st.integers(2, 3)))]
            node = {"merge": "concatenate", "from": sources}
            widths[name] = sum(widths[s] for s in sources)
        elif kind == "share":
            target = draw(st.sampled_from(square_dense))
            width = widths[target]
            same = [t for t, w in widths.items() if w == width]
            node = {"share": target, "from": pick(same)}
            widths[name] = width
        else:  # block
            block_uses += 1
            source = pick()
            node = {"block": "mlp", "from": ref(source)}
            value = 4
            if draw(st.booleans()):
                value = draw(st.integers(1, max_width))
                node["units"] = value
            if draw(st.booleans()):
                node["act"] = draw(st.sampled_from(["tanh", "sigmoid"]))
            repeat = draw(st.sampled_from([None, None, 1, 2]))
            if repeat is not None:
                node["repeat"] = repeat
            total += block_params(widths[source], value, repeat or 1)
            widths[name] = value
            spec.setdefault("blocks", {"mlp": MLP_BLOCK})
        nodes[name] = node
    for name in list(inputs):  # every input feeds the model
        if name not in used:
            node_name = f"use_{name}"
            nodes[node_name] = {"type": "Dense", "units": 2, "from": name}
            used.add(name)
            total += widths[name] * 2 + 2
            widths[node_name] = 2
    leaves = [name for name in nodes if name not in used]
    order = draw(st.permutations(list(nodes)))  # the file's node order does not matter
    spec["nodes"] = {name: nodes[name] for name in order}
    if draw(st.booleans()):
        spec["outputs"] = leaves
        out_widths = {leaf: widths[leaf] for leaf in leaves}
    else:
        spec["outputs"] = {f"out_{leaf}": leaf for leaf in leaves}
        out_widths = {f"out_{leaf}": widths[leaf] for leaf in leaves}
    if draw(st.booleans()):
        spec["expect"] = {"params": total}
    if draw(st.integers(0, 3)) == 0:
        spec["compile"] = {"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "mse"}
    return Case(spec, total, out_widths)


@profile(15)
@given(dag_specs())
def test_random_valid_specs_build_with_the_counted_parameters(case: Case) -> None:
    text = case.text()
    note(text)
    spec = graphspec.loads(text, file="prop.yaml")
    model = graphspec.build(spec)
    assert model.count_params() == case.params
    shapes = model.output_shape if isinstance(model.output_shape, list) else [model.output_shape]
    if isinstance(model.output_shape, dict):
        shapes = [model.output_shape[k] for k in case.widths]
    assert [s[-1] for s in shapes] == list(case.widths.values())
    assert {layer.name for layer in model.layers} >= set(case.spec["inputs"])


# -- (b) mutations -----------------------------------------------------------------------------------

def _seed_files() -> list[Path]:
    files = sorted((ROOT / "examples").rglob("*.yaml")) + sorted((ROOT / "tests" / "cases").glob("*.yaml"))
    return [f for f in files if f.stat().st_size < 200_000]


SEEDS: list[tuple[str, str]] = [(f.read_text(encoding="utf-8", errors="replace"), str(f)) for f in _seed_files()]

NAMES = ["x", "y", "h", "h_1", "a", "b", "i", "n0", "n1", "in0", "mlp", "residual", "enc", "lstm", "u", "z"]
KEYS = [
    "type", "merge", "share", "block", "from", "repeat", "units", "activation", "inputs", "outputs", "nodes",
    "params", "blocks", "compile", "expect", "imports", "shape", "dtype", "name", "graphspec", "axis", "axes",
    "filters", "kernel_size", "rate", "optimizer", "loss", "metrics", "shapes", "<<", "", "1", "__class__", "sparse",
    "batch_size", "use_bias", "kernel_initializer", "layer", "seed", "$x", "class_name", "config", "module",
]
WORDS = [
    "Dense", "Conv2D", "LSTM", "Lambda", "TFSMLayer", "Dropout", "Add", "concatenate", "add", "dot", "subtract",
    "relu", "softmax", "same", "valid", "mse", "adam", "float32", "int32", "string", "os.system", "__import__",
    "$hidden", "$(hidden * 2)", "$(1/0)", "$(2**99)", "$(x.y)", "$$", "$", "$(", "$()", "x.0", "x.y", "lstm.1",
    "a.b.c", "1x", "", " ", "null", "~", "true", "1e-3", "0x10", "nan", ".inf", "-", "é", "\u202e", "\U0001F600",
    "../x.yaml", "/etc/passwd", ".", "lib/conv_blocks.yaml", "../../README.md",
]


def scalars(small: bool) -> st.SearchStrategy[Any]:
    """Values a mutation may write; `small` keeps numbers too small to build a huge model."""
    numbers: list[st.SearchStrategy[Any]] = [st.integers(-3, 64), st.floats(allow_nan=True, allow_infinity=True)]
    if not small:
        numbers += [st.integers(), st.integers(-(10**30), 10**30)]
    return st.one_of(
        st.none(), st.booleans(), *numbers, st.sampled_from(WORDS), st.sampled_from(NAMES), st.text(max_size=12)
    )


def values(small: bool) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars(small),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS + NAMES), inner, max_size=4)),
        max_leaves=8,
    )


def _containers(tree: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every dict and list in `tree`, with its path."""
    found = []
    if isinstance(tree, (dict, list)):
        found.append((path, tree))
        items = tree.items() if isinstance(tree, dict) else enumerate(tree)
        for key, value in items:
            found += _containers(value, path + (key,))
    return found


def _node_tables(tree: Any) -> list[dict]:
    tables = []
    if isinstance(tree, dict):
        if isinstance(tree.get("nodes"), dict):
            tables.append(tree["nodes"])
        for block in (tree.get("blocks") or {}).values() if isinstance(tree.get("blocks"), dict) else []:
            if isinstance(block, dict) and isinstance(block.get("nodes"), dict):
                tables.append(block["nodes"])
    return tables


OPERATIONS = ["delete", "rename", "replace", "replace", "ref", "cycle", "duplicate", "swap", "add", "argument"]
ARGUMENTS = ["units", "activation", "rate", "axis", "axes", "use_bias", "center", "scale", "epsilon", "momentum",
             "kernel_initializer", "bias_regularizer", "dtype", "repeat", "from", "type", "merge", "share", "block",
             "seed", "name", "trainable", "act", "filters", "unit"]


def mutate_data(draw: Callable[..., Any], tree: Any, small: bool, most: int = 4, operations: list[str] | None = None) -> Any:
    """Apply 1 to `most` random structural mutations to a parsed spec, in place; returns the tree."""
    for _ in range(draw(st.integers(1, most))):
        containers = _containers(tree)
        if not containers:
            return draw(values(small))
        _, container = draw(st.sampled_from(containers))
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        operation = draw(st.sampled_from(operations or OPERATIONS))
        if operation == "argument":  # one argument of one node gets a random value
            tables = [t for t in _node_tables(tree) if t]
            if tables:
                table = draw(st.sampled_from(tables))
                node = table[draw(st.sampled_from(list(table)))]
                if isinstance(node, dict):
                    node[draw(st.sampled_from(ARGUMENTS))] = draw(values(small))
            continue
        if operation == "cycle":
            tables = [t for t in _node_tables(tree) if len(t) >= 1]
            if tables:
                table = draw(st.sampled_from(tables))
                names = list(table)
                a, b = draw(st.sampled_from(names)), draw(st.sampled_from(names))
                if isinstance(table[a], dict):
                    table[a]["from"] = b
                if isinstance(table[b], dict):
                    table[b]["from"] = draw(st.sampled_from([a, [a, b], {"inputs": a}]))
            continue
        if operation == "ref":
            tables = [t for t in _node_tables(tree) if t]
            if tables:
                table = draw(st.sampled_from(tables))
                name = draw(st.sampled_from(list(table)))
                refs = list(table) + NAMES + [f"{n}.{k}" for n in list(table)[:3] for k in ("0", "1", "9", "s")]
                refs += [1, 2.5, None, True, [], {}]  # not refs at all
                if isinstance(table[name], dict):
                    table[name]["from"] = draw(st.one_of(st.sampled_from(refs), st.lists(st.sampled_from(refs), max_size=3)))
            continue
        if operation == "add":
            key = draw(st.sampled_from(KEYS + NAMES))
            if isinstance(container, dict):
                container[key] = draw(values(small))
            else:
                container.insert(draw(st.integers(0, len(container))), draw(values(small)))
            continue
        if not keys:
            continue
        key = draw(st.sampled_from(keys))
        if operation == "delete":
            del container[key]
        elif operation == "rename" and isinstance(container, dict):
            new = draw(st.one_of(st.sampled_from(KEYS + NAMES), st.text(max_size=8), st.integers(-2, 2)))
            container[new] = container.pop(key)
        elif operation == "duplicate" and isinstance(container, dict):
            container[draw(st.sampled_from(NAMES)) + "_copy"] = container[key]
        elif operation == "swap" and len(keys) >= 2:
            other = draw(st.sampled_from(keys))
            container[key], container[other] = container[other], container[key]
        else:
            container[key] = draw(values(small))
    return tree


SNIPPETS = [
    "&a ", "*a", "<<: *a", "!!python/name:os.system ", "!!binary ", "!x ", "{", "}", "[", "]", ": ", "- ", "---\n",
    "...\n", "%TAG ! !\n", "%YAML 1.1\n", "? ", "|\n", ">-\n", "'", '"', "#", "\t", "\x00", "\ufeff", "\r", "\r\n",
    "$(", "$", "$$", ")", ",", "\\", "\x85", "\u2028", "\ud800", "\x1b[31m", "  ", "\n  ", "@", "`", "%",
]


def mutate_text(draw: Callable[..., Any], text: str) -> str:
    """Apply 0-3 random edits to the text itself."""
    for _ in range(draw(st.integers(0, 3))):
        operation = draw(st.sampled_from(["truncate", "delete", "insert", "snippet", "unicode", "line", "bytes"]))
        at = draw(st.integers(0, len(text)))
        if operation == "truncate":
            text = text[:at]
        elif operation == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        elif operation == "insert":
            text = text[:at] + draw(st.text(max_size=10)) + text[at:]
        elif operation == "snippet":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif operation == "unicode":
            # any code point, lone surrogates included
            text = text[:at] + draw(st.text(st.characters(exclude_categories=()), max_size=6)) + text[at:]
        elif operation == "bytes":
            raw = draw(st.binary(max_size=12))
            text = text[:at] + raw.decode(draw(st.sampled_from(["latin-1", "utf-8"])), "surrogateescape") + text[at:]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines.insert(j, lines[i])
            text = "\n".join(lines)
    return text


@st.composite
def mutated_texts(draw: Callable[..., Any], small: bool = False, generated_only: bool = False) -> tuple[str, str]:
    """(text, file name) of a mutated valid spec: data-level mutations, text-level ones, or both."""
    if generated_only or draw(st.integers(0, 2)) == 0:
        case = draw(dag_specs(max_steps=5))
        text, file = case.text(), "<string>"
    else:
        text, file = draw(st.sampled_from(SEEDS))
    kind = "data" if small else draw(st.sampled_from(["data", "data", "text", "both"]))
    if kind in ("data", "both"):
        try:
            tree = parse_yaml(text).data
        except SpecError:
            tree = None
        if tree is not None:
            if small:  # one change, mostly to arguments, so that many mutants reach Keras
                tree = mutate_data(draw, tree, small, most=1, operations=["argument", "argument", "argument", "replace", "ref", "delete"])
            else:
                tree = mutate_data(draw, tree, small)
            unicode, flow = draw(st.booleans()), draw(st.sampled_from([None, False, True]))
            with contextlib.suppress(Exception):  # a tree PyYAML cannot write: keep the text
                text = yaml.safe_dump(tree, sort_keys=False, allow_unicode=unicode, default_flow_style=flow)
    if kind in ("text", "both") or (not small and draw(st.integers(0, 4)) == 0):
        text = mutate_text(draw, text)
    return text, file


def spec_errors_only(action: Callable[[], Any], what: str = "") -> Any:
    """Run `action`; a SpecError is a fine answer, any other exception fails the property."""
    try:
        result = action()
    except SpecError as error:
        event(f"{what}: SpecError {sorted({p.code for p in error.problems})[0] if error.problems else '-'}")
        assert error.problems, "a SpecError without problems"
        for problem in error.problems:
            assert isinstance(problem.message, str) and problem.message
            problem.format(context=True)
        str(error)
        return None
    event(f"{what}: ok")
    return result


@profile(_BASE_LOADS)
@given(mutated_texts())
def test_mutated_specs_only_raise_spec_error_from_loads(mutant: tuple[str, str]) -> None:
    text, file = mutant
    note(repr(text[:2000]))
    spec_errors_only(lambda: graphspec.loads(text, file=file), "loads")


@profile(15)
@given(mutated_texts(small=True, generated_only=True))
def test_mutated_specs_only_raise_spec_error_from_build(mutant: tuple[str, str]) -> None:
    text, file = mutant
    note(text)
    spec = spec_errors_only(lambda: graphspec.loads(text, file=file), "loads")
    if spec is not None:
        spec_errors_only(lambda: graphspec.build(spec), "build")


@profile(60)
@given(
    st.one_of(
        mutated_texts().map(lambda m: m[0].encode("utf-8", "surrogatepass")),
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    ),
    st.sampled_from(["text", "json", "github"]),
)
def test_validate_returns_0_1_or_2(data: bytes, fmt: str) -> None:
    note(repr(data[:2000]))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.yaml"
        path.write_bytes(data)
        out, err = io.StringIO(), io.StringIO()
        code = spec_errors_only(lambda: cli_main(["validate", "--format", fmt, str(path)], out=out, err=err), "validate")
    if code is None:
        return  # a known bug, counted as such
    assert code in (0, 1, 2)
    event(f"validate: {code}")
    if code == 1:
        assert out.getvalue()


@profile(100)
@given(st.one_of(st.text(), st.text(st.characters(exclude_categories=())), st.binary().map(lambda b: b.decode("latin-1"))))
def test_random_text_only_raises_spec_error(text: str) -> None:
    spec_errors_only(lambda: graphspec.loads(text), "loads")


def test_generator_covers_the_language() -> None:
    """The generator of (a) reaches every feature it claims to (a check on the test itself)."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(dag_specs())
    def collect(case: Case) -> None:
        graphspec.loads(case.text())  # valid without building
        for node in case.spec["nodes"].values():
            seen.add(node.get("type") or node.get("merge") or ("share" if "share" in node else "block"))
            if "repeat" in node:
                seen.add("repeat")

    collect()
    assert {"Dense", "Dropout", "BatchNormalization", "LayerNormalization", "Activation", "concatenate", "add", "share", "block", "repeat"} <= seen


# -- (c) hostile values in every position (issue 13) ----------------------------------------------------
# Huge integers (hex, octal, decimal, beyond int64), NULs and control characters, overlong
# strings and refs with huge indexes, written at any value or key of a spec, plus chains of
# blocks deeper than `max_block_depth`: `loads` and `build` raise SpecError only, and its
# text stays bounded.

HUGE_LITERALS = {"<HEX>": "0x" + "f" * 5000, "<OCT>": "0o" + "7" * 5000, "<DEC>": "9" * 5000, "<NEGHEX>": "-0x" + "f" * 5000}
HOSTILE = [*HUGE_LITERALS, 2**64, -(2**70), 10**30, "lib\x00.yaml", "a\x00b", "x\x1b[2Jy", "\x07", "\x9b1m", "y." + "9" * 40,
           "x" * 3000, "../" * 50 + "\x00", "$(" + "9" * 400 + ")", "$n\x00"]


def hostile_value() -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(HOSTILE), st.lists(st.sampled_from(HOSTILE), min_size=1, max_size=3))


def deep_chain(levels: int, entry: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """`levels` blocks each using the next, and a node using the first on `entry`."""
    blocks = {f"chain{i}": {"inputs": ["i"], "nodes": {"n": {"block": f"chain{i + 1}", "from": "i"} if i + 1 < levels else {"type": "Dense", "units": 2, "from": "i"}}, "outputs": ["n"]} for i in range(levels)}
    return blocks, {"block": "chain0", "from": entry}


@st.composite
def hostile_texts(draw: Callable[..., Any]) -> str:
    case = draw(dag_specs(max_steps=4))
    tree = parse_yaml(case.text()).data
    for _ in range(draw(st.integers(1, 3))):
        _, container = draw(st.sampled_from(_containers(tree)))
        keys = list(container) if isinstance(container, dict) else list(range(len(container)))
        if not keys:
            continue
        key = draw(st.sampled_from(keys))
        if isinstance(container, dict) and draw(st.booleans()):  # the key itself
            new_key = draw(st.sampled_from([k for k in HOSTILE if isinstance(k, str)]))
            container[new_key] = container.pop(key)
        else:
            container[key] = draw(hostile_value())
    if draw(st.integers(0, 3)) == 0 and isinstance(tree.get("nodes"), dict):
        blocks, node = deep_chain(draw(st.sampled_from([33, 100, 400])), next(iter(case.spec["inputs"])))
        tree["blocks"] = {**(tree.get("blocks") if isinstance(tree.get("blocks"), dict) else {}), **blocks}
        tree["nodes"]["deep"] = node
    text = yaml.safe_dump(tree, sort_keys=False, default_flow_style=draw(st.sampled_from([None, False, True])), width=10**9)
    for placeholder, literal in HUGE_LITERALS.items():
        text = text.replace(f"'{placeholder}'", literal).replace(placeholder, literal)
    return text


@profile(40)
@given(hostile_texts())
def test_hostile_values_in_every_position_only_raise_spec_error(text: str) -> None:
    note(text[:3000])

    def load() -> Any:
        try:
            return graphspec.loads(text)
        except SpecError as error:
            assert len(str(error)) < 200_000  # bounded, whatever the spec holds
            raise

    spec = spec_errors_only(load, "loads")
    if spec is not None:
        spec_errors_only(lambda: graphspec.build(spec), "build")
