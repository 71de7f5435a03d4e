"""Small helpers the example and benchmark scripts share: preprocessing, epoch timing, tables.

Backend-neutral (numpy and Keras callbacks only), so ``benchmarks/gpu_check.py``
uses them on Keras's JAX backend too.
"""

from __future__ import annotations

import math
import statistics
import time

import numpy as np


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 pixels -> float32 in [0, 1]."""
    return images.astype("float32") / 255.0


def for_model(images: np.ndarray, model) -> np.ndarray:
    """Reshape a batch of images to the model's (only) input shape: (n, 784), (n, 28, 28, 1), ..."""
    shape = tuple(model.inputs[0].shape[1:])
    if None in shape:
        return images
    return images.reshape((len(images),) + shape)


def one_hot(labels: np.ndarray, classes: int = 10) -> np.ndarray:
    return np.eye(classes, dtype="float32")[labels]


def make_timer():
    """A Keras callback timing each epoch's training part (validation excluded)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times: list[float] = []
            self._start = 0.0
            self._last = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = self._last = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self._last = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(self._last - self._start)

        @property
        def per_epoch(self) -> float:
            return steady_mean(self.times)

    return EpochTimer()


def steady_mean(times: list[float]) -> float:
    """Seconds per epoch: the first epoch (which includes tracing and compiling) left out
    when there are more; the median of the rest (mean of one or two), which a busy
    neighbour on the machine disturbs less than a mean."""
    if not times:
        return float("nan")
    steady = times[1:] if len(times) > 1 else times
    return statistics.median(steady) if len(steady) >= 3 else statistics.fmean(steady)


def timing_note(epochs: int) -> str:
    if epochs > 1:
        return ("s/epoch: training time only, the median over epochs 2..N "
                "(the first includes tracing and compiling)")
    return "s/epoch: training time only, of the one epoch run (it includes tracing and compiling)"


def _numeric(value) -> bool:
    if value is None or isinstance(value, (int, float)):
        return True
    try:
        float(str(value).replace(",", ""))
    except ValueError:
        return False
    return True


def format_table(headers: list[str], rows: list[list]) -> str:
    """A plain-text table, numbers right-aligned."""

    def cell(v):
        if isinstance(v, float):
            if math.isnan(v):
                return "-"
            return f"{v:.4f}" if abs(v) < 1 else f"{v:,.2f}"
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return "-" if v is None else str(v)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    numeric = [all(_numeric(row[i]) for row in rows) for i in range(len(headers))]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    return "\n".join(out)
