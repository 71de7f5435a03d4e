"""Check schemas/graphspec.schema.json with a real editor backend.

Starts the YAML language server (the one VS Code's Red Hat YAML extension and
Neovim's yamlls use) and talks LSP to it over stdio:

* completion inside a ``type: Dense`` node offers Dense's own arguments
  (``units`` and ``activation`` must be among the labels);
* a Conv2D node with a misspelt ``unit: 5`` and ``padding: smae`` gets a
  diagnostic on each of those two lines;
* every file under examples/, opened as the editor opens it (its own
  ``# yaml-language-server: $schema=...`` modeline), gets no diagnostic, while
  a copy of one with an unknown top-level key gets one on that key.

Positions are found by content (the line holding ``unit: 5``), never by
counting lines or whitespace, so reformatting the documents cannot break it.
tests/test_editor.py runs it when the server is on PATH.

How to run (stdlib only; the server lives outside the repo)::

    npm install -g yaml-language-server
    python benchmarks/editor_check.py            # or --server PATH

Exit status 0 when every check passes, 1 otherwise, 2 when no server is found.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import queue
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "graphspec.schema.json"
EXAMPLES = ROOT / "examples"
SETTINGS = {"yaml": {"schemas": {}, "validate": True, "completion": True, "hover": True}}


class Server:
    """A language server child process and its JSON-RPC messages."""

    def __init__(self, cmd: list[str]) -> None:
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.next_id = 0
        self.responses: dict[int, dict] = {}
        self.notes: queue.Queue = queue.Queue()
        self.cv = threading.Condition()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                key, _, value = line.decode("ascii").partition(":")
                if key.lower() == "content-length":
                    length = int(value)
            msg = json.loads(out.read(length))
            if "id" in msg and "method" in msg:  # server -> client request
                self._answer(msg)
            elif "id" in msg:
                with self.cv:
                    self.responses[msg["id"]] = msg
                    self.cv.notify_all()
            else:
                self.notes.put(msg)

    def _answer(self, msg: dict) -> None:
        result = None
        if msg["method"] == "workspace/configuration":
            items = msg["params"].get("items", [])
            result = [SETTINGS.get(i.get("section")) if i.get("section") else SETTINGS for i in items]
        self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})

    def _send(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: dict | None, timeout: float = 30) -> dict:
        self.next_id += 1
        rid = self.next_id
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        with self.cv:
            if not self.cv.wait_for(lambda: rid in self.responses, timeout):
                raise TimeoutError(method)
            return self.responses.pop(rid)

    def notify(self, method: str, params: dict | None) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def open(self, uri: str, text: str) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})

    def diagnostics(self, uris: list[str], timeout: float = 60, settle: float = 1.5) -> dict[str, list[dict]]:
        """The latest publishDiagnostics of each uri: waits until every uri has had one and
        the server has been quiet for `settle` seconds (a schema loads after the first)."""
        deadline = time.monotonic() + timeout
        found: dict[str, list[dict]] = {}
        while time.monotonic() < deadline:
            waiting = set(uris) - set(found)
            try:
                msg = self.notes.get(timeout=max(0.05, deadline - time.monotonic()) if waiting else settle)
            except queue.Empty:
                if not waiting:
                    break
                continue
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] in uris:
                found[msg["params"]["uri"]] = msg["params"]["diagnostics"]
        missing = set(uris) - set(found)
        if missing:
            raise TimeoutError(f"no diagnostics for {sorted(missing)}")
        return found

    def close(self) -> None:
        try:
            self.request("shutdown", None, timeout=5)
            self.notify("exit", None)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


MODELINE = f"# yaml-language-server: $schema={SCHEMA.as_uri()}\n"

DENSE_DOC = MODELINE + """inputs:
  x: {shape: [784]}
nodes:
  h:
    type: Dense
    from: x
outputs: [h]
"""

CONV_DOC = MODELINE + """inputs:
  img: {shape: [28, 28, 1]}
nodes:
  c:
    type: Conv2D
    from: img
    filters: 8
    kernel_size: 3
    unit: 5
    padding: smae
outputs: [c]
"""


def line_of(text: str, content: str) -> int:
    """The 0-based number of the one line whose stripped text is `content`."""
    found = [i for i, line in enumerate(text.split("\n")) if line.strip() == content]
    if len(found) != 1:
        raise ValueError(f"expected one line '{content}', found {len(found)}")
    return found[0]


def open_line_after(text: str, content: str) -> tuple[str, int, int]:
    """`text` with an empty line, indented like the line `content`, inserted after it;
    returns the new text and the (line, character) of the end of that empty line: where
    an editor's cursor is when one presses Enter after `content` to type the next key."""
    lines = text.split("\n")
    at = line_of(text, content)
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    lines.insert(at + 1, indent)
    return "\n".join(lines), at + 1, len(indent)


