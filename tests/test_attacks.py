"""Attack specs: every one is a `graphspec.SpecError`, and none has a side effect.

A spec is untrusted input. Each test feeds a hostile spec to `loads`/`load`/`build` (and
`graphspec validate`) and checks two things: the only exception is `SpecError`, and the
payload did nothing. Payloads that would run a command write a marker file
(``touch MARKER``); the test asserts that the file does not exist afterwards. Payloads
that would import a module name one that nothing else imports (``this``, which also
prints to stdout on import).

An attack found to get through is kept as a test marked ``xfail(strict=True)`` until it
is fixed, so that it turns into a failure (XPASS) then; none is open.
"""

from __future__ import annotations

import io
import json
import os
import resource
import stat
import subprocess
import sys
import textwrap
import unicodedata
from pathlib import Path
from typing import Any

import pytest

import graphspec
from graphspec import Limits, SpecError
from graphspec.cli import main as cli_main
from graphspec.errors import MAX_MESSAGE_CHARS, MAX_PROBLEMS_SHOWN, MAX_SUGGESTIONS
from graphspec.files import remove_stale_temporaries, write_atomic

try:
    from tests import hostile
except ImportError:  # run with tests/ on sys.path
    import hostile  # type: ignore[no-redef]

ROOT = Path(__file__).parent.parent
X = "inputs: {x: {shape: [4]}}\n"
DENSE = X + "nodes:\n  y: {type: Dense, units: 2, from: x}\noutputs: [y]\n"
# The same, escaped for str.format templates.
XT = X.replace("{", "{{").replace("}", "}}")
DT = DENSE.replace("{", "{{").replace("}", "}}")


