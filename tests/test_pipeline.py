"""One pipeline, each stage once: params reach the model whichever way a spec is built.

`build(path, params=p)`, `load(path, params=p)` + `build(spec)`, and the command line's
``build``/``validate --param`` must give the same model; each stage (parse, validate,
graph checks, expand, lower to Keras) must run once per `build`, ``validate --build``
and ``plot --shapes``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keras
import pytest

import graphspec
from graphspec import api, catalogue, cli, compiler, resolve

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

#: every example with params, and overrides that change its units, filters and sizes
OVERRIDES: dict[str, dict[str, Any]] = {
    "branch": {"hidden": 37},
    "cyclegan": {"filters": 8},
    "fashion_mnist/conv_pool": {"filters": 8, "dense": 16, "dropout": 0.2},
    "fashion_mnist/mlp_256_128_100": {"activation": "relu", "dropout": 0.1},
    "inception": {"classes": 3},
    "keywords_wrapper": {"vocab": 50, "dim": 8, "classes": 3},
    "mlp": {"hidden": 17},
    "resnet50": {"classes": 7},
    "siamese": {"vocab": 100, "dim": 8},
    "ticket_classifier": {"num_tags": 5, "num_words": 300, "num_departments": 3},
    "unet": {"base": 4, "classes": 2},
}

#: `repeat` counts and units from params, at the top level and in a repeated block
DEEP = """\
params: {depth: 0, width: 2}
blocks:
  stack:
    params: {units: null, copies: 1}
    inputs: [i]
    nodes:
      d: {type: Dense, units: $units, from: i, repeat: $copies}
    outputs: [d]
inputs:
  x: {shape: [4]}
nodes:
  h: {type: Dense, units: $width, from: x, repeat: $depth}
  s: {block: stack, units: $(width * 2), copies: $depth, from: h, repeat: $(depth - 1)}
  y: {type: Dense, units: 3, from: s}
