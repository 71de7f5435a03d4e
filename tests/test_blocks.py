"""Blocks, repeat and block libraries (resolve.py, imports.py, compiler.py)."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
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


def test_flat_blocks_params_and_repeat_naming() -> None:
    model = graphspec.build(graphspec.loads(RESIDUAL))
    # Each layer of an instance joins the model as <instance>_<node>; nested instances compose.
    names = [layer.name for layer in model.layers]
    assert names == ["x", "s1_r_1_a", "s1_r_1_b", "s1_r_1_s", "s1_r_2_a", "s1_r_2_b", "s1_r_2_s"]
    assert model.get_layer("s1_r_1_a").units == 8  # width: $(filters * 2), filters from the caller
    per_block = (4 * 8 + 8) + (8 * 4 + 4)
    assert model.count_params() == 2 * per_block  # s2 shares s1: it calls the same layers again
    assert len({id(v) for v in model.weights}) == 2 * 4
    dense = model.get_layer("s1_r_2_b")
    assert len(dense._inbound_nodes) == 2  # called by s1, then by s2
    x = np.ones((1, 4), dtype="float32")
    inner = keras.Model(model.input, model.get_layer("s1_r_2_s")._inbound_nodes[0].output_tensors[0])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(inner(inner(x))), rtol=1e-6)


def test_nested_model_blocks_opt_in() -> None:
    text = RESIDUAL.replace("  stage:\n", "  stage:\n    model: true\n")
    model = graphspec.build(graphspec.loads(text))
    assert [layer.name for layer in model.layers] == ["x", "s1"]  # s2 calls the model s1 again
    stage = model.get_layer("s1")
    assert isinstance(stage, keras.Model)
    # Inside the nested model its (flat) residual instances are named as in a model of their own.
    assert [layer.name for layer in stage.layers] == ["x", "r_1_a", "r_1_b", "r_1_s", "r_2_a", "r_2_b", "r_2_s"]
    assert model.count_params() == 2 * ((4 * 8 + 8) + (8 * 4 + 4))


def test_one_output_block_by_index_and_name() -> None:
    text = """
blocks:
  dense:
    inputs: [x]
    nodes:
      d: {type: Dense, units: 3, from: x}
    outputs: {out: d}
  listed:
    inputs: [x]
    nodes:
      d: {type: Dense, units: 2, from: x}
    outputs: [d]
inputs: {x: {shape: [4]}}
nodes:
  a: {block: dense, from: x}
  b: {block: listed, from: a.out}
  c: {block: listed, from: a.0}
  y: {merge: concatenate, from: [b.d, c.0, a]}
outputs: [y]
expect:
  shapes: {a: [null, 3], a.out: [null, 3], b.0: [null, 2], c.d: [null, 2], y: [null, 7]}
"""
    model = graphspec.build(graphspec.loads(text))
    assert tuple(model.output.shape) == (None, 7)


def test_expect_shapes_of_multi_output_nodes() -> None:
    text = """
blocks:
  split:
    inputs: [x]
    nodes:
      main: {type: Dense, units: 2, from: x}
      skip: {type: Dense, units: 3, from: x}
    outputs: [main, skip]
inputs: {x: {shape: [4]}}
nodes:
  parts: {block: split, from: x}
  lstm_in: {type: Reshape, target_shape: [2, 2], from: x}
  lstm: {type: LSTM, units: 5, return_state: true, from: lstm_in}
  y: {merge: concatenate, from: [parts.main, parts.skip, lstm.0, lstm.2]}
outputs: [y]
expect:
  shapes: {parts.skip: [null, 3], parts.0: [null, 2], lstm.1: [null, 5], y: [null, 15]}
"""
    graphspec.build(graphspec.loads(text))
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.build(graphspec.loads(text.replace("parts.skip: [null, 3]", "parts.skip: [null, 4]").replace("lstm.1:", "lstm:")))
    messages = [p.message for p in error.value.problems]
    assert "expect: node 'parts.skip' has shape [null, 3], expected [null, 4]" in messages
    assert "expect: no node with one output 'lstm'" in messages
    assert error.value.problems[-1].hint == "a multi-output node takes a ref to one output: 'lstm.0'"


WAVENET = """
blocks:
  wave:
    params: {dilation: 1}
    inputs: [x]
    nodes:
      conv:     {type: Conv1D, filters: 4, kernel_size: 2, dilation_rate: $dilation, padding: causal, activation: tanh, from: x}
      skip:     {type: Conv1D, filters: 4, kernel_size: 1, from: conv}
      res_conv: {type: Conv1D, filters: 4, kernel_size: 1, from: conv}
      residual: {merge: add, from: [x, res_conv]}
    outputs: {residual: residual, skip: skip}
