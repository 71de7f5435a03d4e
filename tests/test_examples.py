"""Every shipped example builds the model its hand-written Keras twin builds.

For each ``examples/NAME.yaml``, ``graphspec.build`` is compared with
``reference_models.NAME()``: parameter count, trainable and non-trainable weight
shapes, unique variables (shared layers and blocks count once), input and output
shapes. Then each example's particular promise is checked: layer names after nodes,
compile arguments, named inputs and outputs, weight sharing, nested block models.
One test trains a small spec end to end on scikit-learn's digits.

Tests named ``test_blocks_*`` and ``test_imports_*`` need blocks (docs/language.md,
"Blocks") and the top-level ``imports`` key (an addition to the language: it brings
in the ``blocks`` of another file). They are never skipped: until those features
exist, they fail, and the failure says which one is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

import graphspec

try:  # tests/ as a package, or (pytest's default "prepend" mode) on sys.path
    from tests import reference_models
except ImportError:  # pragma: no cover - depends on how pytest was started
    import reference_models  # type: ignore[no-redef]

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/graphspec.schema.json"
ALL_FILES = sorted(EXAMPLES.glob("*.yaml")) + sorted(EXAMPLES.glob("lib/*.yaml"))

#: examples whose reference is reference_models.<stem>
PLAIN = ["mlp", "branch", "ticket_classifier", "siamese", "toy_resnet", "keywords_wrapper"]
#: examples that need blocks (and, for unet/inception, imports)
BLOCKS = ["resnet50", "unet", "inception", "cyclegan", "mobilenet_v2", "densenet121"]


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def built() -> Iterator[Callable[[str], keras.Model]]:
    """``built("mlp")``: graphspec.build of examples/mlp.yaml, built once per module."""
    cache: dict[str, keras.Model] = {}

    def get(stem: str) -> keras.Model:
        if stem not in cache:
            keras.backend.clear_session()
            path = EXAMPLES / ("lib/conv_blocks.yaml" if stem == "conv_blocks" else f"{stem}.yaml")
            cache[stem] = graphspec.build(path)
        return cache[stem]

    yield get
    cache.clear()
    keras.backend.clear_session()


def reference(stem: str, **kwargs: Any) -> keras.Model:
    keras.backend.clear_session()
    return reference_models.REFERENCES[stem](**kwargs)


def weight_shapes(weights: list[Any]) -> list[tuple[int, ...]]:
    return sorted(tuple(w.shape) for w in weights)


def unique_variables(model: keras.Model) -> int:
    """Variables counted once however many layers or calls hold them."""
    return len({id(v) for v in model.weights})


def input_signature(model: keras.Model) -> list[tuple[tuple[Any, ...], str]]:
    return [(tuple(t.shape), str(t.dtype)) for t in model.inputs]


def output_shapes(model: keras.Model) -> Any:
    """{name: shape} for named outputs, else a list of shapes in order."""
    out = model.output
    if isinstance(out, dict):
        return {k: tuple(v.shape) for k, v in out.items()}
    return [tuple(t.shape) for t in model.outputs]


def assert_same_model(model: keras.Model, ref: keras.Model) -> None:
    assert model.count_params() == ref.count_params()
    assert weight_shapes(model.trainable_weights) == weight_shapes(ref.trainable_weights)
    assert weight_shapes(model.non_trainable_weights) == weight_shapes(ref.non_trainable_weights)
    assert unique_variables(model) == unique_variables(ref)
    assert input_signature(model) == input_signature(ref)
    assert output_shapes(model) == output_shapes(ref)


def layer_names(model: keras.Model) -> list[str]:
    return [layer.name for layer in model.layers]


# --------------------------------------------------------------------------- the files


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_starts_with_schema_line(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    expected = SCHEMA_LINE if path.parent == EXAMPLES else SCHEMA_LINE.replace("../", "../../")
    assert first == expected


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(EXAMPLES)))
def test_example_loads(path: Path) -> None:
    """Each example loads clean: no warning, and the expanded graph has every node of the file."""
    spec = graphspec.load(path)
    assert spec.warnings == []
    assert spec.checks is not None
    assert [node.name for node in spec.checks.graph.nodes] == list(spec.checks.structure.orders[("nodes",)])
    assert sorted(spec.checks.structure.orders[("nodes",)]) == sorted(spec.nodes)


def test_reference_counts() -> None:
    """The hand-written twins have the sizes the tutorials and keras.applications give."""
    assert reference("mlp").count_params() == 648_010
    assert reference("branch").count_params() == 903_510
    assert reference("toy_resnet").count_params() == 223_242
    hand = reference("resnet50")
    assert hand.count_params() == 25_636_712
    assert_same_model(hand, reference_models.keras_resnet50())


# --------------------------------------------------------------------------- plain examples


@pytest.mark.parametrize("stem", PLAIN)
def test_example_matches_reference(stem: str, built: Callable[[str], keras.Model]) -> None:
    assert_same_model(built(stem), reference(stem))


def test_mlp(built: Callable[[str], keras.Model]) -> None:
    model = built("mlp")
    assert model.name == "mlp"
    assert model.count_params() == 648_010
    assert layer_names(model) == ["x", "h_1", "h_2", "y"]
    assert [model.get_layer(n).units for n in ("h_1", "h_2", "y")] == [500, 500, 10]


def test_mlp_param_override() -> None:
    keras.backend.clear_session()
    model = graphspec.build(EXAMPLES / "mlp.yaml", params={"hidden": 256})
    assert_same_model(model, reference("mlp", hidden=256))
    assert model.count_params() == 269_322


def test_mlp_is_compiled(built: Callable[[str], keras.Model]) -> None:
    model = built("mlp")
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)
    x = np.random.default_rng(0).random((8, 784), dtype="float32")
    y = keras.utils.to_categorical(np.arange(8) % 10, 10)
    history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}


def test_branch(built: Callable[[str], keras.Model]) -> None:
    model = built("branch")
    assert model.name == "branch_and_merge"
    assert model.count_params() == 903_510
    assert layer_names(model) == ["x", "h_1", "h_2", "z", "u", "y"]
    assert isinstance(model.get_layer("u"), keras.layers.Concatenate)
    assert isinstance(model.optimizer, keras.optimizers.SGD)


def test_build_from_loaded_spec_equals_build_from_path() -> None:
    path = EXAMPLES / "branch.yaml"
    keras.backend.clear_session()
    from_path = graphspec.build(path)
    keras.backend.clear_session()
    from_spec = graphspec.build(graphspec.loads(path.read_text(), file=str(path)))
    assert from_path.count_params() == from_spec.count_params() == 903_510
    assert layer_names(from_path) == layer_names(from_spec) == ["x", "h_1", "h_2", "z", "u", "y"]
    assert from_path.to_json() == from_spec.to_json()


def test_ticket_classifier(built: Callable[[str], keras.Model]) -> None:
    model = built("ticket_classifier")
    assert [t.name for t in model.inputs] == ["title", "body", "tags"]
    assert set(model.output) == {"priority", "department"}
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    rng = np.random.default_rng(0)
    x = {
        "title": rng.integers(0, 10000, size=(8, 10)),
        "body": rng.integers(0, 10000, size=(8, 20)),
        "tags": rng.integers(0, 2, size=(8, 12)).astype("float32"),
    }
    y = {
        "priority": rng.random((8, 1), dtype="float32"),
        "department": keras.utils.to_categorical(np.arange(8) % 4, 4),
    }
    logs = model.fit(x, y, epochs=1, batch_size=8, verbose=0).history
    # The losses mapping reached compile, and so did loss_weights {1.0, 0.2}.
    assert logs["loss"][0] == pytest.approx(
        logs["priority_loss"][0] + 0.2 * logs["department_loss"][0], rel=1e-4
    )


def test_siamese_shares_weights(built: Callable[[str], keras.Model]) -> None:
    model = built("siamese")
    # The encoder block says `model: true`: one nested model; the share calls it again,
    # adding no layer and no variable.
    assert layer_names(model) == ["left", "right", "enc_left", "diff", "prod", "both", "score"]
    encoder = model.get_layer("enc_left")
    assert isinstance(encoder, keras.Model)
    assert layer_names(encoder) == ["tokens", "embed", "lstm", "enc"]
    unshared = 5000 * 64 + (4 * 64 * (64 + 64) + 4 * 64) + (64 * 32 + 32)
    assert model.count_params() == unshared + (64 + 1) == 355_169
    assert unique_variables(model) == 1 + 3 + 2 + 2  # embedding, LSTM, Dense, score
    assert unique_variables(model) == unique_variables(reference("siamese"))
    # Same tokens on both sides -> identical encodings -> their difference is exactly 0.
    probe = keras.Model(model.inputs, model.get_layer("diff").output)
    tokens = np.random.default_rng(0).integers(0, 5000, size=(2, 7))
    assert np.all(keras.ops.convert_to_numpy(probe([tokens, tokens])) == 0)


def test_toy_resnet(built: Callable[[str], keras.Model]) -> None:
    model = built("toy_resnet")
    assert model.count_params() == 223_242
    assert isinstance(model.get_layer("block_2"), keras.layers.Add)
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)


def test_keywords_wrapper(built: Callable[[str], keras.Model]) -> None:
    model = built("keywords_wrapper")
    bi = model.get_layer("bi")
    assert isinstance(bi, keras.layers.Bidirectional)
    assert isinstance(bi.forward_layer, keras.layers.LSTM) and bi.forward_layer.units == 32
    assert isinstance(model.get_layer("att"), keras.layers.MultiHeadAttention)
    init = model.get_layer("hidden").kernel_initializer
    assert isinstance(init, keras.initializers.HeNormal) and init.seed == 1
    # enc.1 and enc.2 are the LSTM's h and c states, 64 wide each.
    assert tuple(model.get_layer("state").output.shape) == (None, 128)
    rng = np.random.default_rng(0)
    out = model([rng.integers(0, 1000, size=(2, 9)), rng.integers(0, 1000, size=(2, 4))])
    assert tuple(out.shape) == (2, 5)


def test_digits_end_to_end(tmp_path: Path) -> None:
    """A compiled spec trains: an MLP on sklearn's 8x8 digits, well above 10% chance."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    spec = tmp_path / "digits_mlp.yaml"
    spec.write_text(
        "inputs:\n"
        "  pixels: {shape: [64]}\n"
        "nodes:\n"
        "  hidden: {type: Dense, units: $hidden, activation: relu, from: pixels}\n"
        "  probs: {type: Dense, units: 10, activation: softmax, from: hidden}\n"
        "outputs: [probs]\n"
        "params: {hidden: 64}\n"
        "compile:\n"
        "  optimizer: {type: Adam, learning_rate: 0.01}\n"
        "  loss: sparse_categorical_crossentropy\n"
        "  metrics: [accuracy]\n"
    )
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        (x / 16.0).astype("float32"), y, test_size=0.25, random_state=0, stratify=y
    )
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = graphspec.build(spec)
    assert model.name == "digits_mlp"
    model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.85


