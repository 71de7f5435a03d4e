"""A graphspec model trains under data-parallel distribution, with its variables mirrored.

Devices must be configured before TensorFlow (or JAX) initializes them, so each test runs
a child Python (this file, ``python tests/test_distribute.py tf|jax``):

- TensorFlow: the CPU is split into two logical devices
  (``tf.config.set_logical_device_configuration``); the model is built, and compiled by its
  spec, inside ``tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]).scope()``. Every
  weight's variable must be a ``MirroredVariable`` with one copy per replica, created in
  the strategy's scope (``strategy.extended.variable_created_in_scope``), and so must the
  optimizer's. Five epochs on scikit-learn's digits must lower the loss.
- JAX: ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` gives two CPU devices; with
  ``keras.distribution.set_distribution(keras.distribution.DataParallel(...))`` the model
  is built, every weight must be replicated on both devices, and the loss must fall.
  Skipped, saying why, when JAX is not installed.

The same code, for GPUs and machines, is in docs/distributed.md. About 30 s in all.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The model of docs/distributed.md: digits (8x8 pixels) -> 10 classes.
SPEC = """\
graphspec: 1
name: digits
inputs:
  pixels: {shape: [64]}
nodes:
  hidden: {type: Dense, units: 32, activation: relu, from: pixels}
  probs:  {type: Dense, units: 10, activation: softmax, from: hidden}
outputs: [probs]
compile:
  optimizer: {type: Adam, learning_rate: 0.01}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
"""
EPOCHS = 5
BATCH = 64  # global batch: 32 per replica


def _digits():
    import numpy as np
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    n = len(x) // BATCH * BATCH  # every batch splits evenly over the two devices
    return (x[:n] / 16.0).astype("float32"), y[:n].astype("int32"), np


# --------------------------------------------------------------------------- children


def child_tf() -> dict:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras

    import graphspec

    keras.utils.set_random_seed(0)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = graphspec.build(graphspec.loads(SPEC, file="digits.yaml"))
    x, y, _np = _digits()
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    # after fit: the optimizer's slots (Adam's moments) exist by now
    variables = [w.value for w in model.weights] + [v.value for v in model.optimizer.variables]
    return {
        "replicas": strategy.num_replicas_in_sync,
        "variables": len(variables),
        "mirrored": sum(type(v).__name__ == "MirroredVariable" for v in variables),
        "in_scope": sum(bool(strategy.extended.variable_created_in_scope(v)) for v in variables),
        "copies": sorted({len(getattr(v, "values", ())) for v in variables}),
        "devices": sorted({c.device.split("/")[-1] for v in variables for c in getattr(v, "values", ())}),
        "loss": [float(v) for v in history.history["loss"]],
        "accuracy": float(history.history["accuracy"][-1]),
    }


def child_jax() -> dict:
    import jax
    import keras

    import graphspec

    keras.utils.set_random_seed(0)
    devices = keras.distribution.list_devices()
    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
    model = graphspec.build(graphspec.loads(SPEC, file="digits.yaml"))
    x, y, _np = _digits()
    history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    return {
        "jax_devices": len(jax.devices()),
        "keras_devices": devices,
        "variables": len(model.weights),
        "replicated": sum(
            w.value.sharding.is_fully_replicated and len(w.value.sharding.device_set) == 2 for w in model.weights
        ),
        "loss": [float(v) for v in history.history["loss"]],
        "accuracy": float(history.history["accuracy"][-1]),
    }


# --------------------------------------------------------------------------- tests


def _run(which: str, **env: str) -> dict:
    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT), **env)
    done = subprocess.run(
        [sys.executable, __file__, which], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        pytest.fail(f"the {which} child exited with {done.returncode}:\n{done.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def _assert_learns(result: dict) -> None:
    loss = result["loss"]
    assert len(loss) == EPOCHS
    assert loss[-1] < 0.5 * loss[0], f"the loss did not fall: {loss}"
    assert result["accuracy"] > 0.8, result


def test_mirrored_strategy_two_logical_cpus() -> None:
    result = _run("tf", KERAS_BACKEND="tensorflow")
    assert result["replicas"] == 2
    assert result["variables"] >= 12  # 2 kernels, 2 biases, Adam's 2 moments of each, its step
    assert result["mirrored"] == result["variables"], result
    assert result["in_scope"] == result["variables"], result
    assert result["copies"] == [2], result
    assert result["devices"] == ["device:CPU:0", "device:CPU:1"], result
    _assert_learns(result)


def test_jax_data_parallel_two_cpu_devices() -> None:
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install jax); keras.distribution.DataParallel is not tested")
    result = _run("jax", KERAS_BACKEND="jax", XLA_FLAGS="--xla_force_host_platform_device_count=2")
    assert result["jax_devices"] == 2, result
    assert result["keras_devices"] == ["cpu:0", "cpu:1"], result
    assert result["replicated"] == result["variables"] == 4, result
    _assert_learns(result)


if __name__ == "__main__":
    which = sys.argv[1]
    print("RESULT " + json.dumps(child_tf() if which == "tf" else child_jax()), flush=True)