@dataclass
class Report:
    """What the server answered; `failures` lists each check that did not pass."""

    server: dict | None = None
    completion: list[str] = field(default_factory=list)
    conv_diagnostics: list[dict] = field(default_factory=list)
    example_diagnostics: dict[str, list[dict]] = field(default_factory=dict)
    broken_example_diagnostics: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def run_checks(cmd: list[str], timeout: float = 60) -> Report:
    """Start the server with `cmd` and run the three checks."""
    report = Report()
    srv = Server(cmd)
    try:
        init = srv.request("initialize", {
            "processId": os.getpid(),
            "rootUri": ROOT.as_uri(),
            "capabilities": {
                "textDocument": {"completion": {"completionItem": {"snippetSupport": True}}, "publishDiagnostics": {}},
                "workspace": {"configuration": True},
            },
        }, timeout=timeout)
        report.server = init.get("result", {}).get("serverInfo")
        srv.notify("initialized", {})
        srv.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})

        # 1. completion on a new line after `from: x` in a `type: Dense` node
        dense_uri = "file:///tmp/graphspec_editor_check_dense.yaml"
        dense, line, character = open_line_after(DENSE_DOC, "from: x")
        srv.open(dense_uri, dense)
        srv.diagnostics([dense_uri], timeout)  # let the schema load first
        res = srv.request("textDocument/completion", {"textDocument": {"uri": dense_uri}, "position": {"line": line, "character": character}}, timeout)
        if "error" in res:
            report.failures.append(f"completion error: {res['error']}")
        result = res.get("result") or []
        report.completion = [item["label"] for item in (result["items"] if isinstance(result, dict) else result)]
        missing = [key for key in ("units", "activation") if key not in report.completion]
        if missing:
            report.failures.append(f"completion in a Dense node lacks {missing}")

        # 2. diagnostics on the lines of `unit: 5` and `padding: smae`
        conv_uri = "file:///tmp/graphspec_editor_check_conv.yaml"
        srv.open(conv_uri, CONV_DOC)
        report.conv_diagnostics = srv.diagnostics([conv_uri], timeout)[conv_uri]
        flagged = {d["range"]["start"]["line"] for d in report.conv_diagnostics}
        for content in ("unit: 5", "padding: smae"):
            if line_of(CONV_DOC, content) not in flagged:
                report.failures.append(f"no diagnostic on the line '{content}'")

        # 3. the examples, with their own modelines, are clean; so that this cannot pass
        # because a relative modeline failed to load, a copy of the first with an unknown
        # top-level key, opened beside it (in memory only), must be flagged
        examples = sorted(p for p in EXAMPLES.rglob("*") if p.suffix in (".yaml", ".yml"))
        if not examples:
            report.failures.append("no examples found")
            return report
        uris = {path.as_uri(): path for path in examples}
        for uri, path in uris.items():
            srv.open(uri, path.read_text(encoding="utf-8"))
        broken_uri = (examples[0].parent / "graphspec_editor_check_broken.yaml").as_uri()
        broken = examples[0].read_text(encoding="utf-8").rstrip("\n") + "\nnot_a_graphspec_key: 1\n"
        srv.open(broken_uri, broken)
        found = srv.diagnostics([*uris, broken_uri], timeout)
        report.example_diagnostics = {str(uris[uri].relative_to(ROOT)): found[uri] for uri in uris}
        for name, diags in sorted(report.example_diagnostics.items()):
            if diags:
                report.failures.append(f"{name}: {len(diags)} diagnostics, first: {diags[0]['message']}")
        report.broken_example_diagnostics = found[broken_uri]
        if line_of(broken, "not_a_graphspec_key: 1") not in {d["range"]["start"]["line"] for d in found[broken_uri]}:
            report.failures.append(f"a copy of {examples[0].name} with an unknown top-level key got no diagnostic on it: does the examples' modeline load the schema?")
    finally:
        srv.close()
    return report


def server_command(server: str | None, node: str | None) -> list[str] | None:
    """The command that starts the server: `server` (or yaml-language-server on PATH), run by
    `node` when given (for a path to the package's bin script)."""
    server = server or shutil.which("yaml-language-server")
    if server is None:
        return None
    return ([node] if node else []) + [server, "--stdio"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", help="the yaml-language-server executable (default: the one on PATH)")
    parser.add_argument("--node", help="run --server with this node (when --server is the package's bin script)")
    args = parser.parse_args()
    cmd = server_command(args.server, args.node)
    if cmd is None:
        print("yaml-language-server not found: npm install -g yaml-language-server, or pass --server", file=sys.stderr)
        return 2
    report = run_checks(cmd)
    print("server:", report.server)
    print(f"completion in a 'type: Dense' node: {len(report.completion)} items: {', '.join(report.completion)}")
    print(f"diagnostics for the Conv2D document: {len(report.conv_diagnostics)}")
    for d in report.conv_diagnostics:
        start = d["range"]["start"]
        print(f"   line {start['line']}:{start['character']}  [{d.get('source', '')}] {d['message'].replace(chr(10), ' | ')}")
    clean = sum(1 for diags in report.example_diagnostics.values() if not diags)
    print(f"examples without diagnostics: {clean} of {len(report.example_diagnostics)}")
    print(f"diagnostics for the copy with an unknown key: {len(report.broken_example_diagnostics)}")
    for failure in report.failures:
        print("FAIL:", failure)
    if not report.failures:
        print("OK: completion offers units and activation; 'unit: 5' and 'padding: smae' are flagged; the examples are clean")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
