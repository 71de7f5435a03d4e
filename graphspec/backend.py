"""Keras and its backend, imported only where a model is built, exported or measured.

The core install (pyyaml, pydantic, networkx) loads and validates specs; Keras and a
backend come from an extra. When one is missing, the stages that need them stop with
one sentence saying which extra to install, never an import traceback.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

DISTRIBUTION = "keras-graphspec"
BACKEND_PACKAGES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


class BackendError(ImportError):
    """Keras, or the backend Keras is set to use, is not installed."""


def import_keras() -> ModuleType:
    """`keras`, or a `BackendError` that says what to install.

    Example:
        >>> keras = import_keras()  # doctest: +SKIP
    """
    try:
        import keras
    except ImportError as error:
        if getattr(error, "name", None) == "keras":
            raise BackendError(
                f"Keras is not installed: building needs Keras 3 and a backend; "
                f"pip install '{DISTRIBUTION}[tensorflow]' (or [jax], or [torch])"
            ) from None
        raise BackendError(_backend_hint(error)) from None
    return keras


def _backend_hint(error: ImportError) -> str:
    wanted = os.environ.get("KERAS_BACKEND") or "tensorflow"
    installed = [name for name, package in BACKEND_PACKAGES.items() if _installed(package)]
    text = f"Keras cannot load its backend '{wanted}' ({error}): pip install '{DISTRIBUTION}[{wanted if wanted in BACKEND_PACKAGES else 'tensorflow'}]'"
    others = [name for name in installed if name != wanted]
    if others:
        text += f", or choose an installed one: KERAS_BACKEND={others[0]}"
    return text


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # blocked, or a module without a spec
        return False


# TensorFlow's C++ start-up lines (absl's banner, I/W/E lines such as "failed call to cuInit",
# the CPU-instructions notice): informational, printed below Python's logging, some even
# with TF_CPP_MIN_LOG_LEVEL=3.
_NATIVE_LOG = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWEF]\d{4} [\d:. ]+\d+ \S+:\d+\] "
    r"|To enable the following instructions: .*rebuild TensorFlow)"
)


@contextlib.contextmanager
def quiet_native_logs(enabled: bool = True) -> Iterator[None]:
    """Drop TensorFlow's native start-up log lines from standard error while the block runs.

    Everything else written to standard error (Python's warnings, our messages) is kept
    and written out, in order, when the block ends. Nothing is dropped when `enabled` is
    false or when the user set ``TF_CPP_MIN_LOG_LEVEL`` themselves.
    """
    if not enabled or "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        yield
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            del os.environ["TF_CPP_MIN_LOG_LEVEL"]
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(keepends=True) if not _NATIVE_LOG.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


# Keras walks a model's graph recursively (one Python frame per layer on a chain, in
# keras.src.ops.function's map_graph, when a Functional model is made or loaded), so a
# chain deeper than Python's recursion limit (1,000 by default) fails to build or load.
FRAMES_PER_LAYER = 3  # map_graph's helper is one frame per layer; a margin for the others


@contextlib.contextmanager
def deep_recursion(layers: int = 100_000) -> Iterator[None]:
    """Room for Keras's recursive graph walks over a chain of `layers` layers, while the block runs.

    ``graphspec.build`` uses it around the Keras calls of a deep spec; use it around
    ``keras.models.load_model`` of a deep model. It raises Python's recursion limit for the
    block only, and only when needed, and restores it after. Python 3.11+ runs
    Python-to-Python recursion without growing the C stack, so no thread with a larger
    stack is needed; a thread would also lose Keras's thread-local state (the dtype policy,
    custom object and safe-mode scopes) that the caller's build relies on.

    Example:
        >>> with graphspec.deep_recursion():  # doctest: +SKIP
        ...     model = keras.models.load_model("chain_10000.keras")
    """
    previous = sys.getrecursionlimit()
    needed = previous + FRAMES_PER_LAYER * layers
    if layers * FRAMES_PER_LAYER < previous // 2:
        yield  # the default limit has room: change nothing
        return
    sys.setrecursionlimit(needed)
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)
