"""Blocks, repeat and block libraries (resolve.py, imports.py, compiler.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

import graphspec

RESIDUAL = """
params: {base: 4}
blocks:
  residual:
    params: {filters: null, stride: 1, width: $(filters * 2)}
    inputs: [x]
    nodes:
      a: {type: Dense, units: $width, from: x}
      b: {type: Dense, units: $filters, from: a}
      s: {merge: add, from: [x, b]}
    outputs: [s]
  stage:
    params: {filters: null, blocks: 2}
    inputs: [x]
    nodes:
      r: {block: residual, filters: $filters, from: x, repeat: $(blocks - 1)}
    outputs: [r]
inputs: {x: {shape: [4]}}
nodes:
  s1: {block: stage, filters: $base, blocks: 3, from: x}
  s2: {share: s1, from: s1}
outputs: [s2]
"""


def test_nested_blocks_params_and_repeat_naming() -> None:
    model = graphspec.build(graphspec.loads(RESIDUAL))
    stage = model.get_layer("s1")
    assert [layer.name for layer in stage.layers] == ["x", "r_1", "r_2"]
    residual = stage.get_layer("r_1")
    assert [layer.name for layer in residual.layers] == ["x", "a", "b", "s"]
    assert residual.get_layer("a").units == 8  # width: $(filters * 2), filters from the caller
    per_block = (4 * 8 + 8) + (8 * 4 + 4)
    assert model.count_params() == 2 * per_block  # s2 shares s1: no new weights
    assert len({id(v) for v in model.weights}) == 2 * 4
    assert [layer.name for layer in model.layers] == ["x", "s1"]  # s2 calls s1 again


def test_instance_errors_are_reported_once_per_definition_line() -> None:
    text = RESIDUAL.replace("units: $filters", "units: $filter")
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.loads(text, file="r.yaml")
    (problem,) = error.value.problems
    assert (problem.line, problem.column) == (9, 31)
    assert problem.message == "block 'residual', node 'b': unknown param 'filter' (in s1 > r)"
    assert problem.hint == "did you mean 'filters'?"


LIB = """
blocks:
  dense2:
    params: {units: 4}
    inputs: [x]
    nodes:
      a: {type: Dense, units: $units, from: x}
      b: {type: Dense, units: $units, from: a}
    outputs: [b]
inputs: {ignored: {shape: [1]}}
nodes: {ignored_node: {type: Dense, units: 1, from: ignored}}
outputs: [ignored_node]
"""

MAIN = """
imports: [{path}]
inputs: {x: {shape: [3]}}
nodes:
  d: {block: dense2, units: 5, from: x}
outputs: [d]
"""


def test_imports_bring_blocks_and_guard_the_tree(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "blocks.yaml").write_text(LIB)
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "main.yaml").write_text(MAIN.replace("{path}", "../lib/blocks.yaml"))
    (tmp_path / "main.yaml").write_text(MAIN.replace("{path}", "lib/blocks.yaml"))
    model = graphspec.build(tmp_path / "main.yaml")
    assert model.count_params() == (3 * 5 + 5) + (5 * 5 + 5)
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.load(tmp_path / "net" / "main.yaml")
    assert error.value.problems[0].code == "import-outside"
    assert error.value.problems[0].line == 2
    spec = graphspec.load(tmp_path / "net" / "main.yaml", allow_imports_outside=True)
    assert "dense2" in spec.blocks


def test_errors_in_imported_blocks_point_into_the_library(tmp_path: Path) -> None:
    (tmp_path / "blocks.yaml").write_text(LIB.replace("units: $units, from: a", "units: $unit, from: a"))
    (tmp_path / "main.yaml").write_text(MAIN.replace("{path}", "blocks.yaml"))
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.load(tmp_path / "main.yaml")
    (problem,) = error.value.problems
    assert problem.file.endswith("blocks.yaml") and problem.line == 8
    assert "(in d)" in problem.message