def q(text: str) -> str:
    """`text` as a YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def spec_error(text: str, *, build: bool = True, **kwargs: Any) -> SpecError:
    """The SpecError that `loads` (or else `build`) raises for `text`; fails on anything else."""
    with pytest.raises(SpecError) as info:
        spec = graphspec.loads(text, file="attack.yaml", **kwargs)
        if build:
            graphspec.build(spec)
    return info.value


def codes(error: SpecError) -> set[str]:
    return {p.code for p in error.problems}


@pytest.fixture
def marker(tmp_path: Path):
    """A path a payload would create; asserted absent after the test."""
    path = tmp_path / "MARKER"
    yield path
    assert not path.exists(), f"a payload ran: {path} was created"


def isolated(statement: str, *, timeout: float = 15, memory: int = 2 * 2**30) -> str:
    """Run `statement` in a fresh interpreter under a time and memory bound.

    Returns ``SpecError <codes>``, ``OTHER <type>``, ``OK`` or ``TIMEOUT``: attacks that
    hang or eat memory today are tried here so that they cannot hang the test run.
    """
    code = textwrap.dedent(
        f"""
        import graphspec
        try:
            {statement}
            print("OK")
        except graphspec.SpecError as error:
            print("SpecError", " ".join(sorted({{p.code for p in error.problems}})))
        except BaseException as error:
            print("OTHER", type(error).__name__)
        """
    )

    def bound() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    try:
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, preexec_fn=bound, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return "TIMEOUT"
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else f"OTHER exit {result.returncode}: {result.stderr[-300:]}"


# -- YAML tags: refused whatever they name, wherever they are -------------------------------------

TAGGED = [
    "!!python/object/apply:os.system [{cmd}]",
    "!!python/object/apply:subprocess.call [[touch, {path}]]",
    "!!python/object/new:os.system [{cmd}]",
    "!!python/object/new:type [x, [], {{}}]",
    "!!python/object:os.system {{}}",
    "!!python/name:os.system",
    "!!python/name:this.s",
    "!!python/module:os",
    "!!python/module:this",
    "!!python/tuple [1, 2]",
    "!!python/str x",
    "!!binary aGVsbG8=",
    "!!set {{a: null}}",
    "!!omap [a: 1]",
    "!!str x",
    "!!int '3'",
    "!!float '1'",
    "!!map {{a: 1}}",
    "!!seq [1]",
    "!!null ''",
    "!custom x",
    "!<tag:yaml.org,2002:python/object/apply:os.system> [{cmd}]",
]


@pytest.mark.parametrize("payload", TAGGED)
@pytest.mark.parametrize(
    "where",
    [
        "top: {p}\n" + DT,
        XT + "nodes:\n  y: {{type: Dense, units: {p}, from: x}}\noutputs: [y]\n",
        XT + "nodes:\n  y:\n    type: Dense\n    units:\n      - {p}\n    from: x\noutputs: [y]\n",
        "params:\n  a: [1, {p}]\n" + DT,
        XT + "nodes:\n  ? {p}\n  : {{type: Dense, units: 2, from: x}}\noutputs: [y]\n",
    ],
    ids=["top-level", "flow-argument", "block-sequence", "param-list", "key"],
)
def test_every_tag_is_refused_and_nothing_runs(payload: str, where: str, marker: Path, capsys) -> None:
    already = "this" in sys.modules
    text = where.format(p=payload.format(cmd=q(f"touch {marker}"), path=q(str(marker))))
    error = spec_error(text, build=False)
    # In a flow mapping some tags swallow the ',' that follows: then it is a syntax error.
    assert codes(error) & {"yaml-tag", "yaml-syntax"}, str(error)
    assert all(p.line > 0 for p in error.problems)
    assert already or "this" not in sys.modules, "a tag imported a module"
    assert "Zen of Python" not in capsys.readouterr().out


def test_tag_directive_shorthand_is_refused(marker: Path) -> None:
    text = f"%TAG !p! tag:yaml.org,2002:python/\n---\ntop: !p!object/apply:os.system [{q('touch ' + str(marker))}]\n" + DENSE
    assert "yaml-tag" in codes(spec_error(text, build=False))


def test_tags_are_refused_by_load_and_validate(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "tagged.yaml"
    path.write_text(f"top: !!python/object/apply:os.system [{q('touch ' + str(marker))}]\n" + DENSE)
    with pytest.raises(SpecError):
        graphspec.load(path)
    with pytest.raises(SpecError):
        graphspec.build(path)
    with open(os.devnull, "w") as sink:
        assert cli_main(["validate", str(path)], out=sink, err=sink) == 1


# -- layer types that would reach code ------------------------------------------------------------

@pytest.mark.parametrize(
    "type_name",
    [
        "os.system",
        "os",
        "__import__",
        "eval",
        "exec",
        "keras.layers.Lambda",
        "keras.layers.Dense",  # dotted module paths are never followed, not even into Keras
        "keras.src.layers.Lambda",
        "tensorflow.keras.layers.Lambda",
        "builtins.eval",
        "subprocess.Popen",
        "keras>Lambda",
        "__class__",
        "__builtins__",
        "_Lambda",
        "Layer.__subclasses__",
        "Lambda ",
        " Lambda",
        "lambda",
    ],
)
def test_layer_type_names_never_import(type_name: str) -> None:
    text = X + f"nodes:\n  y: {{type: {q(type_name)}, from: x}}\noutputs: [y]\n"
    assert codes(spec_error(text)) & {"unknown-type", "refused"}


REFUSED_NODES = {
    "Lambda": "{type: Lambda, function: os.system, from: x}",
    "TFSMLayer": "{type: TFSMLayer, filepath: %(dir)s, from: x}",
    "TorchModuleWrapper": "{type: TorchModuleWrapper, module: os, from: x}",
    "JaxLayer": "{type: JaxLayer, call_fn: os.system, init_fn: os.system, from: x}",
    "FlaxLayer": "{type: FlaxLayer, module: os, from: x}",
}


@pytest.mark.parametrize("name", sorted(REFUSED_NODES))
def test_refused_layers_as_nodes(name: str, tmp_path: Path) -> None:
    node = REFUSED_NODES[name] % {"dir": q(str(tmp_path))}
    error = spec_error(X + f"nodes:\n  y: {node}\noutputs: [y]\n")
    assert "refused" in codes(error)
    assert name in str(error)


@pytest.mark.parametrize("name", sorted(REFUSED_NODES))
def test_refused_layers_are_refused_by_load_and_validate(name: str, tmp_path: Path) -> None:
    """`validate` (no build) must not call a spec clean that `build` refuses."""
    node = REFUSED_NODES[name] % {"dir": q(str(tmp_path))}
    path = tmp_path / "refused.yaml"
    path.write_text(X + f"nodes:\n  y: {node}\n  z: {{type: TimeDistributed, layer: {node.replace(', from: x', '')}, from: x}}\noutputs: [y, z]\n")
    with pytest.raises(SpecError) as info:
        graphspec.load(path)
    assert "refused" in codes(info.value)
    with open(os.devnull, "w") as sink:
        assert cli_main(["validate", str(path)], out=sink, err=sink) == 1


@pytest.mark.parametrize("name", sorted(REFUSED_NODES))
@pytest.mark.parametrize(
    "template",
    [
        "inputs: {x: {shape: [3, 4]}}\nnodes:\n  y: {type: TimeDistributed, layer: {type: %s, filepath: /nonexistent}, from: x}\noutputs: [y]\n",
        "inputs: {x: {shape: [3, 4]}}\nnodes:\n  y: {type: Bidirectional, layer: {type: %s}, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, kernel_initializer: {type: %s}, from: x}\noutputs: [y]\n",
        DENSE + "compile: {optimizer: {type: %s}, loss: mse}\n",
        DENSE + "compile: {optimizer: adam, loss: {type: %s}}\n",
        DENSE + "compile: {optimizer: adam, loss: mse, metrics: [{type: %s}]}\n",
        X + "blocks:\n  b:\n    inputs: [i]\n    nodes:\n      n: {type: %s, from: i}\n    outputs: [n]\nnodes:\n  y: {block: b, from: x}\noutputs: [y]\n",
        X + "nodes:\n  a: {type: %s, from: x}\n  y: {share: a, from: x}\noutputs: [y]\n",
    ],
    ids=["wrapper-layer", "bidirectional", "initializer", "optimizer", "loss", "metric", "in-block", "shared"],
)
def test_refused_layers_everywhere(name: str, template: str) -> None:
    error = spec_error(template % name)
    assert codes(error) & {"refused", "unknown-type"}, str(error)


# -- payload strings in every position -------------------------------------------------------------

PAYLOADS = [
    "__import__('os').system('touch {m}')",
    "os.system",
    "exec(\"open('{m}', 'w').close()\")",
    "keras.layers.Lambda",
    "lambda: __import__('os').system('touch {m}')",
]

# Positions where a payload string must be reported as a SpecError.
POSITIONS = {
    "node name": XT + "nodes:\n  {p}: {{type: Dense, units: 2, from: x}}\noutputs: [{p}]\n",
    "input name": "inputs: {{{p}: {{shape: [4]}}}}\nnodes:\n  y: {{type: Dense, units: 2, from: {p}}}\noutputs: [y]\n",
    "output name": XT + "nodes:\n  y: {{type: Dense, units: 2, from: x}}\noutputs: {{{p}: y}}\n",
    "type": XT + "nodes:\n  y: {{type: {p}, from: x}}\noutputs: [y]\n",
    "merge": XT + "nodes:\n  y: {{merge: {p}, from: [x, x]}}\noutputs: [y]\n",
    "share": XT + "nodes:\n  y: {{share: {p}, from: x}}\noutputs: [y]\n",
    "block": XT + "nodes:\n  y: {{block: {p}, from: x}}\noutputs: [y]\n",
    "from": XT + "nodes:\n  y: {{type: Dense, units: 2, from: {p}}}\noutputs: [y]\n",
    "from mapping": XT + "nodes:\n  y: {{type: Dense, units: 2, from: {{inputs: {p}}}}}\noutputs: [y]\n",
    "outputs": XT + "nodes:\n  y: {{type: Dense, units: 2, from: x}}\noutputs: [{p}]\n",
    "units": XT + "nodes:\n  y: {{type: Dense, units: {p}, from: x}}\noutputs: [y]\n",
    "activation": XT + "nodes:\n  y: {{type: Dense, units: 2, activation: {p}, from: x}}\noutputs: [y]\n",
    "Activation layer": XT + "nodes:\n  y: {{type: Activation, activation: {p}, from: x}}\noutputs: [y]\n",
    "kernel_initializer": XT + "nodes:\n  y: {{type: Dense, units: 2, kernel_initializer: {p}, from: x}}\noutputs: [y]\n",
    "bias_regularizer": XT + "nodes:\n  y: {{type: Dense, units: 2, bias_regularizer: {p}, from: x}}\noutputs: [y]\n",
    "kernel_constraint": XT + "nodes:\n  y: {{type: Dense, units: 2, kernel_constraint: {p}, from: x}}\noutputs: [y]\n",
    "layer dtype": XT + "nodes:\n  y: {{type: Dense, units: 2, dtype: {p}, from: x}}\noutputs: [y]\n",
    "padding": "inputs: {{x: {{shape: [8, 3]}}}}\nnodes:\n  y: {{type: Conv1D, filters: 2, kernel_size: 3, padding: {p}, from: x}}\noutputs: [y]\n",
    "argument name": XT + "nodes:\n  y: {{type: Dense, units: 2, {p}: 1, from: x}}\noutputs: [y]\n",
    "nested type": XT + "nodes:\n  y: {{type: Dense, units: 2, kernel_initializer: {{type: {p}}}, from: x}}\noutputs: [y]\n",
    "nested argument": XT + "nodes:\n  y: {{type: Dense, units: 2, kernel_initializer: {{type: HeNormal, seed: {p}}}, from: x}}\noutputs: [y]\n",
    "wrapper layer": "inputs: {{x: {{shape: [3, 4]}}}}\nnodes:\n  y: {{type: TimeDistributed, layer: {p}, from: x}}\noutputs: [y]\n",
    "param used as units": "params: {{a: {p}}}\n" + XT + "nodes:\n  y: {{type: Dense, units: $a, from: x}}\noutputs: [y]\n",
    "param used as activation": "params: {{a: {p}}}\n" + XT + "nodes:\n  y: {{type: Dense, units: 2, activation: $a, from: x}}\noutputs: [y]\n",
    "param name": "params: {{{p}: 1}}\n" + DT,
    "param in expression": "params: {{a: {p}}}\n" + XT + "nodes:\n  y: {{type: Dense, units: $(a * 2), from: x}}\noutputs: [y]\n",
    "override": "params: {{a: 2}}\n" + XT + "nodes:\n  y: {{type: Dense, units: $a, from: x}}\noutputs: [y]\n",
    "input dtype": "inputs: {{x: {{shape: [4], dtype: {p}}}}}\nnodes:\n  y: {{type: Dense, units: 2, from: x}}\noutputs: [y]\n",
    "input shape": "inputs: {{x: {{shape: {p}}}}}\nnodes:\n  y: {{type: Dense, units: 2, from: x}}\noutputs: [y]\n",
    "input shape element": "inputs: {{x: {{shape: [{p}]}}}}\nnodes:\n  y: {{type: Dense, units: 2, from: x}}\noutputs: [y]\n",
    "input option": "inputs: {{x: {{shape: [4], sparse: {p}}}}}\nnodes:\n  y: {{type: Dense, units: 2, from: x}}\noutputs: [y]\n",
    "repeat": XT + "nodes:\n  y: {{type: Dense, units: 2, from: x, repeat: {p}}}\noutputs: [y]\n",
    "block name": XT + "blocks:\n  {p}:\n    inputs: [i]\n    nodes: {{n: {{type: Dense, units: 2, from: i}}}}\n    outputs: [n]\nnodes:\n  y: {{block: {p}, from: x}}\noutputs: [y]\n",
    "block input": XT + "blocks:\n  b:\n    inputs: [{p}]\n    nodes: {{n: {{type: Dense, units: 2, from: {p}}}}}\n    outputs: [n]\nnodes:\n  y: {{block: b, from: x}}\noutputs: [y]\n",
    "block param": XT + "blocks:\n  b:\n    params: {{u: null}}\n    inputs: [i]\n    nodes: {{n: {{type: Dense, units: $u, from: i}}}}\n    outputs: [n]\nnodes:\n  y: {{block: b, u: {p}, from: x}}\noutputs: [y]\n",
    "compile optimizer": DT + "compile: {{optimizer: {p}, loss: mse}}\n",
    "compile optimizer type": DT + "compile: {{optimizer: {{type: {p}}}, loss: mse}}\n",
    "compile loss type": DT + "compile: {{optimizer: adam, loss: {{type: {p}}}}}\n",
    "compile loss_weights": DT + "compile: {{optimizer: adam, loss: mse, loss_weights: {p}}}\n",
    "compile run_eagerly": DT + "compile: {{optimizer: adam, loss: mse, run_eagerly: {p}}}\n",
    "imports": "imports: [{p}]\n" + DT,
    "version": "graphspec: {p}\n" + DT,
    "top-level key": "{p}: 1\n" + DT,
    "expect params": DT + "expect: {{params: {p}}}\n",
    "expect shapes": DT + "expect: {{shapes: {{y: [{p}]}}}}\n",
}

POSITIONS.update(
    {
        "compile loss": DT + "compile: {{optimizer: adam, loss: {p}}}\n",
        "compile loss by output": DT.replace("outputs: [y]", "outputs: {{o: y}}") + "compile: {{optimizer: adam, loss: {{o: {p}}}}}\n",
        "compile metrics": DT + "compile: {{optimizer: adam, loss: mse, metrics: [{p}]}}\n",
        "compile metrics by output": DT.replace("outputs: [y]", "outputs: {{o: y}}") + "compile: {{optimizer: adam, loss: mse, metrics: {{o: [{p}]}}}}\n",
        "compile weighted_metrics": DT + "compile: {{optimizer: adam, loss: mse, weighted_metrics: [{p}]}}\n",
    }
)


def _cases() -> list[Any]:
    return [pytest.param(position, template, payload, id=f"{position}-{index}") for position, template in POSITIONS.items() for index, payload in enumerate(PAYLOADS)]


@pytest.mark.parametrize("position, template, payload", _cases())
def test_payload_strings_in_every_position(position: str, template: str, payload: str, marker: Path) -> None:
    text = template.format(p=q(payload.format(m=marker)))
    params = {"a": payload.format(m=marker)} if position == "override" else None
    with pytest.raises(SpecError):
        spec = graphspec.loads(text, file="attack.yaml", params=params)
        graphspec.build(spec, params=params)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_as_model_name_is_inert(payload: str, marker: Path) -> None:
    """A model name is only a string: it may be refused by Keras or kept, never run."""
    text = f"name: {q(payload.format(m=marker))}\n" + DENSE
    try:
        model = graphspec.build(graphspec.loads(text))
    except SpecError:
        return
    assert model.name == payload.format(m=marker)


def test_payload_in_unused_param_is_inert(marker: Path) -> None:
    text = f"params: {{a: {q(PAYLOADS[0].format(m=marker))}, b: {q('$$(__import__(1))')}}}\n" + DENSE
    model = graphspec.build(graphspec.loads(text))
    assert model.count_params() == 10


def test_cli_param_override_payload_is_not_evaluated(tmp_path: Path, marker: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("params: {a: 2}\n" + X + "nodes:\n  y: {type: Dense, units: $a, from: x}\noutputs: [y]\n")
    for value in (PAYLOADS[0].format(m=marker), f"$({PAYLOADS[0].format(m=marker)})", "[!!python/object/apply:os.system [x]]"):
        with open(os.devnull, "w") as sink:
            code = cli_main(["validate", "--build", str(path), "--param", f"a={value}"], out=sink, err=sink)
        assert code in (1, 2)


# -- $(...) expressions: arithmetic only ----------------------------------------------------------

EXPRESSIONS = [
    '__import__("os")',
    "__import__('os').system('touch {m}')",
    "open('{m}', 'w')",
    "exec('1')",
    "eval('1')",
    "a.__class__",
    "a.real",
    "().__class__.__bases__[0].__subclasses__()",
    "__builtins__",
    "lambda: 1",
    "(lambda: 1)()",
    "[i for i in (1, 2)]",
    "{{i: 1 for i in (1,)}}",
    "sum(i for i in (1, 2))",
    "[1, 2]",
    "(1, 2)",
    "{{1: 2}}",
    "{{1}}",
    "a[0]",
    "a if a else 1",
    "a < 2",
    "a == 2",
    "a and 1",
    "not a",
    "~a",
    "a << 2",
    "a | 1",
    "a @ a",
    "(b := 1)",
    "'abc'",
    "b'abc'",
    "f'{{a}}'",
    "True + 1",
    "None",
    "...",
    "1j",
    "1; __import__('os')",
    "import os",
    "yield 1",
    "await a",
    "*a",
    "a, 1",
    "a.__class__.__mro__",
    "globals()",
    "vars()",
    "getattr(a, 'real')",
    "\n__import__('os')",
    "",
    " ",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_expressions_are_arithmetic_only(expression: str, marker: Path) -> None:
    value = "$(" + expression.format(m=marker) + ")"
    text = f"params: {{a: 2, v: {q(value)}}}\n" + X + "nodes:\n  y: {type: Dense, units: $v, from: x}\noutputs: [y]\n"
    error = spec_error(text, build=False)
    assert codes(error) & {"bad-expression", "bad-param", "unknown-param"}, str(error)


@pytest.mark.parametrize(
    "expression",
    [
        "10 ** 10 ** 10",
        "9**9**9",
        "9 ** 9 ** 9 ** 9",
        "2 ** 64 ** 2",
        "(10 ** 15) * (10 ** 15) * (10 ** 15)",
        "(-10) ** 999",
        "2 ** 0.5 ** -1000",
        "1e308 * 10",
        "1e308 ** 2",
        "(-8) ** 0.5",
        "1 / 0",
        "1 // 0",
        "1 % 0",
        "0 ** -1",
        "1.5 % 0.0",
        "-(" * 60 + "10 ** 20" + ")" * 60,
        "(" * 300 + "1" + ")" * 300,
        "1" + "+1" * 300,
        "9" * 501,
        "2 ** 65",
        "2.0 ** 1000",
    ],
)
def test_huge_or_broken_expressions_fail_fast(expression: str) -> None:
    text = f"params: {{v: {q('$(' + expression + ')')}}}\n" + DENSE
    error = spec_error(text, build=False)
    assert "bad-expression" in codes(error), str(error)


@pytest.mark.parametrize(
    "expression, value",
    [("(" * 150 + "1" + ")" * 150, 1), ("-" * 494 + "1", 1), ("1" + "+1" * 240, 241), ("2 ** 49", 2**49), ("-(10 ** 15)", -(10**15))],
    ids=["parens-150", "unary-494", "sum-241", "power", "bound"],
)
def test_deep_but_legal_expressions_evaluate_fast(expression: str, value: int) -> None:
    text = f"params: {{v: {q('$(' + expression + ')')}}}\n" + DENSE
    graphspec.loads(text)
    from graphspec.params import Scope, evaluate

    assert evaluate(expression, Scope({})) == value


@pytest.mark.parametrize("expression", ["1e999", "-1e999", "10000000000000000000000", "9" * 400, "1e300"])
def test_expression_constants_are_bounded(expression: str) -> None:
    text = f"params: {{v: {q('$(' + expression + ')')}}}\n" + DENSE
    assert "bad-expression" in codes(spec_error(text, build=False))


# -- safe_mode and Keras's deserializer -----------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "safe_mode: false\n" + DENSE,
        DENSE + "compile: {optimizer: adam, loss: mse, safe_mode: false}\n",
        X + "nodes:\n  y: {type: Dense, units: 2, safe_mode: false, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, kernel_initializer: {type: GlorotUniform, safe_mode: false}, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: enable_unsafe_deserialization, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: SafeModeScope, safe_mode: false, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, activation: enable_unsafe_deserialization, from: x}\noutputs: [y]\n",
        # Keras configs that reach non-modeling or unsafe APIs: Keras's safe mode refuses them.
        X + "nodes:\n  y: {type: Dense, units: 2, activation: {module: keras.config, class_name: enable_unsafe_deserialization, config: {}}, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, activation: {module: keras.utils, class_name: get_file, config: {fname: a, origin: 'http://127.0.0.1:9/x'}}, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Activation, activation: {module: keras.layers, class_name: TFSMLayer, config: {filepath: /nonexistent}}, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, activation: {class_name: __lambda__, config: {value: [abc, null, null]}}, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, activation: {module: os, class_name: system, config: {}}, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, activation: {module: builtins, class_name: function, config: eval}, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, kernel_initializer: {module: os, class_name: system, config: {command: touch}}, from: x}\noutputs: [y]\n",
        DENSE + "compile: {optimizer: {module: os, class_name: system, config: {}}, loss: mse}\n",
    ],
)
def test_safe_mode_cannot_be_turned_off_by_a_spec(text: str) -> None:
    spec_error(text)


def _lambda_config(marker: Path, initializer: bool) -> str:
    from keras.src.utils import python_utils

    if initializer:
        function = eval(f"lambda shape, dtype=None: (__import__('os').system('touch {marker}'), __import__('keras').ops.zeros(shape))[1]")
    else:
        function = eval(f"lambda *a: (__import__('os').system('touch {marker}'), a[0])[1]")
    return f"{{class_name: __lambda__, config: {{value: {json.dumps(python_utils.func_dump(function))}}}}}"


@pytest.mark.parametrize("where", ["kernel_initializer", "activation", "loss"])
def test_spec_runs_no_code_even_when_the_host_enabled_unsafe_deserialization(where: str, marker: Path) -> None:
    import keras
    import numpy as np
    from keras.src.saving import serialization_lib

    config = _lambda_config(marker, initializer=where == "kernel_initializer")
    if where == "loss":
        text = DENSE + f"compile: {{optimizer: adam, loss: {config}}}\n"
    else:
        text = X + f"nodes:\n  y: {{type: Dense, units: 2, {where}: {config}, from: x}}\noutputs: [y]\n"
    previous = serialization_lib.in_safe_mode()
    keras.config.enable_unsafe_deserialization()  # what a host does to load its own trusted .keras file
    try:
        with pytest.raises(SpecError):
            model = graphspec.build(graphspec.loads(text))
            model.predict(np.zeros((1, 4)), verbose=0)
            if where == "loss":
                model.fit(np.zeros((2, 4)), np.zeros((2, 2)), epochs=1, verbose=0)
    finally:
        serialization_lib.global_state.set_global_attribute("safe_mode_saving", previous)
        assert not marker.exists(), "the spec ran code"


def test_refused_layer_cannot_come_back_as_a_keras_config() -> None:
    config = "{module: keras.layers, class_name: Lambda, config: {function: {module: keras.activations, class_name: function, config: relu, registered_name: relu}}}"
    text = X + f"nodes:\n  y: {{type: Activation, activation: {config}, from: x}}\noutputs: [y]\n"
    spec_error(text)


@pytest.mark.parametrize("layer, dtype", [("StringLookup", "string"), ("TextVectorization", "string"), ("IntegerLookup", "int64")])
def test_a_spec_reads_no_local_file(layer: str, dtype: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("41\n42\n")
    text = f"inputs: {{x: {{shape: [1], dtype: {dtype}}}}}\nnodes:\n  y: {{type: {layer}, vocabulary: {q(str(secret))}, from: x}}\noutputs: [y]\n"
    spec_error(text)


# -- YAML bombs, merge keys, nesting, size ---------------------------------------------------------

def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n" + DENSE.replace("units: 2", f"units: 2, bias_initializer: {{type: Constant, value: *a{levels}}}")


@pytest.mark.parametrize(
    "text",
    [
        billion_laughs(),
        billion_laughs(20),
        "a: &a [" + ", ".join(["x"] * 2000) + "]\nb: &b [" + ", ".join(["*a"] * 2000) + "]\n" + DENSE,
        "\n".join(["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]" for i in range(1, 60)]),
        "\n".join(["a0: &a0 {k: 1}"] + [f"a{i}: &a{i} {{k: *a{i - 1}, j: *a{i - 1}}}" for i in range(1, 60)]),
    ],
    ids=["lol9", "lol20", "wide", "doubling-lists", "doubling-maps"],
)
def test_alias_bombs_fail_fast(text: str) -> None:
    error = spec_error(text, build=False)
    assert "limit" in codes(error)


def test_alias_bomb_under_a_small_budget() -> None:
    text = "params:\n  a: &a [1, 2, 3, 4]\n  b: [*a, *a, *a, *a]\n" + DENSE
    graphspec.loads(text)  # a few dozen values: well under the default budget
    assert "limit" in codes(spec_error(text, build=False, limits=Limits(max_values=20)))


@pytest.mark.parametrize("text", ["a: &a [*a]", "a: &a {b: *a}", "a: &a [1, [2, *a]]"])
def test_recursive_aliases_are_refused(text: str) -> None:
    # PyYAML's Python parser composes the loop (refused by the expansion count); libyaml
    # reports the alias as used before its anchor is complete.
    assert codes(spec_error(text, build=False)) & {"limit", "yaml-syntax"}


@pytest.mark.parametrize(
    "text",
    [
        "base: &base {type: Dense, units: 2}\n" + X + "nodes:\n  y: {<<: *base, from: x}\noutputs: [y]\n",
        "base: &base {type: Dense, units: 2}\n" + X + "nodes:\n  y:\n    <<: *base\n    from: x\noutputs: [y]\n",
        "a: &a {units: 2}\nb: &b {type: Dense}\n" + X + "nodes:\n  y: {<<: [*a, *b], from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, from: x, kernel_initializer: {type: HeNormal, <<: {seed: 1}}}\noutputs: [y]\n",
        "<<: {inputs: {x: {shape: [4]}}}\nnodes:\n  y: {type: Dense, units: 2, from: x}\noutputs: [y]\n",
        "l1: &l1 {a: 1}\n" + "".join(f"l{i}: &l{i} {{<<: *l{i - 1}, k{i}: {i}}}\n" for i in range(2, 30)) + DENSE,
        "deep:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 30)) + "  " * 30 + "<<: {a: 1}\n" + DENSE,
        "x: " + "[" * 20 + "{<<: {a: 1}}" + "]" * 20 + "\n" + DENSE,
    ],
    ids=["flow", "block", "list-of-merges", "nested-argument", "top-level", "chain", "deep-block", "deep-flow"],
)
def test_merge_keys_are_refused_at_any_depth(text: str) -> None:
    assert "yaml-merge-key" in codes(spec_error(text, build=False))


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 100 + "]" * 100 + "\n" + DENSE,
        "a: " + "{a: " * 100 + "1" + "}" * 100 + "\n" + DENSE,
        "a:\n" + "".join("  " * i + "- \n" for i in range(1, 101)),
        "a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 101)) + "  " * 101 + "1\n",
        X + "nodes:\n  y: {type: Dense, units: 2, from: x, kernel_initializer: " + "{type: HeNormal, seed: " * 100 + "1" + "}" * 100 + "}\noutputs: [y]\n",
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "a: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
        "".join("  " * i + "a:\n" for i in range(3000)) + "  " * 3000 + "1\n",
        "- " * 3000 + "1\n",
        "params: {a: " + "[" * 100 + "1" + "]" * 100 + "}\n" + DENSE,
    ],
    ids=["flow-seq-100", "flow-map-100", "block-seq-100", "block-map-100", "argument-100", "flow-seq-5000", "flow-map-5000", "block-map-3000", "compact-seq-3000", "param-100"],
)
def test_deep_nesting_fails_fast(text: str) -> None:
    error = spec_error(text, build=False)
    assert "limit" in codes(error), str(error)


def test_nesting_limit_is_the_callers() -> None:
    text = "params: {a: " + "[" * 70 + "1" + "]" * 70 + "}\n" + DENSE
    assert "limit" in codes(spec_error(text, build=False))
    graphspec.loads(text, limits=Limits(max_depth=100))


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    padding = "#" * (Limits().max_bytes + 1) + "\n"
    path = tmp_path / "huge.yaml"
    path.write_text(DENSE + padding)
    for attempt in (lambda: graphspec.loads(DENSE + padding), lambda: graphspec.load(path), lambda: graphspec.build(path)):
        with pytest.raises(SpecError) as info:
            attempt()
        assert "limit" in codes(info.value)
    # The size counts bytes, not characters, and the caller may raise it.
    assert "limit" in codes(spec_error(DENSE + "# " + "é" * 60 + "\n", build=False, limits=Limits(max_bytes=len(DENSE) + 100)))
    graphspec.loads(DENSE + padding, limits=Limits(max_bytes=Limits().max_bytes * 2))


def test_imported_library_over_the_size_limit(tmp_path: Path) -> None:
    (tmp_path / "lib.yaml").write_text("blocks: {}\n" + "#" * 2000 + "\n")
    (tmp_path / "main.yaml").write_text("imports: [lib.yaml]\n" + DENSE)
    with pytest.raises(SpecError) as info:
        graphspec.load(tmp_path / "main.yaml", limits=Limits(max_bytes=1000))
    assert "limit" in codes(info.value)


def test_imports_do_not_leave_the_tree(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("blocks: {}\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "link.yaml").symlink_to(outside)
    for target in ("../outside.yaml", str(outside), "link.yaml", "/etc/passwd", "/dev/zero", "/proc/self/environ"):
        (inner / "main.yaml").write_text(f"imports: [{q(target)}]\n" + DENSE)
        with pytest.raises(SpecError) as info:
            graphspec.load(inner / "main.yaml")
        assert "import-outside" in codes(info.value), target


# -- node counts: repeat and blocks ----------------------------------------------------------------

def test_blocks_of_blocks_hit_max_nodes() -> None:
    text = hostile.blocks_of_blocks(7)  # 10**7 nodes from ~80 lines
    error = spec_error(text, build=False, limits=Limits(max_nodes=5000))
    assert "limit" in codes(error)
    assert "limit of 5,000" in str(error)


def test_blocks_of_blocks_default_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(hostile.blocks_of_blocks(7))
    with pytest.raises(SpecError) as info:
        graphspec.build(path)
    assert "limit" in codes(info.value)


def instantiated_nodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The nodes the expand stage instantiates from now on (the work a bomb would cost)."""
    from graphspec.resolve import _Resolver

    names: list[str] = []
    real = _Resolver.node
    monkeypatch.setattr(_Resolver, "node", lambda self, name, *args: names.append(name) or real(self, name, *args))
    return names