# --------------------------------------------------------------------------- blocks


def test_blocks_resnet50_matches_keras_applications(built: Callable[[str], keras.Model]) -> None:
    assert len((EXAMPLES / "resnet50.yaml").read_text().splitlines()) < 100
    model = built("resnet50")
    assert model.count_params() == 25_636_712
    keras.backend.clear_session()
    assert_same_model(model, reference_models.keras_resnet50())
    # Flat blocks: the 177 layers of keras.applications.ResNet50, no nested model.
    assert len(model.layers) == 177
    assert not [layer for layer in model.layers if isinstance(layer, keras.Model)]
    assert tuple(model.get_layer("conv4_block6_out").output.shape) == (None, 14, 14, 1024)
    assert tuple(model.get_layer("conv5_block3_out").output.shape) == (None, 7, 7, 2048)
    assert isinstance(model.get_layer("conv2_block1_conv0"), keras.layers.Conv2D)  # the projection shortcut


def test_blocks_unet(built: Callable[[str], keras.Model]) -> None:
    model = built("unet")
    assert_same_model(model, reference("unet"))
    # Flat blocks: no nested model; layers named <instance>_<node>, nested instances composed.
    assert not [layer for layer in model.layers if isinstance(layer, keras.Model)]
    # The block's outputs mapping: `skip` before pooling (double_conv's last ReLU), `out` after.
    assert tuple(model.get_layer("down1_conv_second_relu").output.shape) == (None, 64, 64, 16)
    assert tuple(model.get_layer("down1_pool").output.shape) == (None, 32, 32, 16)
    assert isinstance(model.get_layer("up1_upsample"), keras.layers.Conv2DTranspose)
    # Feature extraction from a block's output, as with keras.applications.
    features = keras.Model(model.input, model.get_layer("down2_pool").output)
    assert tuple(features(np.zeros((1, 64, 64, 3), dtype="float32")).shape) == (1, 16, 16, 32)
    mask = model(np.zeros((1, 64, 64, 3), dtype="float32"))
    assert tuple(mask.shape) == (1, 64, 64, 1)


