"""Specs written by hand with flat blocks build exactly what keras.applications builds.

For ResNet50, MobileNetV2 and DenseNet121: the same layers in the same order, each of
the same class with the same configuration (its name aside) and weight shapes, so that
``set_weights(reference.get_weights())`` needs no mapping and gives identical outputs.
Both are built at 32x32, the smallest input keras.applications allows, to keep this fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import graphspec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FAMILIES = [
    ("resnet50", "ResNet50", 177, 25_636_712),
    ("mobilenet_v2", "MobileNetV2", 156, 3_538_984),
    ("densenet121", "DenseNet121", 429, 8_062_504),
]


def _config(layer: keras.layers.Layer) -> dict[str, Any]:
    config = dict(layer.get_config())
    config.pop("name")
    return config


def _pair(stem: str, factory: str) -> tuple[keras.Model, keras.Model]:
    keras.backend.clear_session()
    model = graphspec.build(EXAMPLES / f"{stem}.yaml", params={"size": 32})
    reference = getattr(keras.applications, factory)(weights=None, input_shape=(32, 32, 3))
    return model, reference


@pytest.mark.parametrize(
    ("stem", "factory", "layers", "params"),
    [pytest.param(*f, marks=pytest.mark.slow) if f[0] == "densenet121" else f for f in FAMILIES],  # 429 layers: ~6 s
    ids=[f[0] for f in FAMILIES],
)
def test_spec_equals_keras_applications_layer_by_layer(stem: str, factory: str, layers: int, params: int) -> None:
    model, reference = _pair(stem, factory)
    assert len(model.layers) == len(reference.layers) == layers
    assert model.count_params() == reference.count_params() == params
    for ours, theirs in zip(model.layers, reference.layers, strict=True):
        assert type(ours) is type(theirs), (ours.name, theirs.name)
        if not isinstance(ours, keras.layers.InputLayer):  # the input is named, the batch shape compared below
            assert _config(ours) == _config(theirs), (ours.name, theirs.name)
        assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights], ours.name
    assert tuple(model.input.shape) == tuple(reference.input.shape)
    image = np.random.default_rng(0).random((1, 32, 32, 3), dtype="float32")
    # The last feature map before pooling, and the predictions.
    ours_out, theirs_out = (_probe(m)(image) for m in (model, reference))
    assert not np.array_equal(ours_out[0], theirs_out[0])  # each initialised its own weights
    model.set_weights(reference.get_weights())  # no mapping: the same weights in the same order
    for ours_tensor, theirs_tensor in zip(_probe(model)(image), _probe(reference)(image), strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours_tensor), keras.ops.convert_to_numpy(theirs_tensor))


def _probe(model: keras.Model) -> keras.Model:
    return keras.Model(model.input, [model.layers[-4].output, model.output])


def test_resnet50_loads_a_weights_file_saved_from_keras_and_extracts_features(tmp_path: Path) -> None:
    model, reference = _pair("resnet50", "ResNet50")
    reference.save_weights(tmp_path / "resnet50.weights.h5")
    model.load_weights(tmp_path / "resnet50.weights.h5")
    image = np.random.default_rng(1).random((1, 32, 32, 3), dtype="float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(model(image)), keras.ops.convert_to_numpy(reference(image)))
    # Stage outputs by the names keras.applications gives them; transfer-learning code carries over.
    for stage, block in (("conv2", 3), ("conv3", 4), ("conv4", 6), ("conv5", 3)):
        name = f"{stage}_block{block}_out"
        assert type(model.get_layer(name)) is type(reference.get_layer(name))
    features = keras.Model(model.input, model.get_layer("conv4_block6_out").output)
    expected = keras.Model(reference.input, reference.get_layer("conv4_block6_out").output)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(features(image)), keras.ops.convert_to_numpy(expected(image)))


def test_mobilenet_v2_layer_names_are_those_of_keras_applications() -> None:
    model, reference = _pair("mobilenet_v2", "MobileNetV2")
    ours = [layer.name for layer in model.layers][1:]  # the input layer's name aside
    theirs = [layer.name for layer in reference.layers][1:]
    assert ours == theirs