def test_blocks_of_blocks_fail_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 1 KB file must not cost seconds of CPU: the expansion is countable before it happens.

    (benchmarks/bench_fail_fast.py times it.)
    """
    instantiated = instantiated_nodes(monkeypatch)
    assert "limit" in codes(spec_error(hostile.blocks_of_blocks(7), build=False, limits=Limits(max_nodes=100_000)))
    assert instantiated == []  # refused before one node of the 10**7 is made


def test_build_checks_limits_before_building_anything(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = graphspec.loads(hostile.blocks_of_blocks(3), limits=Limits(max_nodes=10_000))  # 1,000 Dense layers
    from graphspec import compiler

    def no_keras(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("Keras was asked to build a spec past its limits")

    monkeypatch.setattr(compiler, "compile_model", no_keras)
    with pytest.raises(SpecError) as info:
        graphspec.build(spec, limits=Limits(max_nodes=100))
    assert "limit" in codes(info.value)


def test_repeat_a_million_hits_max_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    text = X + "nodes:\n  y: {type: Dense, units: 4, from: x, repeat: 1000000}\noutputs: [y]\n"
    instantiated = instantiated_nodes(monkeypatch)
    error = spec_error(text, build=False)
    assert "limit" in codes(error)
    assert len(instantiated) <= 1  # the copies are counted, never made


def test_repeated_block_with_repeated_node_hits_max_nodes() -> None:
    text = X + (
        "blocks:\n  b:\n    inputs: [i]\n    nodes:\n      n: {type: Dense, units: 4, from: i, repeat: 1000}\n    outputs: [n]\n"
        "nodes:\n  y: {block: b, from: x, repeat: 1000}\noutputs: [y]\n"
    )
    assert "limit" in codes(spec_error(text, build=False))


@pytest.mark.parametrize("count", ["1000000000000", "$(10 ** 15)", "$(10**14 * 9)", "1_000_000_000_000_000"])
def test_astronomical_repeat_fails_fast(count: str) -> None:
    text = X + f"nodes:\n  y: {{type: Dense, units: 4, from: x, repeat: {count}}}\noutputs: [y]\n"
    assert isolated(f"graphspec.loads({text!r})", timeout=10, memory=1 * 2**30) == "SpecError limit"


def test_repeat_under_the_limit_is_fine() -> None:
    text = X + "nodes:\n  y: {type: Dense, units: 4, from: x, repeat: 50}\noutputs: [y]\n"
    assert graphspec.loads(text).nodes["y"].repeat == 50


# -- text that is not YAML -------------------------------------------------------------------------

@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\ud800", "\udfff", "\ufffe", "\x7f"])
def test_non_printable_characters(character: str) -> None:
    spec_error("a: " + character + "\n" + DENSE, build=False)


def test_validate_file_with_a_nul_byte(tmp_path: Path) -> None:
    path = tmp_path / "nul.yaml"
    path.write_bytes(b"a: \x00\n")
    with open(os.devnull, "w") as sink:
        assert cli_main(["validate", str(path)], out=sink, err=sink) == 1


def test_validate_binary_and_non_utf8_files(tmp_path: Path) -> None:
    for name, data in (("latin1.yaml", "a: \xe9\n".encode("latin-1")), ("gzip.yaml", b"\x1f\x8b\x08\x00" + bytes(range(256)) * 4), ("utf16.yaml", DENSE.encode("utf-16"))):
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(SpecError):
            graphspec.load(path)
        with open(os.devnull, "w") as sink:
            assert cli_main(["validate", str(path)], out=sink, err=sink) in (1, 2)


@pytest.mark.parametrize(
    "where",
    [
        "a: {n}\n" + DENSE,
        X + "nodes:\n  y: {type: Dense, units: {n}, from: x}\noutputs: [y]\n",
        "params: {a: {n}}\n" + X + "nodes:\n  y: {type: Dense, units: $(a * 2), from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, from: x, repeat: {n}}\noutputs: [y]\n",
        "inputs: {x: {shape: [{n}]}}\nnodes:\n  y: {type: Dense, units: 2, from: x}\noutputs: [y]\n",
        X + "nodes:\n  y: {type: Dense, units: 2, from: x}\noutputs: [y]\nexpect: {params: {n}}\n",
    ],
    ids=["unknown-key", "units", "expression", "repeat", "shape", "expect"],
)
def test_very_long_integers(where: str) -> None:
    spec_error(where.replace("{n}", "9" * 5000))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_loading_an_endless_file_is_bounded() -> None:
    assert isolated("graphspec.load('/dev/zero')", timeout=10, memory=1 * 2**30).startswith("SpecError")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs mkfifo")
def test_loading_a_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert isolated(f"graphspec.load({str(fifo)!r})", timeout=5).startswith("SpecError")


def test_validate_directory_skips_special_files(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(DENSE)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "loop").symlink_to(tmp_path)
    with open(os.devnull, "w") as sink:
        assert cli_main(["validate", str(tmp_path)], out=sink, err=sink) == 0


# -- nothing is written, nothing is imported -------------------------------------------------------

def test_loading_attacks_imports_no_framework_and_writes_nothing(tmp_path: Path) -> None:
    """In a fresh interpreter, `load` of every attack leaves TensorFlow and Keras unimported."""
    texts = [billion_laughs(), "a: !!python/module:this\n" + DENSE, X + "nodes:\n  y: {type: Lambda, from: x}\noutputs: [y]\n",
             "params: {v: '$(__import__(\"os\"))'}\n" + DENSE, hostile.blocks_of_blocks(4)]
    for i, text in enumerate(texts):
        (tmp_path / f"attack{i}.yaml").write_text(text)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = (
        "import sys, glob, graphspec\n"
        f"for path in sorted(glob.glob({str(tmp_path / '*.yaml')!r})):\n"
        "    try:\n        graphspec.load(path)\n    except graphspec.SpecError:\n        pass\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'this', 'subprocess') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] in ("[]", "['subprocess']"), result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# -- output and CPU amplification ------------------------------------------------------------------

def test_many_unknown_refs_are_reported_fast() -> None:
    lines = [X.rstrip(), "nodes:"] + [f"  node_{i:06d}: {{type: Dense, units: 2, from: nodz_{i:06d}}}" for i in range(1000)]
    text = "\n".join(lines + ["outputs: [node_000000]"]) + "\n"
    assert isolated(f"graphspec.loads({text!r})", timeout=8) == "SpecError unknown-ref"  # ~1 minute today


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_validate_output_has_no_control_characters(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "esc.yaml"
    path.write_text('"\\e]0;pwned\\a\\e[2J": 1\n' + X + 'nodes:\n  y: {type: Dense, units: 2, from: "\\e[31mx"}\noutputs: [y]\n')
    out = io.StringIO()
    assert cli_main(["validate", "--format", fmt, str(path)], out=out, err=out) == 1
    text = out.getvalue()
    assert "unknown" in text
    assert not [c for c in text if unicodedata.category(c) == "Cc" and c != "\n"], repr(text)


@pytest.mark.parametrize("ref", ["1", "null", "2.5", "[x]", "{a: x}", "true"])
def test_non_string_refs_in_a_from_list(ref: str) -> None:
    """Found by tests/fuzz/fuzz_load.py: `from: [h_,2, z]`."""
    spec_error(X + f"nodes:\n  y: {{type: Dense, units: 2, from: [x, {ref}]}}\noutputs: [y]\n", build=False)


# -- second round (issue 13): only SpecError escapes, and every limit counts the work it bounds ----
# The inputs are generated by tests/hostile.py, which benchmarks/bench_hostile.py times.



def case_outcome(case: hostile.Case, folder: Path) -> SpecError | None:
    """Run a case as `load` (and `build`); its SpecError, None for a model, a failure for anything else."""
    path = case.write(folder)
    try:
        spec = graphspec.load(path)
        if case.action == "build":
            graphspec.build(spec)
    except SpecError as error:
        assert error.problems
        text = str(error)  # formatting never raises either
        assert len(text) < (MAX_PROBLEMS_SHOWN + 1) * 3 * MAX_MESSAGE_CHARS, len(text)
        return error
    return None


def expect_case(case: hostile.Case, folder: Path) -> SpecError | None:
    error = case_outcome(case, folder)
    if case.builds:
        assert error is None, str(error)[:2000]
    else:
        assert error is not None, f"{case.name} built"
        assert case.codes <= codes(error), (case.codes, str(error)[:2000])
    return error


@pytest.mark.parametrize("position", sorted(hostile.HUGE_INT_POSITIONS))
@pytest.mark.parametrize("kind", sorted(hostile.HUGE_VALUES))
def test_huge_integers_are_refused_where_they_are_written(position: str, kind: str) -> None:
    """Hex and octal literals had no digit limit: 0x + 5000 f's crashed the first message that printed it."""
    text = hostile.HUGE_INT_POSITIONS[position].replace("{n}", hostile.HUGE_VALUES[kind])
    error = spec_error(text)
    assert codes(error) == {"limit"}, str(error)[:1000]
    (problem,) = error.problems
    assert "outside the range" in problem.message and problem.line == text[: text.index(hostile.HUGE_VALUES[kind])].count("\n") + 1
    assert len(str(error)) < 1000