inputs:
  audio: {shape: [16, 4]}
nodes:
  wave1: {block: wave, from: audio}
  wave2: {block: wave, dilation: 2, from: wave1.residual}
  wave3: {block: wave, dilation: 4, from: wave2.residual}
  skips: {merge: add, from: [wave1.skip, wave2.skip, wave3.skip]}
outputs: [skips]
"""


def _hand_written_wavenet() -> keras.Model:
    """What a WaveNet written as a Python function builds: the last residual conv is called, never used."""
    audio = keras.Input(shape=(16, 4))
    x, skips = audio, []
    for dilation in (1, 2, 4):
        h = keras.layers.Conv1D(4, 2, dilation_rate=dilation, padding="causal", activation="tanh")(x)
        skips.append(keras.layers.Conv1D(4, 1)(h))
        x = keras.layers.add([x, keras.layers.Conv1D(4, 1)(h)])
    return keras.Model(audio, keras.layers.add(skips))


def test_unused_block_output_leaves_its_layers_out() -> None:
    spec = graphspec.loads(WAVENET, file="wavenet.yaml")
    (warning,) = spec.warnings
    assert warning.code == "unused-block-output" and warning.line == 17
    assert warning.message.startswith("node 'wave3': output 'residual' of block 'wave' is not used")
    model = graphspec.build(spec)
    expected = _hand_written_wavenet().count_params()
    assert model.count_params() == expected == 3 * (36 + 20) + 2 * 20  # 208, not 228
    assert "wave3_res_conv" not in [layer.name for layer in model.layers]
    # Not even created: the instance makes only the layers its used outputs reach.
    made: list[str] = []

    class Counted(keras.layers.Conv1D):
        def __init__(self, **kwargs: object) -> None:
            super().__init__(**kwargs)
            made.append(self.name)

    counted = WAVENET.replace("res_conv: {type: Conv1D", "res_conv: {type: Counted")
    graphspec.build(graphspec.loads(counted, custom_types={"Counted"}), custom_objects={"Counted": Counted})
    assert made == ["wave1_res_conv", "wave2_res_conv"]
    # A nested block model keeps the unused output's weights: the warning says so.
    nested = graphspec.loads(WAVENET.replace("  wave:\n", "  wave:\n    model: true\n"))
    assert "never train" in nested.warnings[0].message
    assert graphspec.build(nested).count_params() == 3 * (36 + 20 + 20)


def test_flat_layer_name_taken_twice_is_an_error() -> None:
    text = """
blocks:
  two:
    inputs: [x]
    nodes:
      d: {type: Dense, units: 2, from: x}
    outputs: [d]
inputs: {x: {shape: [4]}}
nodes:
  b: {block: two, from: x}
  b_d: {type: Dense, units: 2, from: b}
outputs: [b_d]
"""
    with pytest.raises(graphspec.SpecError) as error:
        graphspec.build(graphspec.loads(text, file="clash.yaml"))
    (problem,) = error.value.problems
    assert problem.code == "duplicate-name"
    assert "'b_d', which is already the name of" in problem.message


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


def test_share_of_a_flat_block_uses_the_outputs_it_needs_with_the_same_weights() -> None:
    text = """
blocks:
  split:
    inputs: [x]
    nodes:
      main: {type: Dense, units: 2, from: x}
      skip: {type: Dense, units: 3, from: x}
    outputs: [main, skip]
inputs: {a: {shape: [4]}, b: {shape: [4]}}
nodes:
  first: {block: split, from: a}
  again: {share: first, from: b}
outputs: [first.main, again.skip]
"""
    spec = graphspec.loads(text)
    assert spec.warnings == []  # each output is used, by the node or by its share
    model = graphspec.build(spec)
    # 'first' makes first_main; the share needs 'skip', which its call creates, named for 'first';
    # the output again.skip is named after its ref, through an Identity layer.
    assert sorted(layer.name for layer in model.layers) == ["a", "again_skip", "b", "first_main", "first_skip"]
    assert model.output_names == ["first_main", "again_skip"]
    assert model.count_params() == (4 * 2 + 2) + (4 * 3 + 3)
