"""Data for ``graphspec tune``: Fashion-MNIST from the local IDX files, split for a search.

    graphspec tune examples/fashion_mnist/mlp_search.yaml --data examples/fashion_mnist/tune_data.py:load

``load()`` returns ``((x_train, y_train), (x_val, y_val))``: the first 50,000 training
images to train on and the last 10,000 to score trials on (a search never looks at
the test set). Pixels are scaled to [0, 1] and shaped (28, 28, 1). Set
``GRAPHSPEC_TUNE_TRAIN`` to train on fewer images for a quicker search.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import idx

VALIDATION = 10_000


def load():
    (x, y), _ = idx.load_fashion_mnist()
    x = (x.astype("float32") / 255.0)[..., None]
    train = int(os.environ.get("GRAPHSPEC_TUNE_TRAIN", len(x) - VALIDATION))
    return (x[:train], y[:train]), (x[-VALIDATION:], y[-VALIDATION:])