@pytest.mark.parametrize("value, ok", [(2**63 - 1, True), (-(2**63) + 1, True), (2**63, False), ("0x7fffffffffffffff", True), ("0x8000000000000000", False), ("0o" + "7" * 30, False)])
def test_integer_range_is_int64(value: Any, ok: bool) -> None:
    text = f"params: {{a: {value}}}\n" + DENSE
    if ok:
        graphspec.loads(text)
    else:
        assert codes(spec_error(text, build=False)) == {"limit"}


def test_integer_range_is_the_callers() -> None:
    text = "params: {a: 1000}\n" + DENSE
    assert codes(spec_error(text, build=False, limits=Limits(max_integer=999))) == {"limit"}


@pytest.mark.parametrize("position", sorted(hostile.HUGE_REF_POSITIONS))
def test_huge_output_indexes_in_refs(position: str) -> None:
    spec_error(hostile.HUGE_REF_POSITIONS[position].replace("{i}", hostile.HUGE_INDEX))


@pytest.mark.parametrize("kind", sorted(hostile.BAD_PATHS))
def test_import_paths_a_file_system_cannot_take(kind: str, tmp_path: Path) -> None:
    """A NUL in an import path raised ValueError from Path.resolve()."""
    (case,) = [c for c in hostile.bad_path_cases() if c.name == f"import-{kind}"]
    error = expect_case(case, tmp_path)
    assert error is not None and len(str(error)) < 2000


