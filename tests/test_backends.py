"""Every example builds and trains on Keras's other backends, with the same parameters.

For each backend (JAX, PyTorch) a child Python runs with ``KERAS_BACKEND`` set (the
backend is fixed when Keras is first imported, so it cannot change inside the pytest
process), builds every ``examples/**/*.yaml`` (block libraries in ``examples/lib/``
are specs too, but are covered by the examples that import them), and reports each
model's ``count_params()``. Another child does the same on TensorFlow, and the counts
must agree. The child then runs one ``train_on_batch`` step on random data shaped after
the model's inputs and outputs (small integers for integer inputs, class indices for
sparse losses, a dict for named outputs), compiled as the spec's ``compile`` section
says, or with ``compile(optimizer="sgd", loss="mse")`` when it has none, and the loss
must be finite.

``resnet50.yaml``, ``mobilenet_v2.yaml`` and ``densenet121.yaml`` are only built and
counted on JAX and PyTorch: one training step of ResNet50 at 224x224 takes about 15 s on a
2-core CPU with JAX (XLA compilation), too much for this file's budget. ResNet50 is trained
on GPUs by ``benchmarks/gpu_check.py``; all three equal their keras.applications models
layer by layer (tests/test_applications.py).

One child per backend builds every example (the backend is fixed when Keras is first
imported, so one process serves all examples of a backend). tests/conftest.py starts the
children when the tests are collected and runs these tests last, so the children, about
80 s of CPU for JAX (most of it XLA compiling train steps) and 15 s for TensorFlow's
counts, run beside the rest of the suite.

A backend whose package is not installed is skipped, saying so (``pip install jax``,
``pip install torch``).

This file is also the child: ``python tests/test_backends.py [--train] FILE...`` prints
one JSON line per file.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SPECS = sorted(p for p in EXAMPLES.rglob("*.yaml") if "lib" not in p.relative_to(EXAMPLES).parts)
# keras.applications-sized models at 224x224: one training step each is tens of seconds of
# XLA on a CPU; they are built and counted here.
NOT_TRAINED = {
    name: "one training step at 224x224 is too slow on a CPU for this test"
    for name in ("resnet50.yaml", "mobilenet_v2.yaml", "densenet121.yaml")
}
BACKENDS = {"jax": "jax", "torch": "torch"}  # backend -> the package it needs
CHILD_TIMEOUT = 600
SHARDS = 1  # children per backend that trains


# --------------------------------------------------------------------------- the child


def _random_inputs(model: Any, rng: Any, batch: int) -> Any:
    arrays = []
    for tensor in model.inputs:
        shape = (batch,) + tuple(5 if d is None else d for d in tensor.shape[1:])
        dtype = str(tensor.dtype)
        if "int" in dtype:
            arrays.append(rng.integers(0, 10, shape).astype(dtype))  # below any Embedding's input_dim
        else:
            arrays.append(rng.uniform(0.0, 1.0, shape).astype(dtype))
    return arrays[0] if len(arrays) == 1 else arrays


def _random_targets(model: Any, rng: Any, batch: int) -> Any:
    """Targets in the structure of ``model.output``: one array, a list, or a dict by name."""
    losses = getattr(model, "loss", None)

    def target(key: Any, tensor: Any) -> Any:
        loss = losses.get(key) if isinstance(losses, dict) else (
            losses[key] if isinstance(losses, (list, tuple)) and isinstance(key, int) else losses
        )
        shape = (batch,) + tuple(5 if d is None else d for d in tensor.shape[1:])
        if "sparse" in repr(loss).lower():  # class indices, not one-hot vectors
            return rng.integers(0, shape[-1], shape[:-1]).astype("int32")
        return rng.uniform(0.0, 1.0, shape).astype("float32")

    output = model.output
    if isinstance(output, dict):
        return {key: target(key, tensor) for key, tensor in output.items()}
    if isinstance(output, (list, tuple)):
        return [target(i, tensor) for i, tensor in enumerate(output)]
    return target(None, output)


def child(files: list[str], train: bool) -> None:
    """Build each file (and train one step); print one JSON line per file."""
    import keras
    import numpy as np

    import graphspec

    for file in files:
        result: dict[str, Any] = {"file": file, "backend": keras.backend.backend()}
        start = time.perf_counter()
        try:
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            model = graphspec.build(file)
            result["params"] = int(model.count_params())
            if train and Path(file).name not in NOT_TRAINED:
                if not model.compiled:
                    model.compile(optimizer="sgd", loss="mse")
                rng = np.random.default_rng(0)
                x, y = _random_inputs(model, rng, 4), _random_targets(model, rng, 4)
                logs = model.train_on_batch(x, y, return_dict=True)
                result["loss"] = float(logs["loss"])
        except Exception as error:  # any failure is reported to the parent
            result["error"] = f"{type(error).__name__}: {error}"[:2000]
        result["seconds"] = round(time.perf_counter() - start, 2)
        print("RESULT " + json.dumps(result), flush=True)


# --------------------------------------------------------------------------- the tests


_children: dict[str, list[subprocess.Popen]] = {}
_cache: dict[str, dict[str, dict[str, Any]]] = {}


def _installed(backend: str) -> bool:
    return backend == "tensorflow" or importlib.util.find_spec(BACKENDS[backend]) is not None


def _start_children() -> None:
    """Start every child at once: the TensorFlow one, and SHARDS per installed backend
    (each trains every SHARDS-th example), so that they share the cores."""
    if _children:
        return
    for backend in [b for b in BACKENDS if _installed(b)] + ["tensorflow"]:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
        env.pop("XLA_FLAGS", None)
        train = ["--train"] if backend != "tensorflow" else []  # TensorFlow training: tests/test_examples.py
        shards = SHARDS if train else 1
        _children[backend] = [
            subprocess.Popen(
                [sys.executable, __file__, *train, *(str(p) for p in SPECS[shard::shards])],
                env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )
            for shard in range(shards)
        ]


def _stop_children() -> None:
    """End children still running (an interrupted session): they would run on for minutes."""
    for processes in _children.values():
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()


def _results(backend: str) -> dict[str, dict[str, Any]]:
    if not _installed(backend):
        pytest.skip(f"{BACKENDS[backend]} is not installed (pip install {BACKENDS[backend]}); the {backend} backend is not tested")
    if backend not in _cache:
        _start_children()
        results = {}
        for child_process in _children[backend]:
            try:
                stdout, stderr = child_process.communicate(timeout=CHILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                child_process.kill()
                stdout, stderr = child_process.communicate()
            for line in stdout.splitlines():
                if line.startswith("RESULT "):
                    row = json.loads(line[len("RESULT "):])
                    results[Path(row["file"]).relative_to(EXAMPLES).as_posix()] = row
            if child_process.returncode != 0:
                pytest.fail(f"a {backend} child exited with {child_process.returncode}:\n{stderr[-4000:]}")
        if len(results) != len(SPECS):
            pytest.fail(f"the {backend} children reported {len(results)} of {len(SPECS)} examples")
        _cache[backend] = results
    return _cache[backend]


IDS = [p.relative_to(EXAMPLES).as_posix() for p in SPECS]


def test_examples_found() -> None:
    assert "mlp.yaml" in IDS and "resnet50.yaml" in IDS and not any(i.startswith("lib/") for i in IDS)


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("example", IDS)
def test_example_on_backend(backend: str, example: str) -> None:
    """Builds with the TensorFlow backend's parameter count; one training step, finite loss."""
    other = _results(backend)[example]
    reference = _results("tensorflow")[example]
    assert "error" not in reference, f"TensorFlow backend: {reference['error']}"
    assert "error" not in other, f"{backend} backend: {other['error']}"
    assert other["params"] == reference["params"], f"{example}: {other['params']:,} params on {backend}, {reference['params']:,} on TensorFlow"
    if example in NOT_TRAINED:
        assert "loss" not in other
        return
    assert math.isfinite(other["loss"]), f"{example}: loss {other['loss']} after one step on {backend}"


if __name__ == "__main__":
    arguments = sys.argv[1:]
    train_flag = "--train" in arguments
    child([a for a in arguments if a != "--train"], train_flag)
