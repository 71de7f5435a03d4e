"""Training a graphspec-built model is training the Keras model one would write by hand.

(a) The tutorial MLP built from YAML and the same MLP written with the Keras
    functional API, given the same weights, train to the same per-batch losses
    and final weights (Fashion-MNIST subset when installed, else scikit-learn's
    8x8 digits through a spec with 64 inputs). No network.
(b) slow: the Fashion-MNIST MLP spec learns: one epoch on the local data
    reaches a test accuracy above 0.75. Skipped when the data is not installed.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

import idx  # noqa: E402
import keras  # noqa: E402

import graphspec  # noqa: E402

HAVE_FASHION = idx.available()
NO_FASHION = (
    "Fashion-MNIST IDX files not installed: install Debian's dataset-fashion-mnist "
    f"(files in {idx.SYSTEM_DIR}) or point ${idx.ENV_VAR} at a folder holding them"
)

SUBSET = 2000  # training examples for (a): 20 batches of 100 (digits has 1,797: 18)
BATCH = 100
HIDDEN = 500

DIGITS_SPEC = """\
    graphspec: 1
    name: mlp_digits
    params:
      hidden: 500
    inputs:
      x: {shape: [64]}
    nodes:
      h_1: {type: Dense, units: $hidden, activation: sigmoid, from: x}
      h_2: {type: Dense, units: $hidden, activation: sigmoid, from: h_1}
      y:   {type: Dense, units: 10, activation: softmax, from: h_2}
    outputs: [y]
    compile:
      optimizer: {type: SGD, learning_rate: 0.1}
      loss: mse
      metrics: [accuracy]
"""


def _subset(tmp_path):
    """(spec path, x, one-hot y, source): a fixed, unshuffled subset of real data."""
    if HAVE_FASHION:
        (x, y), _ = idx.load_fashion_mnist()
        x = x[:SUBSET].reshape(SUBSET, 784).astype("float32") / 255.0
        return EXAMPLES / "mlp.yaml", x, np.eye(10, dtype="float32")[y[:SUBSET]], "fashion-mnist"
    from sklearn.datasets import load_digits

    digits = load_digits()  # bundled with scikit-learn: no download
    x = digits.data[:SUBSET].astype("float32") / 16.0
    y = np.eye(10, dtype="float32")[digits.target[:SUBSET]]
    spec = tmp_path / "mlp_digits.yaml"
    spec.write_text(textwrap.dedent(DIGITS_SPEC))
    return spec, x, y, "digits"


def _by_hand(n_inputs: int):
    """The tutorial's MLP, written with the Keras functional API."""
    x = keras.Input(shape=(n_inputs,), name="x")
    h_1 = keras.layers.Dense(HIDDEN, activation="sigmoid", name="h_1")(x)
    h_2 = keras.layers.Dense(HIDDEN, activation="sigmoid", name="h_2")(h_1)
    y = keras.layers.Dense(10, activation="softmax", name="y")(h_2)
    model = keras.Model(x, y, name="by_hand")
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse",
                  metrics=["accuracy"])
    return model


class _BatchLosses(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(logs["loss"]))


def _train_one_epoch(model, x, y):
    record = _BatchLosses()
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[record])
    return np.array(record.losses)


def test_same_model_same_training(tmp_path):
    spec, x, y, source = _subset(tmp_path)

    keras.utils.set_random_seed(0)
    built = graphspec.build(str(spec))
    keras.utils.set_random_seed(0)
    hand = _by_hand(x.shape[1])

    assert [w.shape for w in built.get_weights()] == [w.shape for w in hand.get_weights()]
    assert built.count_params() == hand.count_params()
    hand.set_weights(built.get_weights())
    for a, b in zip(built.get_weights(), hand.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # The spec's compile section gave the built model the tutorial's recipe.
    assert built.optimizer is not None, f"{spec.name}: compile section not applied"
    assert type(built.optimizer).__name__ == "SGD"
    lr = float(keras.ops.convert_to_numpy(built.optimizer.learning_rate))
    assert lr == pytest.approx(0.1)

    built_losses = _train_one_epoch(built, x, y)
    hand_losses = _train_one_epoch(hand, x, y)

    assert len(built_losses) == len(hand_losses) == -(-len(x) // BATCH), source
    assert np.all(np.isfinite(built_losses)), source
    np.testing.assert_allclose(built_losses, hand_losses, rtol=1e-5, atol=1e-7,
                               err_msg=f"per-batch losses differ ({source})")
    for a, b in zip(built.get_weights(), hand.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6,
                                   err_msg=f"trained weights differ ({source})")
    # And the training did something: the loss moved.
    assert built_losses[-1] != built_losses[0]


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_FASHION, reason=NO_FASHION)
def test_fashion_mnist_mlp_learns_in_one_epoch():
    """The Fashion-MNIST MLP spec (its own compile section: Adam, sparse categorical
    crossentropy), one epoch over all 60,000 training images, batch 100."""
    (x_train, y_train), (x_test, y_test) = idx.load_fashion_mnist()
    x_train = x_train[..., None].astype("float32") / 255.0
    x_test = x_test[..., None].astype("float32") / 255.0

    keras.utils.set_random_seed(0)
    model = graphspec.build(str(EXAMPLES / "fashion_mnist" / "mlp_256_128_100.yaml"))
    assert model.count_params() == 247_766
    model.fit(x_train, y_train, batch_size=100, epochs=1, verbose=0)
    results = model.evaluate(x_test, y_test, batch_size=1000, verbose=0, return_dict=True)
    assert results["accuracy"] > 0.75, results
