"""Graphs of any depth: Keras's recursive graph walk gets room inside `build` only."""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

import graphspec
from graphspec.backend import deep_recursion


def chain(layers: int) -> str:
    """A chain of `layers` layers: one activation repeated (step_1 ... step_N-1), then a Dense."""
    return (
        "inputs: {x: {shape: [3]}}\n"
        "nodes:\n"
        f"  step: {{type: Activation, activation: relu, repeat: {layers - 1}, from: x}}\n"
        "  y: {type: Dense, units: 2, from: step}\n"
        "outputs: [y]\n"
    )


@pytest.mark.slow  # ~6 s: Keras saves and loads 1,500 layers
def test_a_1500_layer_chain_builds_saves_and_loads(tmp_path: Path) -> None:
    limit = sys.getrecursionlimit()
    model = graphspec.build(graphspec.loads(chain(1500)))
    assert sys.getrecursionlimit() == limit  # raised inside build only
    assert len(model.layers) == 1 + 1500
    model.save(tmp_path / "chain.keras")
    with graphspec.deep_recursion(1500):  # Keras's load_model walks the graph as build does
        loaded = keras.models.load_model(tmp_path / "chain.keras")
    assert sys.getrecursionlimit() == limit
    x = np.random.default_rng(0).random((2, 3), dtype="float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)))


def test_a_1500_layer_chain_of_flat_blocks_builds() -> None:
    text = (
        "blocks:\n"
        "  unit:\n"
        "    inputs: [x]\n"
        "    nodes:\n"
        "      a: {type: Activation, activation: relu, from: x}\n"
        "      b: {type: Activation, activation: tanh, from: a}\n"
        "    outputs: [b]\n"
        "inputs: {x: {shape: [3]}}\n"
        "nodes:\n"
        "  units: {block: unit, repeat: 750, from: x}\n"
        "outputs: [units]\n"
    )
    model = graphspec.build(graphspec.loads(text))
    assert len(model.layers) == 1 + 1500
    assert model.layers[-1].name == "units_750_b"


@pytest.mark.slow
def test_a_10000_layer_chain_builds_with_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() < 10_000  # Python's default (1,000): too little for Keras's walk
    model = graphspec.build(graphspec.loads(chain(10_000), limits=graphspec.Limits(max_nodes=20_000)))
    assert len(model.layers) == 1 + 10_000
    out = model(np.ones((1, 3), dtype="float32"))
    assert tuple(out.shape) == (1, 2)


def test_deep_recursion_changes_nothing_for_small_graphs() -> None:
    limit = sys.getrecursionlimit()
    with deep_recursion(10):
        assert sys.getrecursionlimit() == limit
    with deep_recursion(5000):
        assert sys.getrecursionlimit() >= limit + 3 * 5000
    assert sys.getrecursionlimit() == limit
