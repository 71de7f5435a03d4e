"""compiler.py and api.build: the language's features produce the Keras models they describe."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import graphspec


def build(text: str, **kwargs):
    custom_types = list(kwargs.get("custom_objects") or {})
    return graphspec.build(graphspec.loads(text, file="t.yaml", custom_types=custom_types), **kwargs)


def test_layers_carry_node_names_and_params_override() -> None:
    text = """
params: {hidden: 8}
inputs: {x: {shape: [4]}}
nodes:
  h: {type: Dense, units: $hidden, from: x}
  y: {type: Dense, units: $(hidden // 2), from: h}
outputs: [y]
"""
    model = build(text)
    assert [layer.name for layer in model.layers] == ["x", "h", "y"]
    assert model.output_shape == (None, 4)
    assert build(text, params={"hidden": 16}).count_params() == (4 * 16 + 16) + (16 * 8 + 8)
    with pytest.raises(graphspec.SpecError, match="param override 'hiden' matches no param"):
        build(text, params={"hiden": 16})


def test_share_reuses_weights_and_repeat_makes_copies() -> None:
    model = build(
        """
inputs: {a: {shape: [5]}, b: {shape: [5]}}
nodes:
  enc: {type: Dense, units: 3, from: a, repeat: 2}
  enc_b: {share: enc, from: b}
  d: {merge: subtract, from: [enc, enc_b]}
outputs: [d]
"""
    )
    names = [layer.name for layer in model.layers]
    assert "enc_1" in names and "enc_2" in names and "enc_b" not in names
    assert model.count_params() == (5 * 3 + 3) + (3 * 3 + 3)
    a = np.ones((2, 5), "float32")
    assert np.allclose(model.predict([a, a], verbose=0), 0)  # same weights: a - a


def test_keyword_inputs_multi_output_ref_wrapper_and_objects() -> None:
    model = build(
        """
inputs: {q: {shape: [6, 8]}, v: {shape: [7, 8]}, seq: {shape: [null, 4]}}
nodes:
  att: {type: MultiHeadAttention, num_heads: 2, key_dim: 4, from: {query: q, value: v}}
  lstm: {type: LSTM, units: 5, return_state: true, from: seq}
  h0: {type: Dense, units: 5, kernel_initializer: {type: HeNormal, seed: 1}, from: lstm.1}
  bi: {type: Bidirectional, layer: {type: LSTM, units: 3}, from: att}
  out: {merge: concatenate, from: [bi, h0, lstm.2]}
outputs: [out]
"""
    )
    assert model.output_shape == (None, 16)
    assert isinstance(model.get_layer("bi").forward_layer, keras.layers.LSTM)
    assert isinstance(model.get_layer("h0").kernel_initializer, keras.initializers.HeNormal)


def test_named_outputs_and_compile_by_output() -> None:
    model = build(
        """
inputs: {x: {shape: [4]}}
nodes:
  p: {type: Dense, units: 1, from: x}
  d: {type: Dense, units: 3, activation: softmax, from: x}
outputs: {priority: p, department: d}
compile:
  optimizer: {type: Adam, learning_rate: 1e-3}
  loss: {priority: {type: BinaryCrossentropy, from_logits: true}, department: categorical_crossentropy}
  loss_weights: {priority: 1.0, department: 0.2}
  metrics: {department: [accuracy]}
"""
    )
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    x = np.random.rand(8, 4).astype("float32")
    history = model.fit(x, {"priority": np.ones((8, 1)), "department": np.eye(3)[[0, 1, 2, 0, 1, 2, 0, 1]]}, epochs=1, verbose=0)
    assert "loss" in history.history


def test_custom_objects_and_registered_layers(tmp_path) -> None:
    class Doubler(keras.layers.Layer):
        def __init__(self, factor: float = 2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

    text = """
inputs: {x: {shape: [3]}}
nodes: {d: {type: Doubler, factor: 3.0, from: x}}
outputs: [d]
"""
    with pytest.raises(graphspec.SpecError, match="unknown layer type 'Doubler'"):
        build(text)
    model = build(text, custom_objects={"Doubler": Doubler})
    assert np.allclose(model.predict(np.ones((1, 3)), verbose=0), 3.0)

    @keras.saving.register_keras_serializable(package="graphspec_test")
    class Halver(keras.layers.Layer):
        def call(self, inputs):
            return inputs / 2

    # load() knows no Keras registry: a registered name says so with its package, or the
    # caller names the type; build(path) asks Keras's registry itself.
    model = build(text.replace("Doubler, factor: 3.0", "graphspec_test>Halver"))
    assert np.allclose(model.predict(np.ones((1, 3)), verbose=0), 0.5)
    spec = graphspec.loads(text.replace("Doubler, factor: 3.0", "Halver"), custom_types=["Halver"])
    assert np.allclose(graphspec.build(spec).predict(np.ones((1, 3)), verbose=0), 0.5)
    path = tmp_path / "halver.yaml"
    path.write_text(text.replace("Doubler, factor: 3.0", "Halver"))
    assert np.allclose(graphspec.build(path).predict(np.ones((1, 3)), verbose=0), 0.5)


def test_input_options() -> None:
    model = build(
        """
inputs: {tokens: {shape: [null], dtype: int32, batch_size: 4}}
nodes: {e: {type: Embedding, input_dim: 10, output_dim: 2, from: tokens}}
outputs: [e]
"""
    )
    assert model.inputs[0].dtype == "int32"
    assert model.input_shape == (4, None)


def test_expectations_are_checked() -> None:
    text = """
inputs: {x: {shape: [4]}}
nodes: {y: {type: Dense, units: 2, from: x}}
outputs: [y]
expect: {params: 10, shapes: {y: [null, 2]}}
"""
    assert build(text).count_params() == 10
    with pytest.raises(graphspec.SpecError) as error:
        build(text.replace("params: 10", "params: 11").replace("[null, 2]", "[null, 3]"))
    messages = [p.message for p in error.value.problems]
    assert "expect: the model has 10 params, expected 11" in messages
    assert "expect: node 'y' has shape [null, 2], expected [null, 3]" in messages


def test_build_keeps_the_limits_a_spec_was_loaded_with() -> None:
    text = """
inputs: {x: {shape: [2]}}
nodes: {y: {type: Dense, units: 2, from: x, repeat: 30}}
outputs: [y]
"""
    with pytest.raises(graphspec.SpecError, match="more than the limit of 20"):
        graphspec.loads(text, limits=graphspec.Limits(max_nodes=20))
    spec = graphspec.loads(text, limits=graphspec.Limits(max_nodes=40))
    assert len(graphspec.build(spec).layers) == 31
    with pytest.raises(graphspec.SpecError, match="more than the limit of 20"):
        graphspec.build(spec, limits=graphspec.Limits(max_nodes=20))


def test_keras_refusing_the_model_or_its_compile_is_located(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last-resort paths: whatever Keras raises there becomes a located SpecError."""
    text = """
inputs: {x: {shape: [4]}}
nodes: {y: {type: Dense, units: 2, from: x}}
outputs: [y]
compile: {optimizer: adam, loss: mse}
"""

    def refuse(*args, **kwargs):
        raise ValueError("refused by the test")

    monkeypatch.setattr(keras.Model, "compile", refuse)
    with pytest.raises(graphspec.SpecError) as error:
        build(text)
    (problem,) = error.value.problems
    assert (problem.code, problem.line) == ("bad-compile", 5)
    assert problem.message == "compile: Keras rejects it: refused by the test"

    monkeypatch.setattr(graphspec.compiler.keras, "Model", refuse)
    with pytest.raises(graphspec.SpecError) as error:
        build(text)
    (problem,) = error.value.problems
    assert (problem.code, problem.line) == ("bad-model", 4)
    assert problem.message == "outputs: Keras cannot make a model of them: refused by the test"
