"""graphspec.dumps / dump / `graphspec export`: Keras models back to specs, exactly.

The round trip ``build(loads(dumps(m)))`` must give a model with the same parameter
count that accepts ``m.get_weights()`` and then computes the same outputs. It is checked
on every example of the repository, on keras.applications models (``weights=None``, small
inputs; the heaviest are marked ``slow``: deselect them with ``-m "not slow"``), and on
small models that use each feature: shared layers, nested models, several outputs,
keyword calls, Keras objects as arguments, custom layers. What a spec cannot say is
refused with `ExportError`, naming the layer.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import yaml

import graphspec
from graphspec.export import ExportError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


# --------------------------------------------------------------------------- helpers


def random_inputs(model: keras.Model, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = [2] + [d if d is not None else 7 for d in tensor.shape[1:]]
        if "int" in str(tensor.dtype):
            arrays.append(rng.integers(0, 5, size=shape).astype(str(tensor.dtype)))
        else:
            arrays.append(rng.random(shape, dtype=np.float32))
    return arrays


def flat_outputs(value: Any) -> list[np.ndarray]:
    if isinstance(value, dict):
        return [np.asarray(value[k]) for k in sorted(value)]
    if isinstance(value, (list, tuple)):
        return [np.asarray(v) for v in value]
    return [np.asarray(value)]


def assert_round_trip(model: keras.Model, custom_objects: dict[str, Any] | None = None, inputs: list[np.ndarray] | None = None) -> str:
    """dumps -> loads -> build; same parameters, same weights accepted, same outputs."""
    text = graphspec.dumps(model, custom_objects=custom_objects)
    rebuilt = graphspec.build(graphspec.loads(text, custom_types=list(custom_objects or ())), custom_objects=custom_objects)
    assert rebuilt.count_params() == model.count_params(), text
    assert [tuple(w.shape) for w in rebuilt.get_weights()] == [tuple(w.shape) for w in model.get_weights()]
    rebuilt.set_weights(model.get_weights())
    arrays = inputs if inputs is not None else random_inputs(model)
    feed = arrays[0] if len(arrays) == 1 else arrays
    expected, actual = flat_outputs(model(feed, training=False)), flat_outputs(rebuilt(feed, training=False))
    assert len(expected) == len(actual)
    for e, a in zip(expected, actual, strict=True):
        assert e.shape == a.shape
        np.testing.assert_allclose(a, e, atol=1e-5, rtol=1e-5)
    assert graphspec.dumps(rebuilt, custom_objects=custom_objects) == text, "a second export differs from the first"
    return text


def node_lines(text: str) -> dict[str, str]:
    """Top-level ``name: {...}`` lines of the nodes section, by node name."""
    lines = text.split("\nnodes:\n", 1)[1].split("\noutputs")[0].splitlines()
    return {line.split(":")[0].strip().strip('"'): line.split(":", 1)[1].strip() for line in lines if line.startswith("  ") and not line.startswith("   ")}


@pytest.fixture(autouse=True)
def _fresh_session() -> Any:
    keras.backend.clear_session()
    yield
    keras.backend.clear_session()


# --------------------------------------------------------------------------- examples and applications


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_round_trips(path: Path) -> None:
    assert_round_trip(graphspec.build(path))


def _app(name: str, shape: tuple[int, int, int]) -> Callable[[], keras.Model]:
    return lambda: getattr(keras.applications, name)(weights=None, input_shape=shape)


APPLICATIONS = [
    pytest.param("ResNet50", (64, 64, 3), id="ResNet50"),
    pytest.param("MobileNetV2", (64, 64, 3), id="MobileNetV2"),
    pytest.param("Xception", (71, 71, 3), id="Xception"),
    pytest.param("EfficientNetB0", (64, 64, 3), id="EfficientNetB0"),
    pytest.param("DenseNet121", (64, 64, 3), id="DenseNet121", marks=pytest.mark.slow),
    pytest.param("InceptionV3", (75, 75, 3), id="InceptionV3", marks=pytest.mark.slow),
    pytest.param("NASNetMobile", (64, 64, 3), id="NASNetMobile", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name, shape", APPLICATIONS)
def test_applications_round_trip(name: str, shape: tuple[int, int, int]) -> None:
    model = _app(name, shape)()
    text = assert_round_trip(model)
    assert text.startswith("graphspec: 1\n")
    assert "{type: Lambda" not in text


def test_efficientnet_preprocessing_layers_keep_their_state() -> None:
    model = keras.applications.EfficientNetB0(weights=None, input_shape=(32, 32, 3))
    normalization = next(layer for layer in model.layers if isinstance(layer, keras.layers.Normalization))
    normalization.set_weights([np.full(w.shape, v, w.dtype) for w, v in zip(normalization.get_weights(), (0.3, 2.0, 5), strict=True)])
    text = assert_round_trip(model)
    assert "{type: Rescaling, scale: 0.00392156862745098" in text
    assert "{type: Normalization, axis: 3, from: rescaling}" in text  # adapted mean/variance are weights


def test_resnet50_spec_is_short() -> None:
    model = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3))
    text = graphspec.dumps(model)
    lines = text.count("\n")
    assert lines < 200 < len(model.to_json()) // 500
    lines_of = node_lines(text)
    assert lines_of["conv1_conv"] == "{type: Conv2D, filters: 64, kernel_size: 7, strides: 2, from: conv1_pad}"
    assert lines_of["conv2_block1_add"] == "{merge: add, from: [conv2_block1_0_bn, conv2_block1_3_bn]}"


def test_convnext_needs_its_layer_scale_class() -> None:
    from keras.src.applications.convnext import LayerScale

    model = keras.applications.ConvNeXtTiny(weights=None, input_shape=(32, 32, 3))
    with pytest.raises(ExportError, match=r"layer 'convnext_tiny_stage_0_block_0_layer_scale' is a keras\.src\.applications\.convnext\.LayerScale, which is neither a public Keras class nor registered"):
        graphspec.dumps(model)
    text = assert_round_trip(model, custom_objects={"LayerScale": LayerScale})
    assert "{type: LayerScale, init_values: 1.0e-06, projection_dim: 96," in text
    # `inputs + x` in ConvNeXtBlock is a keras.ops operation; a merge computes it exactly
    assert "{merge: add, from: [" in text


# --------------------------------------------------------------------------- what the spec looks like


def test_only_arguments_that_differ_from_the_defaults() -> None:
    x = keras.Input((8,), name="x")
    h = keras.layers.Dense(10, name="h")(x)
    p = keras.layers.MaxPooling1D(pool_size=3, strides=2, name="p")(keras.layers.Reshape((8, 1), name="r")(x))
    y = keras.layers.Dense(
        1,
        activation="sigmoid",
        kernel_initializer=keras.initializers.HeNormal(seed=1),
        kernel_regularizer=keras.regularizers.L2(0.02),
        bias_constraint=keras.constraints.MaxNorm(2.0),
        name="y",
    )(h)
    text = assert_round_trip(keras.Model(x, [y, p], name="small"))
    assert text == textwrap.dedent(
        """\
        graphspec: 1
        name: small
        inputs:
          x: {shape: [8]}
        nodes:
          h: {type: Dense, units: 10, from: x}
          r: {type: Reshape, target_shape: [8, 1], from: x}
          y: {type: Dense, units: 1, activation: sigmoid, kernel_initializer: {type: HeNormal, seed: 1}, kernel_regularizer: {type: L2, l2: 0.02}, bias_constraint: {type: MaxNorm, max_value: 2.0}, from: h}
          p: {type: MaxPooling1D, pool_size: 3, strides: 2, from: r}
        outputs: [y, p]
        """
    )


def test_the_spec_is_valid_yaml_for_any_reader() -> None:
    text = graphspec.dumps(graphspec.build(ROOT / "examples" / "keywords_wrapper.yaml"))
    data = yaml.safe_load(text)  # PyYAML (YAML 1.1) reads it as graphspec (1.2) does
    assert list(data) == ["graphspec", "name", "inputs", "nodes", "outputs"]
    assert data["nodes"]["bi"]["layer"] == {"type": "LSTM", "units": 32, "return_sequences": True}
    assert data["nodes"]["hidden"]["kernel_initializer"] == {"type": "HeNormal", "seed": 1}


@pytest.mark.parametrize("value", [0.1 + 0.2, 1 / 3, 1e-7, 1.001e-05, 123456789.125, 1e30, 5e-324])
def test_floats_round_trip_exactly(value: float) -> None:
    x = keras.Input((3,), name="x")
    y = keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L1(value), name="y")(keras.layers.Dropout(value if value < 1 else 0.5, name="d")(x))
    model = keras.Model(x, y)
    rebuilt = graphspec.build(graphspec.loads(graphspec.dumps(model)))
    assert rebuilt.get_layer("y").kernel_regularizer.l1 == model.get_layer("y").kernel_regularizer.l1
    assert rebuilt.get_layer("d").rate == model.get_layer("d").rate


def test_strings_that_look_like_other_things_stay_strings() -> None:
    x = keras.Input((None,), dtype="int32", name="x")
    y = keras.layers.Embedding(10, 4, name="on")(x)
    z = keras.layers.Dense(3, name="null")(y)
    w = keras.layers.Dense(3, name="true")(z)
    text = assert_round_trip(keras.Model(x, w))
    assert '"null": {type: Dense, units: 3, from: "on"}' in text
    assert graphspec.loads(text).outputs == ["true"]


def test_layer_names_become_valid_unique_node_names() -> None:
    x = keras.Input((4,), name="in-put")
    a = keras.layers.Dense(2, name="dense-1")(x)
    b = keras.layers.Dense(2, name="dense_1")(x)
    c = keras.layers.Dense(2, name="3d.layer")(x)
    text = assert_round_trip(keras.Model(x, [a, b, c]))
    assert sorted(node_lines(text)) == ["_3d_layer", "dense_1", "dense_1_2"]
    assert "in_put: {shape: [4]}" in text


def test_inputs_keep_dtype_and_batch_size() -> None:
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    fixed = keras.Input((3,), batch_size=4, name="fixed")
    e = keras.layers.Embedding(20, 3, name="e")(tokens)
    pooled = keras.layers.GlobalAveragePooling1D(name="pooled")(e)
    y = keras.layers.Concatenate(name="y")([pooled, keras.layers.Dense(3, name="d")(fixed)])
    model = keras.Model([tokens, fixed], y)
    text = graphspec.dumps(model)
    assert "tokens: {shape: [null], dtype: int32}" in text
    assert "fixed:  {shape: [3], batch_size: 4}" in text
    assert "y:      {merge: concatenate, from: [pooled, d]}" in text
    rng = np.random.default_rng(1)
    assert_round_trip(model, inputs=[rng.integers(0, 20, (4, 5)).astype("int32"), rng.random((4, 3), dtype=np.float32)])


# --------------------------------------------------------------------------- sharing, nesting, several outputs


def test_shared_layers_become_share_nodes() -> None:
    left, right = keras.Input((None,), dtype="int32", name="left"), keras.Input((None,), dtype="int32", name="right")
    embed = keras.layers.Embedding(50, 8, name="embed")
    encode = keras.layers.LSTM(6, name="encode")
    a, b = encode(embed(left)), encode(embed(right))
    y = keras.layers.Dense(1, name="y")(keras.layers.Subtract(name="diff")([a, b]))
    text = assert_round_trip(keras.Model([left, right], y))
    lines = node_lines(text)
    assert lines["embed_2"] == "{share: embed, from: right}"
    assert lines["encode_2"] == "{share: encode, from: embed_2}"
    assert lines["diff"] == "{merge: subtract, from: [encode, encode_2]}"


def test_nested_model_used_twice_is_one_block_and_a_share() -> None:
    inner_in = keras.Input((4,), name="v")
    hidden = keras.layers.Dense(5, activation="relu", name="hidden")(inner_in)
    encoder = keras.Model(inner_in, keras.layers.Dense(3, name="code")(hidden), name="encoder")
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    y = keras.layers.Dot(axes=1, normalize=True, name="cosine")([encoder(a), encoder(b)])
    text = assert_round_trip(keras.Model([a, b], y, name="twins"))
    assert text.count("encoder:\n    model: true\n    inputs: [v]") == 1
    lines = node_lines(text)
    assert lines["encoder"] == "{block: encoder, from: a}"
    assert lines["encoder_2"] == "{share: encoder, from: b}"
    assert lines["cosine"] == "{merge: dot, axes: 1, normalize: true, from: [encoder, encoder_2]}"
    rebuilt = graphspec.build(graphspec.loads(text))
    assert len({id(v) for v in rebuilt.weights}) == 4  # both calls use the same block weights


def test_identical_nested_models_share_one_block_definition() -> None:
    def make(name: str) -> keras.Model:
        x = keras.Input((4,), name="x")
        return keras.Model(x, keras.layers.Dense(4, name="d")(x), name=name)

    x = keras.Input((4,), name="x")
    y = make("second")(make("first")(x))
    text = assert_round_trip(keras.Model(x, y))
    assert text.count("    inputs: [x]") == 1
    assert node_lines(text) == {"first": "{block: first, from: x}", "second": "{block: first, from: first}"}


def test_nested_sequential_and_sequential_model() -> None:
    head = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="a"), keras.layers.Dense(2, name="b")], name="head")
    x = keras.Input((6,), name="x")
    assert_round_trip(keras.Model(x, head(x)))
    text = assert_round_trip(keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, name="d"), keras.layers.Softmax(name="s")], name="seq"))
    assert "s: {type: Softmax, from: d}" in text


def test_several_outputs_are_referenced_by_index() -> None:
    tokens = keras.Input((None, 3), name="tokens")
    seq, h, c = keras.layers.LSTM(4, return_sequences=True, return_state=True, name="lstm")(tokens)
    state = keras.layers.Concatenate(name="state")([h, c])
    model = keras.Model(tokens, {"sequence": seq, "state": state})
    text = assert_round_trip(model)
    assert "state: {merge: concatenate, from: [lstm.1, lstm.2]}" in text
    assert "outputs:\n  sequence: lstm.0\n  state:    state\n" in text


def test_nested_model_with_several_outputs() -> None:
    v = keras.Input((4,), name="v")
    split = keras.Model(v, [keras.layers.Dense(2, name="p")(v), keras.layers.Dense(3, name="q")(v)], name="split")
    x = keras.Input((4,), name="x")
    first, second = split(x)
    y = keras.layers.Concatenate(name="y")([second, first])
    text = assert_round_trip(keras.Model(x, y))
    assert "{merge: concatenate, from: [split.1, split.0]}" in text


def test_keyword_calls_become_from_mappings() -> None:
    q, v = keras.Input((5, 8), name="q"), keras.Input((7, 8), name="v")
    by_keyword = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="att")(query=q, value=v)
    positional = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="att_2")(q, v, v)
    dense = keras.layers.Dense(3, name="dense")(inputs=by_keyword)
    text = assert_round_trip(keras.Model([q, v], [dense, positional]))
    lines = node_lines(text)
    assert lines["att"] == "{type: MultiHeadAttention, num_heads: 2, key_dim: 4, from: {query: q, value: v}}"
    assert lines["att_2"] == "{type: MultiHeadAttention, num_heads: 2, key_dim: 4, from: {query: q, value: v, key: v}}"
    assert lines["dense"] == "{type: Dense, units: 3, from: att}"


def test_masks_propagated_by_keras_are_not_written() -> None:
    tokens = keras.Input((None,), dtype="int32", name="tokens")
    embedded = keras.layers.Embedding(10, 4, mask_zero=True, name="embedded")(tokens)
    y = keras.layers.Dense(2, name="y")(keras.layers.LSTM(3, name="lstm")(embedded))
    model = keras.Model(tokens, y)
    padded = np.array([[1, 2, 3, 0, 0], [4, 0, 0, 0, 0]], dtype="int32")
    text = assert_round_trip(model, inputs=[padded])
    assert node_lines(text)["lstm"] == "{type: LSTM, units: 3, from: embedded}"


def test_wrappers_and_time_distributed() -> None:
    x = keras.Input((6, 4), name="x")
    bi = keras.layers.Bidirectional(keras.layers.GRU(3, return_sequences=True), merge_mode="sum", name="bi")(x)
    td = keras.layers.TimeDistributed(keras.layers.Dense(2, use_bias=False), name="td")(bi)
    text = assert_round_trip(keras.Model(x, td))
    lines = node_lines(text)
    assert lines["bi"] == "{type: Bidirectional, layer: {type: GRU, units: 3, return_sequences: true}, merge_mode: sum, from: x}"
    assert lines["td"] == "{type: TimeDistributed, layer: {type: Dense, units: 2, use_bias: false}, from: bi}"


def test_frozen_layers_stay_frozen() -> None:
    x = keras.Input((3,), name="x")
    frozen = keras.layers.Dense(2, name="frozen")
    frozen.trainable = False
    model = keras.Model(x, keras.layers.Dense(1, name="y")(frozen(x)))
    text = assert_round_trip(model)
    assert "frozen: {type: Dense, units: 2, trainable: false, from: x}" in text
    assert len(graphspec.build(graphspec.loads(text)).trainable_weights) == 2


# --------------------------------------------------------------------------- custom layers


@keras.saving.register_keras_serializable(package="graphspec_tests")
class Scale(keras.layers.Layer):
    def __init__(self, factor: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape: Any) -> None:
        self.gain = self.add_weight(shape=(input_shape[-1],), initializer="ones")

    def call(self, inputs: Any) -> Any:
        return inputs * self.gain * self.factor

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "factor": self.factor}


class Unregistered(Scale):
    pass


def test_registered_custom_layer_exports_by_registered_name() -> None:
    x = keras.Input((3,), name="x")
    model = keras.Model(x, Scale(2.5, name="scale")(x))
    model.get_layer("scale").set_weights([np.array([1.0, 2.0, 3.0], "float32")])
    text = assert_round_trip(model)
    assert 'scale: {type: "graphspec_tests>Scale", factor: 2.5, from: x}' in text


def test_unregistered_custom_layer_is_refused_unless_given() -> None:
    x = keras.Input((3,), name="x")
    model = keras.Model(x, Unregistered(0.5, name="odd")(x))
    with pytest.raises(ExportError, match=r"layer 'odd' is a .*Unregistered, which is neither a public Keras class nor registered"):
        graphspec.dumps(model)
    text = assert_round_trip(model, custom_objects={"Unregistered": Unregistered})
    assert "odd: {type: Unregistered, factor: 0.5, from: x}" in text


# --------------------------------------------------------------------------- refused


def _refused(model: keras.Model, pattern: str) -> None:
    with pytest.raises(ExportError, match=pattern):
        graphspec.dumps(model)


def test_lambda_is_refused() -> None:
    x = keras.Input((3,), name="x")
    _refused(keras.Model(x, keras.layers.Lambda(lambda t: t * 2, name="double")(x)), r"layer 'double' is a Lambda: it runs a Python function")


def test_custom_activation_functions_are_refused_and_activation_layers_kept() -> None:
    def twice(t: Any) -> Any:
        return t * 2

    x = keras.Input((3,), name="x")
    _refused(keras.Model(x, keras.layers.Dense(2, activation=twice, name="d")(x)), r"layer 'd', argument 'activation': the function 'twice' is not a Keras activation")
    keras.backend.clear_session()
    x = keras.Input((3,), name="x")
    text = assert_round_trip(keras.Model(x, keras.layers.Dense(2, activation=keras.layers.ReLU(max_value=2.0), name="d")(x)))
    assert "d: {type: Dense, units: 2, activation: {type: ReLU, max_value: 2.0}, from: x}" in text


def test_operations_outside_layers_are_refused() -> None:
    x = keras.Input((3,), name="x")
    _refused(keras.Model(x, keras.ops.sin(x)), r"'sin' is the operation keras\.ops\.sin applied to tensors outside any layer; a spec holds layers only")
    keras.backend.clear_session()
    x = keras.Input((3,), name="x")
    _refused(keras.Model(x, x * 2.0), r"'multiply' is the operation keras\.ops\.multiply applied to tensors outside any layer")
    keras.backend.clear_session()
    x, v = keras.Input((3,), name="x"), keras.Input((1,), name="v")
    _refused(keras.Model([x, v], x + v), r"'add' .* its inputs differ in shape")


def test_same_shape_operation_becomes_a_merge() -> None:
    x = keras.Input((3,), name="x")
    h = keras.layers.Dense(3, name="h")(x)
    text = assert_round_trip(keras.Model(x, keras.ops.maximum(x, h) - h))
    assert "{merge: maximum, from: [x, h]}" in text and "{merge: subtract, from: [maximum, h]}" in text


def test_non_tensor_call_arguments_are_refused() -> None:
    x = keras.Input((4,), name="x")
    inner = keras.Model(x, keras.layers.BatchNormalization(name="bn")(x), name="base")
    y = keras.Input((4,), name="y")
    _refused(keras.Model(y, inner(y, training=False)), r"layer 'base' is called with training=False; a spec passes only tensors to a layer")
    keras.backend.clear_session()
    q = keras.Input((5, 8), name="q")
    out, scores = keras.layers.MultiHeadAttention(2, 4, name="att")(q, q, return_attention_scores=True)
    _refused(keras.Model(q, [out, scores]), r"layer 'att' is called with return_attention_scores=True")


def test_positional_tensors_in_an_order_keywords_would_change_are_refused() -> None:
    q, v, k = keras.Input((5, 8), name="q"), keras.Input((7, 8), name="v"), keras.Input((7, 8), name="k")
    a, b, c = (keras.layers.Dense(8, name=n)(t) for n, t in (("a", q), ("b", v), ("c", k)))
    attention = keras.layers.MultiHeadAttention(2, 4, name="att")
    _refused(keras.Model([q, v, k], attention(a, b, c)), r"layer 'att' is called with its tensors \(query, value, key\) in an order .* call it with keywords \(query=..., value=..., key=...\)")
    keras.backend.clear_session()
    q, v, k = keras.Input((5, 8), name="q"), keras.Input((7, 8), name="v"), keras.Input((7, 8), name="k")
    a, b, c = (keras.layers.Dense(8, name=n)(t) for n, t in (("a", q), ("b", v), ("c", k)))
    text = assert_round_trip(keras.Model([q, v, k], keras.layers.MultiHeadAttention(2, 4, name="att")(query=a, value=b, key=c)))
    assert "from: {query: a, value: b, key: c}" in text


def test_subclassed_and_unbuilt_models_are_refused() -> None:
    class Net(keras.Model):
        def __init__(self) -> None:
            super().__init__(name="net")
            self.d = keras.layers.Dense(2)

        def call(self, x: Any) -> Any:
            return self.d(x)

    _refused(Net(), r"the model 'net' is a subclassed model \(.*Net\): its call\(\) is Python code")
    _refused(keras.Sequential([keras.layers.Dense(2)], name="lazy"), r"'lazy' is a Sequential model that is not built")


def test_layer_shared_across_nested_models_is_refused() -> None:
    shared = keras.layers.Dense(4, name="shared")
    v = keras.Input((4,), name="v")
    inner = keras.Model(v, shared(v), name="inner")
    x = keras.Input((4,), name="x")
    _refused(keras.Model(x, shared(inner(x))), r"layer 'shared' is called both in '.*' and in '.*'; a spec shares a layer within one model")


def test_export_error_is_a_value_error() -> None:
    assert issubclass(graphspec.ExportError, ValueError)
    assert {"dumps", "dump", "ExportError"} <= set(graphspec.__all__)


# --------------------------------------------------------------------------- files and the command line


def test_dump_writes_the_file(tmp_path: Path) -> None:
    model = graphspec.build(ROOT / "examples" / "branch.yaml")
    target = tmp_path / "branch.yaml"
    graphspec.dump(model, target)
    assert target.read_text() == graphspec.dumps(model)
    assert [p.name for p in tmp_path.iterdir()] == ["branch.yaml"]  # no temporary file left
    assert graphspec.build(target).count_params() == 903_510


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphspec", *args], cwd=cwd, capture_output=True, text=True)


MODELS_PY = """\
import keras

