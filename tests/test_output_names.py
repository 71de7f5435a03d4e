"""Every output addressable by its spec name (issue 14, item 3).

A list of outputs gets Keras output names from the refs (``b.skip`` -> ``b_skip``), so
``compile``'s loss, loss_weights and metrics mappings reach each output and training logs
name each one; `validate` checks those names without Keras.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import graphspec

SPLIT = """
blocks:
  split:
    inputs: [x]
    nodes:
      main: {type: Dense, units: 2, from: x}
      skip: {type: Dense, units: 3, from: x}
    outputs: [main, skip]
inputs: {x: {shape: [4]}}
nodes:
  b: {block: split, from: x}
  y: {type: Dense, units: 1, from: b.main}
outputs: [y, b.skip, b.main]
compile:
  optimizer: sgd
  loss: {y: mse, b.skip: mse, b_main: mae}    # a listed ref, as written or with '_'
  loss_weights: {y: 1.0, b.skip: 0.5, b_main: 0.25}
  metrics: {b.skip: [mae]}
"""


def _fit(model: keras.Model) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.random((8, 4), dtype="float32")
    targets = [rng.random((8, 1)), rng.random((8, 3)), rng.random((8, 2))]
    history = model.fit(x, targets, epochs=1, batch_size=8, verbose=0).history
    return {key: values[0] for key, values in history.items()}


@pytest.mark.parametrize("nested", [False, True], ids=["flat", "nested"])
def test_losses_by_output_name_train_and_log_per_output(nested: bool) -> None:
    text = SPLIT.replace("  split:\n", "  split:\n    model: true\n") if nested else SPLIT
    model = graphspec.build(graphspec.loads(text))
    assert model.output_names == ["y", "b_skip", "b_main"]
    logs = _fit(model)
    assert {"y_loss", "b_skip_loss", "b_main_loss", "b_skip_mae"} <= set(logs)
    # The weights reached compile: the total is the weighted sum of the three losses.
    total = logs["y_loss"] + 0.5 * logs["b_skip_loss"] + 0.25 * logs["b_main_loss"]
    assert logs["loss"] == pytest.approx(total, rel=1e-4)


def test_nested_outputs_get_unique_names_through_identity_layers() -> None:
    model = graphspec.build(graphspec.loads(SPLIT.replace("  split:\n", "  split:\n    model: true\n")))
    # Both outputs come from the nested model 'b': without renaming Keras would call both 'b'.
    assert isinstance(model.get_layer("b_skip"), keras.layers.Identity)
    assert isinstance(model.get_layer("b_main"), keras.layers.Identity)
    out = model(np.ones((2, 4), dtype="float32"))
    assert [tuple(t.shape) for t in out] == [(2, 1), (2, 3), (2, 2)]


def test_flat_outputs_need_no_extra_layer() -> None:
    model = graphspec.build(graphspec.loads(SPLIT))
    assert [layer.name for layer in model.layers] == ["x", "b_main", "y", "b_skip"]


def test_mapping_outputs_are_a_dict() -> None:
    text = SPLIT.replace("outputs: [y, b.skip, b.main]", "outputs: {score: y, extra: b.skip, main: b.0}")
    text = text.split("compile:")[0] + "compile:\n  optimizer: sgd\n  loss: {score: mse, extra: mse, main: mae}\n"
    model = graphspec.build(graphspec.loads(text))
    assert set(model.output) == {"score", "extra", "main"}


def test_unknown_output_name_in_compile_is_found_by_validate() -> None:
    text = SPLIT.replace("loss: {y: mse, b.skip: mse, b_main: mae}", "loss: {y: mse, b.skipp: mse, b_main: mae}")
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.loads(text, file="net.yaml")  # no Keras: load runs the check
    (problem,) = error.value.problems
    assert problem.code == "unknown-output-name"
    assert problem.message == "compile: loss names output 'b.skipp', which the model does not have; its outputs are 'y', 'b_skip', 'b_main'"
    assert (problem.line, problem.column) == (16, 18)


def test_one_output_model_takes_a_loss_mapping_by_its_ref() -> None:
    text = """
blocks:
  head:
    inputs: [x]
    nodes:
      d: {type: Dense, units: 2, from: x}
    outputs: [d]
inputs: {x: {shape: [4]}}
nodes:
  h: {block: head, from: x}
outputs: [h]
compile:
  optimizer: sgd
  loss: {h: mse}
"""
    model = graphspec.build(graphspec.loads(text))
    assert model.output_names == ["h_d"]  # a single output keeps its layer: nothing added
    rng = np.random.default_rng(0)
    history = model.fit(rng.random((4, 4)), rng.random((4, 2)), epochs=1, verbose=0).history
    assert np.isfinite(history["loss"][0])