outputs: [y]
"""


def layer_names(model: Any) -> list[str]:
    """Every layer's name, nested models' layers too, in order."""
    names = []
    for layer in model.layers:
        names.append(layer.name)
        if isinstance(layer, keras.Model):
            names += [f"{layer.name}/{n}" for n in layer_names(layer)]
    return names


def summary(model: Any) -> tuple[int, list[str], str]:
    """Parameter count, layer names (nested too) and the whole configuration."""
    return model.count_params(), layer_names(model), model.to_json()


def cli_model(monkeypatch: pytest.MonkeyPatch, *argv: str) -> tuple[int, list[Any]]:
    """Run the command line in this process; the exit code and the models its `build` calls made."""
    made: list[Any] = []
    for name in ("build", "build_checked"):
        real = getattr(api, name)

        def spy(*args: Any, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            made.append(_real(*args, **kwargs))
            return made[-1]

        monkeypatch.setattr(cli, name, spy)
    code = cli.main(list(argv), out=io.StringIO(), err=io.StringIO())
    return code, made


def param_args(params: dict[str, Any]) -> list[str]:
    return [arg for name, value in params.items() for arg in ("--param", f"{name}={value}")]


def check_three_ways(path: Path, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str], str]:
    keras.backend.clear_session()
    from_path = summary(graphspec.build(path, params=params))
    keras.backend.clear_session()
    spec = graphspec.load(path, params=params)
    assert spec.overrides == params
    from_spec = summary(graphspec.build(spec))
    keras.backend.clear_session()
    code, models = cli_model(monkeypatch, "build", str(path), *param_args(params))
    assert code == 0 and len(models) == 1
    from_cli = summary(models[0])
    keras.backend.clear_session()
    code, models = cli_model(monkeypatch, "validate", "--build", str(path), *param_args(params))
    assert code == 0 and len(models) == 1  # the same stages as build(path), through build_checked
    from_validate = summary(models[0])
    assert from_path == from_spec == from_cli == from_validate
    return from_path


@pytest.mark.parametrize("stem", [s for s in OVERRIDES if s != "resnet50"])
def test_examples_agree_on_overrides(stem: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = EXAMPLES / f"{stem}.yaml"
    check_three_ways(path, OVERRIDES[stem], monkeypatch)
    default, overridden = (graphspec.load(path, params=p).checks for p in ({}, OVERRIDES[stem]))
    assert default is not None and overridden is not None
    assert all_args(default.graph) != all_args(overridden.graph), "the overrides change the model"


def all_args(graph: Any) -> list[Any]:
    """The arguments of every node, those inside block instances too (siamese's params reach only its block)."""
    return [(n.args, all_args(n.body) if n.body is not None else None) for n in graph.nodes]


@pytest.mark.slow
def test_resnet50_agrees_on_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    count, _, _ = check_three_ways(EXAMPLES / "resnet50.yaml", OVERRIDES["resnet50"], monkeypatch)
    assert count == 25_636_712 - 2049 * (1000 - 7)


@pytest.mark.parametrize("depth, width", [(2, 3), (3, 5)])
def test_repeat_counts_from_params_agree(depth: int, width: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP)
    _, names, _ = check_three_ways(path, {"depth": depth, "width": width}, monkeypatch)
    hidden = [f"h_{i}" for i in range(1, depth + 1)]
    # A flat block: copies s_1 ... s_(depth-1), each a chain of `depth` Dense layers, named s_k_d_i.
    blocks = [f"s_{k}_d_{i}" for k in range(1, depth) for i in range(1, depth + 1)]
    assert names == ["x", *hidden, *blocks, "y"]


def test_override_of_a_default_that_would_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`repeat: $depth` with default 0 is an error only when the default is used."""
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP)
    with pytest.raises(graphspec.SpecError, match="repeat must be a positive integer, found 0"):
        graphspec.load(path)
    code, models = cli_model(monkeypatch, "build", str(path), "--param", "depth=3")
    assert code == 0 and [layer.name for layer in models[0].layers][:4] == ["x", "h_1", "h_2", "h_3"]
    assert cli.main(["validate", str(path), "--param", "depth=3"], out=io.StringIO(), err=io.StringIO()) == 0


def test_loaded_params_reach_the_model() -> None:
    text = "params: {units: 2}\ninputs: {x: {shape: [4]}}\nnodes: {y: {type: Dense, units: $units, from: x}}\noutputs: [y]\n"
    spec = graphspec.loads(text, params={"units": 5})
    assert graphspec.build(spec).get_layer("y").units == 5
    assert graphspec.build(spec, params={"units": 7}).get_layer("y").units == 7  # merged over, checked
    assert graphspec.build(spec).get_layer("y").units == 5  # the spec is not changed by that
    with pytest.raises(graphspec.SpecError, match="param override 'unit' matches no param"):
        graphspec.build(spec, params={"unit": 7})


def test_build_params_merge_over_loaded_ones() -> None:
    text = "params: {a: 2, b: 3}\ninputs: {x: {shape: [4]}}\nnodes:\n  h: {type: Dense, units: $a, from: x}\n  y: {type: Dense, units: $b, from: h}\noutputs: [y]\n"
    spec = graphspec.loads(text, params={"a": 5})
    model = graphspec.build(spec, params={"b": 6})
    assert (model.get_layer("h").units, model.get_layer("y").units) == (5, 6)


def test_build_given_yaml_text_says_to_use_loads() -> None:
    text = "inputs: {x: {shape: [4]}}\nnodes: {y: {type: Dense, units: 2, from: x}}\noutputs: [y]\n"
    for call in (graphspec.build, graphspec.load):
        with pytest.raises(graphspec.SpecError) as error:
            call(text)
        (problem,) = error.value.problems
        assert problem.file == "<string>" and "looks like YAML text" in problem.message
        assert "graphspec.loads(text)" in (problem.hint or "")


# --------------------------------------------------------------------------- each stage once


STAGES: dict[str, list[tuple[Any, str]]] = {
    # stage -> the (module, name) bindings its callers use
    "parse": [(api, "parse_yaml")],
    "validate": [(api, "validate_document")],
    "graph": [(api, "check_structure")],
    "expand": [(api, "expand"), (resolve, "expand")],
    "lower": [(compiler, "compile_model")],
}


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    counts = dict.fromkeys(STAGES, 0)
    for stage, bindings in STAGES.items():
        real = getattr(*bindings[0])

        def spy(*args: Any, _stage: str = stage, _real: Callable[..., Any] = real, **kwargs: Any) -> Any:
            counts[_stage] += 1
            return _real(*args, **kwargs)

        for module, name in bindings:
            monkeypatch.setattr(module, name, spy)
    yield counts


ONCE = dict.fromkeys(STAGES, 1)


@pytest.mark.parametrize("params", [{}, {"hidden": 9}])
def test_build_runs_each_stage_once(params: dict[str, Any], calls: dict[str, int]) -> None:
    graphspec.build(EXAMPLES / "toy_resnet.yaml" if not params else EXAMPLES / "branch.yaml", params=params)
    assert calls == ONCE


def test_build_of_a_loaded_spec_lowers_only(calls: dict[str, int]) -> None:
    spec = graphspec.load(EXAMPLES / "mlp.yaml", params={"hidden": 8})
    assert calls == {**ONCE, "lower": 0}
    graphspec.build(spec)
    assert calls == ONCE
    graphspec.build(spec, params={"hidden": 9})  # new params: expanded again, once
    assert calls == {**ONCE, "expand": 2, "lower": 2}


def test_validate_build_runs_each_stage_once(calls: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli.main(["validate", "--build", str(EXAMPLES / "unet.yaml"), "--param", "base=4"], out=io.StringIO(), err=io.StringIO()) == 0
    assert calls == ONCE


def test_plot_shapes_runs_each_stage_once(calls: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "unet.dot"
    assert cli.main(["plot", str(EXAMPLES / "unet.yaml"), "-o", str(out), "--shapes", "--param", "base=4"], out=io.StringIO(), err=io.StringIO()) == 0
    assert calls == ONCE
    # a shape inside a block instance inside a block instance, at base 4 (filters 2 * base)
    assert '"down2/conv/second/conv" -> "down2/conv/second/bn" [label=" (None, 32, 32, 8)"]' in out.read_text()


def test_layer_arguments_are_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once from the catalogue at load; Keras's signatures only for classes the catalogue does not know."""
    checked: list[str] = []
    real = catalogue.check_layer_arguments
    monkeypatch.setattr(catalogue, "check_layer_arguments", lambda name, *a, **k: checked.append(name) or real(name, *a, **k))
    by_signature: list[str] = []
    real_signature = compiler._Compiler.check_arguments
    monkeypatch.setattr(compiler._Compiler, "check_arguments", lambda self, cls, kwargs, sub, name: by_signature.append(name) or real_signature(self, cls, kwargs, sub, name))
    graphspec.build(EXAMPLES / "branch.yaml")
    assert sorted(checked) == ["Concatenate", "Dense", "Dense", "Dense", "Dense"]
    assert by_signature == []


def test_no_private_attribute_is_set_from_outside_its_class() -> None:
    assignments = []
    for path in sorted((ROOT / "graphspec").glob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\b(?!self\b|cls\b)[a-z_][a-z0-9_]*\._[a-z][a-z0-9_]*\s*=[^=]", line):
                assignments.append(f"{path.name}:{number}: {line.strip()}")
    assert assignments == []


# --------------------------------------------------------------------------- every mistake at once

CASES = ROOT / "tests" / "cases"


def validate_lines(*argv: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = cli.main(["validate", *argv], out=out, err=io.StringIO())
    return code, out.getvalue().splitlines()


def test_one_slip_and_four_node_mistakes_are_five_problems_everywhere() -> None:
    path = CASES / "slip_dtype_mapping.yaml"
    code, lines = validate_lines(str(path))
    assert code == 1 and len(lines) == 5 == len(set(lines))
    assert [line.split(": error: ")[0].rsplit(":", 2)[1] for line in lines] == ["2", "5", "6", "7", "8"]
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.build(path)
    assert [p.format() for p in error.value.problems] == lines
    assert validate_lines("--build", str(path)) == (1, lines)


def test_build_reports_static_and_keras_problems_together() -> None:
    path = CASES / "static_and_build_mistakes.yaml"
    code, static = validate_lines(str(path))
    assert code == 1 and [line.rsplit(" ", 1)[1] for line in static] == ["unknown-type]"]
    code, built = validate_lines("--build", str(path))
    assert code == 1 and [line.rsplit(" ", 1)[1] for line in built] == ["unknown-type]", "shape]", "shape]"]
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.build(path)
    assert [p.format() for p in error.value.problems] == built