def small():
    x = keras.Input((4,), name="x")
    return keras.Model(x, keras.layers.Dense(2, name="y")(x), name="small")

def with_lambda():
    x = keras.Input((4,), name="x")
    return keras.Model(x, keras.layers.Lambda(lambda t: t, name="same")(x))

def broken():
    raise RuntimeError("no model today")

NOT_A_MODEL = 3
"""


def test_cli_export_keras_file(tmp_path: Path) -> None:
    """As users run it, in a subprocess: a .keras file (loaded with safe_mode) to a spec file."""
    model = graphspec.build(ROOT / "examples" / "siamese.yaml")
    model.save(tmp_path / "siamese.keras")
    result = _cli("export", "siamese.keras", "-o", "siamese.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rebuilt = graphspec.build(tmp_path / "siamese.yaml")
    assert rebuilt.count_params() == model.count_params()
    rebuilt.set_weights(model.get_weights())
    arrays = random_inputs(model)
    np.testing.assert_allclose(rebuilt(arrays), model(arrays), atol=1e-5)


def test_cli_export_module_attribute_and_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphspec import cli

    (tmp_path / "gs_export_models.py").write_text(MODELS_PY)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "gs_export_models", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(args), out=out, err=err)
        return code, out.getvalue(), err.getvalue()

    code, out, err = run("export", "gs_export_models:small")
    assert code == 0, err
    assert out.endswith("nodes:\n  y: {type: Dense, units: 2, from: x}\noutputs: [y]\n")

    code, out, err = run("export", "gs_export_models:with_lambda", "-o", "bad.yaml")
    assert code == 1
    assert err.startswith("graphspec export: error: gs_export_models:with_lambda: layer 'same' is a Lambda")
    assert not (tmp_path / "bad.yaml").exists()

    for source, message in [
        ("missing.keras", "missing.keras: no such file"),
        ("nowhere:model", "cannot import module 'nowhere'"),
        ("gs_export_models:absent", "module 'gs_export_models' has no attribute 'absent'"),
        ("gs_export_models:NOT_A_MODEL", "'gs_export_models:NOT_A_MODEL' is not a keras.Model (nor a function returning one): found int"),
        ("gs_export_models:broken", "'gs_export_models:broken' failed: RuntimeError: no model today"),
        ("gs_export_models", "'gs_export_models' is neither a .keras file nor 'module:attribute'"),
    ]:
        code, out, err = run("export", source)
        assert code == 2, source
        assert err == f"graphspec export: error: {message}\n" or err.startswith(f"graphspec export: error: {message}"), err
