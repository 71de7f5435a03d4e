"""Load MNIST-style datasets from gzipped IDX files, with numpy only.

Fashion-MNIST needs no download: Debian's ``dataset-fashion-mnist`` package
installs the four files under ``/usr/share/datasets/fashion-mnist/``::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

The folder is the ``data_dir`` argument (the scripts' ``--data-dir``) when
given, else the ``GRAPHSPEC_DATA`` environment variable when set (either one
is used alone, with no fallback), else the first of
``/usr/share/datasets/fashion-mnist`` and ``.data/`` under the project root
(where ``../shared/gpu/fetch-wheels.sh --data`` copies the files) that holds
all four files.

``load("mnist")`` asks ``keras.datasets.mnist`` instead, which downloads the
data the first time (only for users; the tests never do).

Run ``python examples/idx.py`` to print what it finds.
"""

from __future__ import annotations

import argparse
import gzip
import os
import struct
from pathlib import Path

import numpy as np

ENV_VAR = "GRAPHSPEC_DATA"
SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
PROJECT_DIR = Path(__file__).resolve().parent.parent / ".data"
DATASETS = ("fashion_mnist", "mnist")

FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# IDX type codes (the third byte of the magic number) -> numpy dtype, big-endian.
_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DataNotFound(FileNotFoundError):
    """No folder with the four IDX files was found."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (gzipped when its name ends in ``.gz``) into an array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4:
        raise ValueError(f"{path}: too short for an IDX file")
    zero, type_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code not in _DTYPES:
        raise ValueError(f"{path}: not an IDX file (magic {data[:4].hex()})")
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _DTYPES[type_code]
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) - header != count * dtype.itemsize:
        raise ValueError(
            f"{path}: header says {shape} of {dtype} but the file holds "
            f"{len(data) - header} bytes of data"
        )
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def candidate_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The folders looked at, in order."""
    if data_dir is not None:
        return [Path(data_dir)]
    if os.environ.get(ENV_VAR):  # an explicit choice: no silent fallback
        return [Path(os.environ[ENV_VAR])]
    dirs = [SYSTEM_DIR, PROJECT_DIR]
    if Path.cwd() / ".data" != PROJECT_DIR:
        dirs.append(Path.cwd() / ".data")
    return dirs


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for pair in FILES.values() for name in pair)


def find_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The first folder holding all four files, or DataNotFound saying where it looked."""
    dirs = candidate_dirs(data_dir)
    for folder in dirs:
        if _complete(folder):
            return folder
    looked = ", ".join(str(d) for d in dirs)
    raise DataNotFound(
        f"Fashion-MNIST IDX files not found (looked in: {looked}). Install Debian's "
        f"dataset-fashion-mnist package, or point --data-dir or ${ENV_VAR} at a folder "
        f"holding {', '.join(FILES['train'] + FILES['test'])}."
    )


def available(data_dir: str | os.PathLike | None = None) -> bool:
    """Whether the Fashion-MNIST files are installed (no download is ever tried)."""
    try:
        find_dir(data_dir)
    except DataNotFound:
        return False
    return True


def load_fashion_mnist(data_dir: str | os.PathLike | None = None):
    """``(x_train, y_train), (x_test, y_test)`` as uint8 arrays: images (n, 28, 28), labels (n,)."""
    folder = find_dir(data_dir)
    out = []
    for split in ("train", "test"):
        images_file, labels_file = FILES[split]
        x = read_idx(folder / images_file)
        y = read_idx(folder / labels_file)
        if len(x) != len(y):
            raise ValueError(f"{folder}: {len(x)} {split} images but {len(y)} labels")
        out.append((x, y))
    return tuple(out)


def load(dataset: str = "fashion_mnist", data_dir: str | os.PathLike | None = None):
    """Load ``fashion_mnist`` (local IDX files) or ``mnist`` (keras.datasets, downloads)."""
    dataset = dataset.replace("-", "_").lower()
    if dataset == "fashion_mnist":
        return load_fashion_mnist(data_dir)
    if dataset == "mnist":
        if data_dir is not None and _complete(Path(data_dir)):
            return load_fashion_mnist(data_dir)  # MNIST's own IDX files: same names, same format
        import keras

        return keras.datasets.mnist.load_data()
    raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")


def add_arguments(parser: argparse.ArgumentParser, datasets: bool = True) -> None:
    """The data options the example scripts share."""
    if datasets:
        parser.add_argument(
            "--dataset", choices=DATASETS, default="fashion_mnist",
            help="fashion_mnist: local IDX files, no download (default); "
                 "mnist: keras.datasets.mnist, downloads once",
        )
    parser.add_argument(
        "--data-dir", default=None,
        help=f"folder with the gzipped IDX files (default: ${ENV_VAR}, then {SYSTEM_DIR}, "
             f"then .data/)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args()
    try:
        if args.dataset == "fashion_mnist":
            print("reading", find_dir(args.data_dir))
    except DataNotFound as e:
        raise SystemExit(f"error: {e}") from None
    (x_train, y_train), (x_test, y_test) = load(args.dataset, args.data_dir)
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        counts = np.bincount(y, minlength=10)
        print(f"{name}: images {x.shape} {x.dtype}, labels {y.shape} {y.dtype}, "
              f"per class {counts.min()}..{counts.max()}")


if __name__ == "__main__":
    main()
