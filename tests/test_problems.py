"""Problems are data: path, node, block instances and a category as fields, shown only when printed."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from graphspec.api import check, loads
from graphspec.errors import CODES, Problem, SpecError, category
from graphspec.report import format_json, format_sarif

SPEC = """\
graphspec: 1
inputs: {x: {shape: [4]}}
blocks:
  dense:
    inputs: [i]
    nodes:
      d: {type: Dense, units: 2, activation: relu2, from: i}
    outputs: [d]
nodes:
  h: {type: Dense, units: 2, activaton: relu, from: x}
  u: {type: Dense, units: 2, from: hh}
  b1: {block: dense, from: x}
  b2: {block: dense, from: b1}
outputs: [b2, u, h]
compile: {optimizer: adam, loss: mse, jit_compile: off}
"""


@pytest.fixture(scope="module")
def rows() -> dict[str, dict]:
    """The JSON rows of SPEC's problems, by code (one problem of each code)."""
    problems = check(SPEC, file="m.yaml").problems
    found = json.loads(format_json(problems))
    assert len(found) == len({row["code"] for row in found}) == 4
    return {row["code"]: row for row in found}


def test_json_carries_path_and_node_of_a_ref(rows: dict[str, dict]) -> None:
    row = rows["unknown-ref"]
    assert (row["path"], row["node"], row["line"]) == (["nodes", "u", "from"], "u", 11)
    assert row["category"] == "graph"


def test_json_carries_path_and_node_of_an_argument(rows: dict[str, dict]) -> None:
    row = rows["unknown-argument"]
    assert (row["path"], row["node"], row["instances"]) == (["nodes", "h", "activaton"], "h", [])
    assert row["category"] == "keras"


def test_json_carries_the_path_of_a_compile_key(rows: dict[str, dict]) -> None:
    row = rows["wrong-type"]
    assert (row["path"], row["node"], row["line"]) == (["compile", "jit_compile"], None, 15)


def test_json_carries_the_block_instances_apart_from_the_message(rows: dict[str, dict]) -> None:
    row = rows["unknown-name"]
    assert row["path"] == ["blocks", "dense", "nodes", "d", "activation"]
    assert row["node"] == "d"
    assert row["instances"] == [["b1"], ["b2"]]
    assert "(in" not in row["message"]


def test_text_shows_the_instances_after_the_message() -> None:
    with pytest.raises(SpecError) as caught:
        loads(SPEC, file="m.yaml")
    (line,) = [line for line in str(caught.value).splitlines() if "relu2" in line and "error" in line]
    assert "(in b1, b2)" in line


def test_problem_text_lists_at_most_five_instances() -> None:
    problem = Problem("bad", code="shape", instances=tuple((f"b{i}",) for i in range(7)))
    assert problem.text == "bad (in b0, b1, b2, b3, b4 and 2 more)"
    assert problem.instances[6] == ("b6",)


def test_sarif_results_carry_path_and_node_as_properties(rows: dict[str, dict]) -> None:
    problem = Problem("node 'u': unknown ref 'hh'", file="m.yaml", line=11, column=36, code="unknown-ref", path=("nodes", "u", "from"), node="u")
    (result,) = json.loads(format_sarif([problem]))["runs"][0]["results"]
    assert result["properties"] == {"path": ["nodes", "u", "from"], "node": "u"}


def test_a_problem_without_a_code_cannot_be_made() -> None:
    with pytest.raises(TypeError, match="code"):
        Problem("node 'u': unknown ref 'zz'", file="m.yaml", line=1, column=1)  # type: ignore[call-arg]


def test_every_problem_made_in_the_package_names_its_code() -> None:
    """Calls of `Problem`, of the `problem` helpers that wrap it (which pass **kwargs on) and
    of the exceptions that become problems (`ParamError`, the compiler's `_NodeError`) name
    ``code=``: a forgotten one would be a TypeError only when that mistake is made."""
    missing = []
    for file in sorted((Path(__file__).parents[1] / "graphspec").rglob("*.py")):
        for call in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if not isinstance(call, ast.Call):
                continue
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
            keywords = {k.arg for k in call.keywords}
            if name in ("Problem", "problem", "ParamError", "_NodeError") and "code" not in keywords and None not in keywords:
                missing.append(f"{file}:{call.lineno}")
    assert missing == []


def test_categories_come_from_the_code_numbers() -> None:
    assert {code: category(code) for code in CODES if code.startswith("import")} == dict.fromkeys(
        ["import-outside", "import-missing", "import-cycle", "import-clash"], "imports"
    )
    assert category("unknown-block") == "blocks"
    assert category("not-a-code") == "unknown"
    assert all(category(code) != "unknown" for code in CODES)


def test_an_import_failure_stops_before_the_blocks_it_would_have_given(tmp_path: Path) -> None:
    spec = tmp_path / "m.yaml"
    spec.write_text("imports: [gone.yaml]\ninputs: {x: {shape: [4]}}\nnodes: {y: {block: res, from: x}}\noutputs: [y]\n")
    checked = check(spec.read_text(), file=str(spec))
    assert [(p.code, p.category, p.path) for p in checked.problems] == [("import-missing", "imports", ("imports", 0))]


def test_a_duplicate_key_carries_its_path_and_node() -> None:
    text = "inputs: {x: {shape: [4]}}\nnodes:\n  y: {type: Dense, units: 2, units: 3, from: x}\noutputs: [y]\n"
    with pytest.raises(SpecError) as caught:
        loads(text)
    (problem,) = caught.value.problems
    assert (problem.code, problem.path, problem.node, problem.line) == ("duplicate-key", ("nodes", "y", "units"), "y", 3)


def test_a_tag_carries_the_path_of_the_mapping_it_is_in() -> None:
    with pytest.raises(SpecError) as caught:
        loads("inputs: {x: {shape: [4]}}\nnodes:\n  y: {type: !!python/name:os.system Dense, from: x}\noutputs: [y]\n")
    (problem,) = caught.value.problems
    assert (problem.code, problem.path, problem.node) == ("yaml-tag", ("nodes", "y"), "y")


def test_the_catalogue_reports_findings_as_named_fields() -> None:
    from graphspec import catalogue

    findings = [
        *catalogue.check_layer_arguments("Dense", {"activation": "relu2"}),
        *catalogue.check_layer_arguments("Dense", {"units": 3, "unit": 3}),
        *catalogue.check_layer_arguments("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "smae"}),
        *catalogue.check_compile_arguments({"loss": "mse2", "jit_compile": "off"}),
        *catalogue.check_compile_arguments({"optimizer": {"class_name": "Adam"}}),
    ]
    assert len(findings) >= 6
    assert all(isinstance(f, catalogue.Finding) and f.code in CODES for f in findings)
    assert {f.code for f in findings} >= {"missing-argument", "unknown-argument", "unknown-name", "bad-choice", "wrong-type", "refused"}
    (padding,) = [f for f in findings if f.code == "bad-choice"]
    assert padding.sub == ("padding",) and padding.hint is not None
