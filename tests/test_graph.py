"""graph.py: refs, cycles with their path, file-order topological sort, unused nodes."""

from __future__ import annotations

import pytest

import graphspec
from graphspec.resolve import check_structure


def test_order_is_topological_with_file_order_ties() -> None:
    spec = graphspec.loads(
        """
inputs: {x: {shape: [2]}}
nodes:
  y: {merge: add, from: [b, a]}
  b: {type: Dense, units: 2, from: a}
  a: {type: Dense, units: 2, from: x}
  c: {type: Dense, units: 2, from: x}
  z: {merge: add, from: [y, c]}
outputs: [z]
"""
    )
    assert check_structure(spec).orders[("nodes",)] == ["a", "b", "y", "c", "z"]


def test_cycle_reports_whole_path_once() -> None:
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.loads(
            """
inputs: {x: {shape: [2]}}
nodes:
  a: {type: Dense, units: 2, from: c}
  b: {type: Dense, units: 2, from: a}
  c: {merge: add, from: [b, x]}
  d: {type: Dense, units: 2, from: d}
outputs: [c, d]
""",
            file="c.yaml",
        )
    messages = [p.message for p in error.value.problems]
    assert messages == ["node 'a' is part of a cycle: a -> b -> c -> a", "node 'd' is part of a cycle: d -> d"]


def test_unused_nodes_are_warnings() -> None:
    spec = graphspec.loads(
        """
inputs: {x: {shape: [2]}, b: {shape: [2]}}
nodes:
  enc: {type: Dense, units: 2, from: x}
  other: {share: enc, from: b}
  dead: {type: Dense, units: 2, from: x}
outputs: [other]
"""
    )
    assert [(w.severity, w.code, w.message) for w in spec.warnings] == [("warning", "unused-node", "node 'dead' is not used by any output")]


def test_refs_to_outputs() -> None:
    text = """
blocks:
  split:
    inputs: [x]
    nodes:
      a: {type: Dense, units: 2, from: x}
      b: {type: Dense, units: 3, from: x}
    outputs: {left: a, right: b}
inputs: {x: {shape: [2]}}
nodes:
  s: {block: split, from: x}
  j: {merge: concatenate, from: [s.left, s.{part}]}
outputs: [j]
"""
    graphspec.loads(text.replace("{part}", "right"))
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.loads(text.replace("{part}", "rigth"))
    assert error.value.problems[0].message == "node 'j': block 'split' has no output 'rigth'"
    assert error.value.problems[0].hint == "did you mean 'right'?"