def test_every_os_error_of_an_import_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "main.yaml").write_text("imports: [lib.yaml]\n" + DENSE)
    for exception in (OSError(36, "File name too long"), ValueError("embedded null byte"), RuntimeError("Symlink loop")):
        def broken(self: Path, strict: bool = False, exception: BaseException = exception) -> Path:
            raise exception

        monkeypatch.setattr(Path, "resolve", broken)
        try:
            with pytest.raises(SpecError) as info:
                graphspec.loads((tmp_path / "main.yaml").read_text(), base_dir=tmp_path)
        finally:
            monkeypatch.undo()
        assert codes(info.value) == {"import-missing"}, str(info.value)


@pytest.mark.parametrize("levels", [400, 1000])
def test_deep_block_chains_are_a_limit_problem(levels: int) -> None:
    """400 blocks each using the next raised RecursionError in the resolver and the compiler."""
    error = spec_error(hostile.block_chain(levels))
    assert codes(error) == {"limit"}
    assert f"blocks nest {levels:,} deep" in error.problems[0].message


def test_deep_block_chain_with_the_limit_raised_is_still_a_spec_error() -> None:
    error = spec_error(hostile.block_chain(1000), limits=Limits(max_block_depth=5000))
    assert codes(error) == {"limit"}
    assert "recursion limit" in str(error)


