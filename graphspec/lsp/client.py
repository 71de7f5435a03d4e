"""A minimal LSP client over stdio: what the tests and the latency benchmark drive the
server with, as an editor does (JSON-RPC with ``Content-Length`` framing).

Example:
    >>> with Client() as client:  # doctest: +SKIP
    ...     client.initialize("/path/to/project")
    ...     client.open("/path/to/project/spec.yaml")
    ...     diagnostics = client.diagnostics("/path/to/project/spec.yaml")
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


def uri(path: str | os.PathLike[str]) -> str:
    """The ``file://`` URI of a path."""
    return Path(path).resolve().as_uri()


class Client:
    """Start ``python -m graphspec lsp`` and talk to it; notifications are queued by method."""

    def __init__(self, command: list[str] | None = None, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            command or [sys.executable, "-m", "graphspec", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        self._id = 0
        self._responses: dict[int, Any] = {}
        self._lock = threading.Condition()
        self.notifications: queue.Queue[tuple[str, Any, float]] = queue.Queue()
        self.versions: dict[str, int] = {}  # uri -> latest version sent (never reused)
        self.opened: set[str] = set()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._drain, daemon=True).start()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- wire --------------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length is None:
                continue
            message = json.loads(stream.read(length))
            if "id" in message and ("result" in message or "error" in message):
                with self._lock:
                    self._responses[message["id"]] = message
                    self._lock.notify_all()
            elif "id" in message:  # a request from the server (registerCapability...): accept it
                self._send({"id": message["id"], "result": None})
            else:
                self.notifications.put((message.get("method", ""), message.get("params"), time.perf_counter()))

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)

    def request(self, method: str, params: Any, timeout: float = 60) -> Any:
        """Send a request and wait for its result; raises `LspError` on an error response."""
        self._id += 1
        ident = self._id
        self._send({"id": ident, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        with self._lock:
            while ident not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to {method} in {timeout} s; stderr: {b''.join(self.stderr[-20:]).decode(errors='replace')}")
                self._lock.wait(left)
            message = self._responses.pop(ident)
        if "error" in message:
            raise LspError(message["error"].get("message", ""), message["error"].get("code"))
        return message["result"]

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def wait_for(self, method: str, predicate: Any = None, timeout: float = 60) -> tuple[Any, float]:
        """The next notification `method` (whose params satisfy `predicate`), and when it came."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {method} notification in {timeout} s")
            try:
                name, params, when = self.notifications.get(timeout=left)
            except queue.Empty:
                continue
            if name == method and (predicate is None or predicate(params)):
                return params, when

    # -- the editor's side ---------------------------------------------------------------

    def initialize(self, root: str | os.PathLike[str], options: dict[str, Any] | None = None) -> Any:
        result = self.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": uri(root),
                "workspaceFolders": [{"uri": uri(root), "name": Path(root).name}],
                "capabilities": {"textDocument": {"hover": {"contentFormat": ["markdown"]}, "rename": {"prepareSupport": True}}},
                "initializationOptions": options or {},
            },
        )
        self.notify("initialized", {})
        return result

    def open(self, path: str | os.PathLike[str], text: str | None = None) -> None:
        text = Path(path).read_text(encoding="utf-8") if text is None else text
        key = uri(path)
        self.versions[key] = self.versions.get(key, 0) + 1  # never reused: old answers cannot match
        self.opened.add(key)
        self.notify("textDocument/didOpen", {"textDocument": {"uri": key, "languageId": "yaml", "version": self.versions[key], "text": text}})

    def change(self, path: str | os.PathLike[str], text: str) -> None:
        """Replace the whole text (what editors send for full sync)."""
        key = uri(path)
        self.versions[key] = self.versions.get(key, 0) + 1
        self.notify("textDocument/didChange", {"textDocument": {"uri": key, "version": self.versions[key]}, "contentChanges": [{"text": text}]})

    def close_document(self, path: str | os.PathLike[str]) -> None:
        self.opened.discard(uri(path))
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri(path)}})

    def diagnostics(self, path: str | os.PathLike[str], timeout: float = 60) -> list[dict[str, Any]]:
        """The next diagnostics published for `path`: for a file open here, those of its
        latest version; for another (a library), the next ones."""
        key = uri(path)
        wanted = self.versions.get(key) if key in self.opened else None

        def matches(params: dict[str, Any]) -> bool:
            return params["uri"] == key and (wanted is None or params.get("version") == wanted)

        params, _ = self.wait_for("textDocument/publishDiagnostics", matches, timeout)
        return params["diagnostics"]

    def at(self, method: str, path: str | os.PathLike[str], line: int, character: int, **extra: Any) -> Any:
        """A request about one position of a file (hover, definition, completion...)."""
        return self.request(method, {"textDocument": {"uri": uri(path)}, "position": {"line": line, "character": character}, **extra})

    def close(self) -> None:
        """shutdown, exit, and wait for the server to end."""
        if self.process.poll() is None:
            try:
                self.request("shutdown", None, timeout=10)
                self.notify("exit", None)
                self.process.wait(timeout=10)
            except (TimeoutError, OSError, ValueError):
                self.process.kill()
                self.process.wait()


class LspError(Exception):
    """An error response from the server."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.code = code