def test_blocks_inception(built: Callable[[str], keras.Model]) -> None:
    model = built("inception")
    assert_same_model(model, reference("inception"))
    block = model.get_layer("mixed_3a_mixed")
    assert isinstance(block, keras.layers.Concatenate)
    # Four parallel branches concatenated: 64 + 128 + 32 + 32 channels.
    assert tuple(block.output.shape) == (None, 32, 32, 256)
    assert tuple(model.get_layer("mixed_3b_mixed").output.shape) == (None, 32, 32, 480)
    assert isinstance(model.get_layer("mixed_3a_b3_reduce_conv"), keras.layers.Conv2D)


def test_blocks_cyclegan_shares_generators(built: Callable[[str], keras.Model]) -> None:
    model = built("cyclegan")
    ref = reference("cyclegan")
    assert_same_model(model, ref)
    # The generator block says `model: true`: each block node is one nested model.
    assert sorted(layer_names(model)) == ["g_ab", "g_ba", "real_a", "real_b"]
    g_ab, g_ba = model.get_layer("g_ab"), model.get_layer("g_ba")
    assert isinstance(g_ab, keras.Model) and isinstance(g_ba, keras.Model)
    assert g_ab is not g_ba
    # Its inner residual blocks are flat, inside the nested model.
    assert "res_2_add" in layer_names(g_ab)
    # Six generator calls, two generators' weights.
    assert model.count_params() == g_ab.count_params() + g_ba.count_params() == 101_958
    assert unique_variables(model) == unique_variables(g_ab) + unique_variables(g_ba)
    assert set(model.output) == {
        "fake_a", "fake_b", "cycled_a", "cycled_b", "identity_a", "identity_b"
    }
    # identity_b = G_ab(real_b) and fake_b = G_ab(real_a): the same weights.
    image = np.random.default_rng(0).random((1, 32, 32, 3), dtype="float32")
    out = {k: keras.ops.convert_to_numpy(v) for k, v in model([image, image]).items()}
    np.testing.assert_array_equal(out["fake_b"], out["identity_b"])
    np.testing.assert_array_equal(out["fake_a"], out["identity_a"])
    assert not np.array_equal(out["fake_a"], out["fake_b"])


# --------------------------------------------------------------------------- imports


def test_imports_library_builds_on_its_own(built: Callable[[str], keras.Model]) -> None:
    assert_same_model(built("conv_blocks"), reference("conv_blocks"))


def test_imports_bring_in_only_blocks(built: Callable[[str], keras.Model]) -> None:
    importers = [p.stem for p in EXAMPLES.glob("*.yaml") if "lib/conv_blocks.yaml" in p.read_text()]
    assert sorted(importers) == ["inception", "unet"]
    for stem in importers:
        model = built(stem)
        names = layer_names(model)
        # The library's own inputs and nodes stay out of the importing model.
        assert not {"features", "pooled", "logits"} & set(names), stem
        assert [t.name for t in model.inputs] == ["image"], stem