def test_deep_values_with_the_limit_raised_are_a_spec_error() -> None:
    deep = "[" * 990 + "]" * 990
    text = f"params: {{p: {deep}}}\n" + X + "nodes:\n  y: {type: Dense, units: $p, from: x}\noutputs: [y]\n"
    error = spec_error(text, limits=Limits(max_depth=1000))
    assert "limit" in codes(error) and "max_depth" in str(error)


def test_block_chain_at_the_limit_builds() -> None:
    model = graphspec.build(graphspec.loads(hostile.block_chain(Limits().max_block_depth)))
    assert model.count_params() == 4 * 2 + 2
    assert codes(spec_error(hostile.block_chain(Limits().max_block_depth + 1), build=False)) == {"limit"}


@pytest.mark.parametrize("name", sorted(hostile.BLOCK_PATH))
def test_the_block_path_is_checked_at_load(name: str) -> None:
    """All passed validate, then crashed build and plot --shapes (KeyError, AttributeError, ValueError)."""
    error = spec_error(hostile.BLOCK_PATH[name], build=False)
    assert codes(error) <= {"bad-name", "bad-ref", "block-inputs"}, str(error)


def test_share_of_a_block_is_checked_like_the_block_node() -> None:
    error = spec_error(hostile.BLOCK_PATH["share-wrong-key"], build=False)
    assert sorted(p.message for p in error.problems if p.code == "block-inputs") == [
        "node 'z': block 'b' also needs input(s) 'i'",
        "node 'z': block 'b' has no input 'wrong'",
    ]


