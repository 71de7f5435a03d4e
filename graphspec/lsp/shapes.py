"""Output shapes and parameter counts, from Keras, in a background process.

Importing Keras takes seconds and building a model can take more, so the server never
does it: `ShapesClient` starts ``python -m graphspec.lsp.shapes`` the first time a
hover wants shapes, keeps it for the session, and sends it the latest text of a spec
(one request in flight, the newest waiting); the worker answers one JSON line per
request. Typing never waits for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any


def text_key(text: str) -> str:
    """A short digest identifying one text of a file."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class ShapesClient:
    """The server's side: start the worker lazily, send it texts, keep the answers."""

    def __init__(self, on_result: Callable[[str], None] | None = None, command: list[str] | None = None) -> None:
        self.command = command or [sys.executable, "-m", "graphspec.lsp.shapes"]
        self.on_result = on_result
        self.results: dict[str, tuple[str, dict[str, Any]]] = {}  # file -> (text key, answer)
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._in_flight: tuple[str, str] | None = None  # (file, text key)
        self._waiting: dict[str, tuple[str, dict[str, str]]] = {}  # file -> (text, buffers)
        self._counter = 0
        self.started = False

    def get(self, file: str, text: str) -> tuple[dict[str, Any] | None, bool]:
        """The answer for `file`, and whether it is for `text` (else for an earlier text)."""
        with self._lock:
            found = self.results.get(file)
        if found is None:
            return None, False
        return found[1], found[0] == text_key(text)

    def pending(self, file: str) -> bool:
        """Whether a build of `file` is under way or waiting."""
        with self._lock:
            return (self._in_flight is not None and self._in_flight[0] == file) or file in self._waiting

    def request(self, file: str, text: str, buffers: Mapping[str, str] | None = None) -> None:
        """Ask for the shapes of `text` (unless known or asked already); returns at once."""
        key = text_key(text)
        with self._lock:
            known = self.results.get(file)
            if (known and known[0] == key) or self._in_flight == (file, key):
                return
            self._waiting[file] = (text, dict(buffers or {}))
        self._pump()

    def _pump(self) -> None:
        with self._lock:
            if self._in_flight is not None or not self._waiting:
                return
            file, (text, buffers) = next(iter(self._waiting.items()))
            del self._waiting[file]
            self._in_flight = (file, text_key(text))
            self._counter += 1
            message = json.dumps({"id": self._counter, "file": file, "text": text, "buffers": buffers}) + "\n"
        try:
            process = self._ensure()
            assert process.stdin is not None
            process.stdin.write(message.encode("utf-8", "surrogatepass"))
            process.stdin.flush()
        except (OSError, ValueError):
            with self._lock:
                self.results[file] = (text_key(text), {"ok": False, "error": "the shapes worker could not be started"})
                self._in_flight = None

    def _ensure(self) -> subprocess.Popen[bytes]:
        if self._process is None or self._process.poll() is not None:
            env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
            self._process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            self.started = True
            threading.Thread(target=self._read, args=(self._process,), daemon=True).start()
        return self._process

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            try:
                answer = json.loads(raw)
            except ValueError:
                continue
            with self._lock:
                flight = self._in_flight
                self._in_flight = None
                if flight is not None:
                    self.results[flight[0]] = (flight[1], answer)
            if flight is not None and self.on_result is not None:
                self.on_result(flight[0])
            self._pump()
        with self._lock:  # the worker died: report it on the file it was building
            if self._in_flight is not None:
                self.results[self._in_flight[0]] = (self._in_flight[1], {"ok": False, "error": "the shapes worker stopped"})
                self._in_flight = None

    def close(self) -> None:
        """Stop the worker (it also stops by itself when the server's pipe closes)."""
        if self._process is not None and self._process.poll() is None:
            try:
                assert self._process.stdin is not None
                self._process.stdin.close()
                self._process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()


# -- the worker -----------------------------------------------------------------------


def build_shapes(file: str, text: str) -> dict[str, Any]:
    """Build `text` with Keras: each node's output shape and parameter count, the totals."""
    from graphspec.api import loads
    from graphspec.compiler import compile_model
    from graphspec.errors import SpecError
    from graphspec.plot import tensor_shapes
    from graphspec.resolve import resolve

    try:
        spec = loads(text, file=file)
        graph = resolve(spec)
        model = compile_model(graph)
        shapes = tensor_shapes(graph)
    except SpecError as error:
        first = error.problems[0] if error.problems else None
        return {"ok": False, "error": first.format() if first else "the spec does not build"}
    nodes: list[dict[str, Any]] = []
    _walk(graph, model, (), None, shapes, nodes)
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return {"ok": True, "nodes": nodes, "total": int(model.count_params()), "trainable": trainable}


def _walk(graph: Any, container: Any, instance: tuple[str, ...], block: str | None, shapes: Mapping[tuple[str, ...], Any], out: list[dict[str, Any]]) -> None:
    for node in graph.nodes:
        layers = []
        if container is not None and node.kind != "share":
            for name in node.layer_names():
                with contextlib.suppress(ValueError):  # a name Keras does not know: no count
                    layers.append(container.get_layer(name))
        params = sum(int(layer.count_params()) for layer in layers) if node.kind != "share" else 0
        shape = shapes.get((*instance, node.name))
        out.append({"node": node.name, "block": block, "instance": list(instance), "shape": _text(shape), "params": params})
        if node.kind == "block" and node.body is not None:
            _walk(node.body, layers[0] if layers else None, (*instance, node.name), node.target, shapes, out)


def _text(shape: Any) -> str:
    if isinstance(shape, tuple):
        return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in shape.items()) + "}"
    if isinstance(shape, list):
        return "[" + ", ".join(_text(v) for v in shape) + "]"
    return "?"


def main() -> int:
    """The worker: one JSON request per line on stdin, one JSON answer per line on stdout."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever Keras or TensorFlow print goes to stderr, not into the protocol
    from graphspec.lsp.analysis import buffers, set_buffer

    for line in sys.stdin:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        for path, text in request.get("buffers", {}).items():
            set_buffer(path, text)
        try:
            with buffers():
                answer = build_shapes(request["file"], request["text"])
        except Exception as error:  # a crash in Keras must not end the worker
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        for path in request.get("buffers", {}):
            set_buffer(path, None)
        answer["id"] = request.get("id")
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