def test_whole_multi_output_ref_into_a_block_names_the_output_to_select() -> None:
    error = spec_error(hostile.BLOCK_PATH["multi-output-into-one-input"], build=False)
    (problem,) = error.problems
    assert problem.code == "block-inputs" and "select one output: 't.p'" in (problem.hint or "")


def test_any_exception_on_the_block_path_is_a_problem_at_the_node(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one guard: whatever Keras raises while a block is built becomes a problem at the node."""
    from graphspec import compiler

    text = X + "blocks:\n  b:\n    inputs: [i]\n    nodes: {d: {type: Dense, units: 2, from: i}}\n    outputs: [d]\nnodes:\n  y: {block: b, from: x}\noutputs: [y]\n"
    spec = graphspec.loads(text)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("surprise")

    for method in ("block_model", "flat_block_call", "first_block_call"):  # nested-model and flat blocks
        if hasattr(compiler._Compiler, method):
            monkeypatch.setattr(compiler._Compiler, method, broken)
    with pytest.raises(SpecError) as info:
        graphspec.build(spec)
    (problem,) = info.value.problems
    assert problem.code == "bad-model" and problem.line == 8 and "KeyError" in problem.message


@pytest.mark.parametrize("count", ["1000000000000000", "$n"])
def test_repeated_empty_block_counts_each_copy(count: str) -> None:
    """An empty body counted as zero new nodes: load hung, build ended in MemoryError."""
    text = hostile.empty_block_repeat("1000000000000000").replace("repeat: 1000000000000000}", f"repeat: {count}}}")
    assert "limit" in codes(spec_error(text))


def test_repeated_empty_block_within_the_limit_builds() -> None:
    model = graphspec.build(graphspec.loads(hostile.empty_block_repeat("3")))
    assert model.count_params() == 0 and len(model.outputs) == 2


@pytest.mark.parametrize("make, code", [(hostile.misspelt_params, "unknown-param"), (hostile.misspelt_blocks, "unknown-block"),
                                        (hostile.misspelt_refs, "unknown-ref"), (hostile.misspelt_types, "unknown-type")])
def test_suggestions_have_one_cap(make: Any, code: str) -> None:
    """'Did you mean' had no cap for params and blocks: 2,000 misspellings took 17 s and 51 s."""
    error = spec_error(make(300), build=False)
    mine = [p for p in error.problems if p.code == code]
    assert len(mine) == 300
    suggested = [p for p in mine if p.hint and "did you mean" in p.hint]
    assert 0 < len(suggested) <= MAX_SUGGESTIONS


def test_the_suggestion_budget_is_per_load() -> None:
    for _ in range(2):  # a second load gets its own
        error = spec_error(hostile.misspelt_refs(MAX_SUGGESTIONS + 5), build=False)
        assert len([p for p in error.problems if p.hint and "did you mean" in p.hint]) == MAX_SUGGESTIONS


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from graphspec import imports

    parsed: list[str] = []
    original = imports.parse_yaml

    def counting(text: str, file: str = "<string>", limits: Any = None) -> Any:
        parsed.append(file)
        return original(text, file, limits)

    monkeypatch.setattr(imports, "parse_yaml", counting)
    return parsed


def test_each_imported_file_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """24 files each importing the next two were parsed once per path (58 s, Fibonacci growth)."""
    parsed = count_parses(monkeypatch)
    expect_case(Case := hostile.Case("fibonacci", hostile.fibonacci_imports(24), "build", builds=True), tmp_path)
    assert Case and sorted(parsed) == sorted(str(tmp_path / f"lib{i}.yaml") for i in range(24))


def test_a_diamond_of_imports_is_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """main imports b and c, both import lib: was a clash of lib.yaml with itself (GS407)."""
    parsed = count_parses(monkeypatch)
    expect_case(hostile.Case("diamond", dict(hostile.DIAMOND), "build", builds=True), tmp_path)
    assert sorted(Path(p).name for p in parsed) == ["b.yaml", "c.yaml", "lib.yaml"]


def test_a_library_imported_many_times_is_read_and_reported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A 700 KB library imported 2,000 times gave a 72-million-character message."""
    parsed = count_parses(monkeypatch)
    files = hostile.many_imports(300, kilobytes=20)
    error = expect_case(hostile.Case("many", files, "load", codes={"unknown-ref"}), tmp_path)
    assert error is not None and parsed == [str(tmp_path / "lib.yaml")]
    blocks = files["lib.yaml"].count("lib_block_")
    assert len(error.problems) == blocks  # one problem per bad block, not one per import


def test_a_real_clash_is_named_once(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.yaml").write_text("blocks:\n  same: {inputs: [i], nodes: {d: {type: Dense, units: 2, from: i}}, outputs: [d]}\n")
    (tmp_path / "mid.yaml").write_text("imports: [one.yaml, two.yaml]\n")
    (tmp_path / "main.yaml").write_text("imports: [mid.yaml, one.yaml, ./two.yaml, mid.yaml]\n" + DENSE)
    with pytest.raises(SpecError) as info:
        graphspec.load(tmp_path / "main.yaml")
    (problem,) = info.value.problems
    assert problem.code == "import-clash" and "one.yaml and" in problem.message and "two.yaml" in problem.message


def test_imports_have_a_budget_of_files_and_bytes(tmp_path: Path) -> None:
    for name, content in hostile.import_chain(300).items():
        (tmp_path / name).write_text(content)
    with pytest.raises(SpecError) as info:
        graphspec.load(tmp_path / "main.yaml")
    assert codes(info.value) == {"limit"} and f"more than {Limits().max_imports:,} files" in str(info.value)
    graphspec.load(tmp_path / "main.yaml", limits=Limits(max_imports=300))
    with pytest.raises(SpecError) as info:
        graphspec.load(tmp_path / "main.yaml", limits=Limits(max_imports=300, max_import_bytes=5000))
    assert codes(info.value) == {"limit"} and "5,000 bytes" in str(info.value)


def test_a_long_line_with_many_problems_gives_a_bounded_message() -> None:
    """One 1.15 M-character line with 25,000 bad refs exhausted memory building the SpecError text."""
    error = spec_error(hostile.long_line_refs(25_000), build=False)
    assert len(error.problems) == 25_000
    text = str(error)
    assert text.endswith(f"... and {25_000 - MAX_PROBLEMS_SHOWN:,} more problems (SpecError.problems holds them all)")
    assert len(text) < MAX_PROBLEMS_SHOWN * 600


def test_a_long_value_gives_a_bounded_message() -> None:
    """One problem on a 1 M-character `type:` printed 2 MB."""
    error = spec_error(hostile.long_type(1_000_000), build=False)
    assert codes(error) == {"unknown-type"} and len(str(error)) < 1000
    source_line, caret = str(error).splitlines()[1:]
    assert caret.index("^") == source_line.index("TTT")  # the window keeps the column


def test_aliases_of_a_long_string_count_its_length() -> None:
    text = f"a: &a {'x' * 10_000}\nb: [{', '.join(['*a'] * 300)}]\n" + DENSE
    assert codes(spec_error(text, build=False, limits=Limits(max_values=20_000))) == {"limit"}
    assert "unknown-key" in codes(spec_error(text, build=False, limits=Limits(max_values=40_000)))


def test_values_are_counted_once() -> None:
    """max_values counted a value once per enclosing container: about 15 per node instead of 4."""
    from graphspec.source import parse_yaml

    text = hostile.written_out_nodes(1000)
    values = 1 + 3 + 2 + 1 + 1 + 1000 * 4 + 1 + 1  # root, inputs, nodes, outputs: each once
    parse_yaml(text, limits=Limits(max_values=values + 10))
    with pytest.raises(SpecError):
        parse_yaml(text, limits=Limits(max_values=values - 10))


@pytest.mark.slow
def test_a_file_of_140000_written_out_nodes_is_not_an_alias_bomb() -> None:
    """140,000 plain nodes were refused as "aliases of aliases?": each value counted once per
    enclosing container, about 15 a node against max_values 2,000,000. The same ratio at a
    tenth of the size (14,000 nodes, max_values 200,000) keeps the test quick; the values
    counted must be those of the file, about 4 a node."""
    from graphspec.source import parse_yaml

    text = hostile.written_out_nodes(14_000)
    parse_yaml(text, limits=Limits(max_values=200_000))
    values = 14_000 * 5  # a node's mapping and its three values, and its key
    parse_yaml(text, limits=Limits(max_values=values + 100))
    with pytest.raises(SpecError) as info:
        parse_yaml(text, limits=Limits(max_values=values - 14_000))
    assert codes(info.value) == {"limit"}


def test_control_characters_in_the_model_name_are_refused() -> None:
    error = spec_error(hostile.ESCAPE_NAME, build=False)
    assert codes(error) == {"bad-name"} and error.problems[0].line == 1
    assert not [c for c in str(error) if unicodedata.category(c) == "Cc" and c != "\n"]


def test_build_summary_escapes_the_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """graphspec build printed the spec's name inside the Keras summary unescaped."""
    import keras

    import graphspec.cli

    inputs = keras.Input(shape=(4,), name="x")
    model = keras.Model(inputs, keras.layers.Dense(2, name="y")(inputs), name="m\x1b]0;title\x07\x1b[2J\x9b1m")  # a name no spec can give now
    monkeypatch.setattr(graphspec.cli, "build", lambda *args, **kwargs: model)
    out = io.StringIO()
    assert cli_main(["build", "spec.yaml"], out=out, err=out) == 0
    text = out.getvalue()
    assert "\\x1b]0;title" in text and not [c for c in text if unicodedata.category(c) == "Cc" and c != "\n"]


def test_validate_goes_on_after_an_internal_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import graphspec.cli

    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.yaml").write_text(DENSE.replace("from: x", "from: xx"))
    stage = "check_file" if hasattr(graphspec.cli, "check_file") else "load"
    real = getattr(graphspec.cli, stage)

    def failing(path: Any, **kwargs: Any) -> Any:
        if str(path).endswith("b.yaml"):
            raise KeyError("a bug")
        return real(path, **kwargs)

    monkeypatch.setattr(graphspec.cli, stage, failing)
    out = io.StringIO()
    assert cli_main(["validate", "--format", "json", str(tmp_path)], out=out, err=out) == 2
    problems = json.loads(out.getvalue())
    assert [(Path(p["file"]).name, p["code"]) for p in problems] == [("a.yaml", "unknown-ref"), ("b.yaml", "internal-error"), ("c.yaml", "unknown-ref")]
    assert "please report it" in problems[1]["hint"] and "KeyError" in problems[1]["message"]


@pytest.mark.slow
def test_validate_reports_every_file_of_the_corpus(tmp_path: Path) -> None:
    """`validate` over a directory of every input of the issue: each file reported, no traceback."""
    cases = hostile.all_cases()
    for index, case in enumerate(cases):
        folder = tmp_path / f"case{index:03d}"
        folder.mkdir()
        case.write(folder)
    result = subprocess.run([sys.executable, "-m", "graphspec", "validate", "--format", "json", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    reported = {Path(p["file"]).parent.name for p in json.loads(result.stdout)}
    expected = {f"case{i:03d}" for i, case in enumerate(cases) if not case.builds}
    assert expected <= reported


@pytest.mark.parametrize("case", [c for c in hostile.all_cases() if not c.name.startswith("huge-int-")], ids=lambda c: c.name)
def test_every_input_of_the_issue(case: hostile.Case, tmp_path: Path) -> None:
    expect_case(case, tmp_path)


def test_an_interrupted_write_leaves_no_stray_file_behind(tmp_path: Path) -> None:
    """A kill between creating the temporary file and renaming it left .NAME.XXXX.tmp forever."""
    target = tmp_path / "out.dot"
    code = (
        "import os, signal, graphspec.files as files\n"
        "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"files.write_atomic({str(target)!r}, 'half')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == -9
    strays = [p.name for p in tmp_path.iterdir()]
    assert len(strays) == 1 and strays[0].startswith(".out.dot.") and strays[0].endswith(".tmp")
    alive = tmp_path / f".out.dot.{os.getppid()}.abcdefgh.tmp"  # a write in progress in a live process
    alive.write_text("busy")
    other = tmp_path / ".other.dot.123456789.abcdefgh.tmp"  # another target's
    other.write_text("x")
    write_atomic(target, "whole")
    assert target.read_text() == "whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "out.dot"])
    os.utime(alive, (0, 0))  # a day old: stale whoever made it
    assert remove_stale_temporaries(target) == [alive]


def test_long_choice_lists_are_checked_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """A choice list checked for copies, and 'when' values checked against it, compared every pair (quadratic)."""
    from graphspec import search

    compared = [0]
    original = search._same

    def counting(a: Any, b: Any) -> bool:
        compared[0] += 1
        return original(a, b)

    monkeypatch.setattr(search, "_same", counting)
    count = 3000
    choices = ", ".join(str(i) for i in range(2, count))
    text = (f"params: {{u: 2, v: 1}}\nsearch:\n  u: {{choice: [{choices}, 5]}}\n  v: {{int: [1, 4], when: {{u: [{choices}, 0]}}}}\n"
            + X + "nodes:\n  y: {type: Dense, units: $u, from: x}\noutputs: [y]\n")
    error = spec_error(text, build=False)
    assert [p.message for p in error.problems if p.code == "bad-search"] == ["search 'u': 5 is listed twice"]  # one lookup per choice
    without_copy = text.replace(", 5]}\n  v", "]}\n  v")
    error = spec_error(without_copy, build=False)
    assert [p.code for p in error.problems] == ["bad-condition"]  # 'u' never takes 0
    assert compared[0] < 4 * count


@pytest.mark.parametrize("make", [hostile.misspelt_params, hostile.misspelt_blocks])
def test_validate_shares_the_suggestion_budget(make: Any, tmp_path: Path) -> None:
    """Every entry point (load, check, check_file, expand, build) opens the one budget: validate too."""
    (tmp_path / "spec.yaml").write_text(make(300))
    out = io.StringIO()
    assert cli_main(["validate", "--format", "json", str(tmp_path)], out=out, err=out) == 1
    problems = json.loads(out.getvalue())
    assert len(problems) >= 300
    assert 0 < sum("did you mean" in (p["hint"] or "") for p in problems) <= MAX_SUGGESTIONS
