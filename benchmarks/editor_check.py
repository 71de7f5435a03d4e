"""Check schemas/graphspec.schema.json with a real editor backend.

Starts the YAML language server (the one VS Code's Red Hat YAML extension and
Neovim's yamlls use), opens two in-memory specs that point at the schema with
a ``# yaml-language-server: $schema=file:///...`` modeline, and checks that

* completion inside a ``type: Dense`` node offers Dense's own arguments
  (``units`` and ``activation`` must be among the labels), and
* a Conv2D node with a misspelt ``unit: 5`` (and ``padding: smae``) gets a
  diagnostic that names ``unit``.

How to run (stdlib only; the server lives outside the repo)::

    mkdir -p /tmp/yls && cd /tmp/yls && npm install yaml-language-server
    python benchmarks/editor_check.py \
        --server /tmp/yls/node_modules/yaml-language-server/bin/yaml-language-server

Exit status 0 when both checks pass, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import queue
import re
import subprocess
import sys
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "schemas" / "graphspec.schema.json"


class Server:
    def __init__(self, cmd: list[str]):
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
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
                k, _, v = line.decode("ascii").partition(":")
                if k.lower() == "content-length":
                    length = int(v)
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
            result = [SETTINGS.get(i.get("section")) if i.get("section") else SETTINGS
                      for i in items]
        self._send({"jsonrpc": "2.0", "id": msg["id"], "result": result})

    def _send(self, msg: dict) -> None:
        body = json.dumps(msg).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: dict, timeout: float = 30) -> dict:
        self.next_id += 1
        rid = self.next_id
        self._send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        with self.cv:
            if not self.cv.wait_for(lambda: rid in self.responses, timeout):
                raise TimeoutError(method)
            return self.responses.pop(rid)

    def notify(self, method: str, params: dict) -> None:
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, uri: str, timeout: float = 30) -> list[dict]:
        """Latest publishDiagnostics for uri (waits for the first one, then settles)."""
        deadline = time.time() + timeout
        found = None
        while time.time() < deadline:
            try:
                msg = self.notes.get(timeout=1.5 if found is not None else deadline - time.time())
            except queue.Empty:
                if found is not None:
                    return found
                continue
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"]["uri"] == uri:
                found = msg["params"]["diagnostics"]
        return found or []

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


SETTINGS = {"yaml": {"schemas": {}, "validate": True, "completion": True, "hover": True}}

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--server", required=True, help="path to yaml-language-server/bin/yaml-language-server")
    ap.add_argument("--node", default="node")
    args = ap.parse_args()

    srv = Server([args.node, args.server, "--stdio"])
    ok = True
    try:
        init = srv.request("initialize", {
            "processId": os.getpid(),
            "rootUri": ROOT.as_uri(),
            "capabilities": {
                "textDocument": {
                    "completion": {"completionItem": {"snippetSupport": True}},
                    "publishDiagnostics": {},
                },
                "workspace": {"configuration": True},
            },
        })
        info = init.get("result", {}).get("serverInfo")
        print("server:", info)
        srv.notify("initialized", {})
        srv.notify("workspace/didChangeConfiguration", {"settings": SETTINGS})

        # 1. completion in a Dense node, cursor on the empty indented line
        uri1 = "file:///tmp/graphspec_editor_check_dense.yaml"
        srv.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri1, "languageId": "yaml", "version": 1, "text": DENSE_DOC}})
        lines = DENSE_DOC.split("\n")
        line = next(i for i, text in enumerate(lines) if text.strip() == "" and text.startswith("    "))
        srv.diagnostics(uri1, timeout=20)  # let the schema load first
        res = srv.request("textDocument/completion", {
            "textDocument": {"uri": uri1}, "position": {"line": line, "character": 4}})
        if "error" in res:
            print("completion error:", res["error"])
        result = res.get("result") or []
        items = result["items"] if isinstance(result, dict) else result
        labels = [it["label"] for it in items]
        print(f"completion at line {line}, col 4 in a 'type: Dense' node: {len(labels)} items")
        for lab in labels:
            print("  ", lab)
        missing = [k for k in ("units", "activation") if k not in labels]
        if missing:
            print("FAIL: completion lacks", missing)
            ok = False
        else:
            print("OK: units and activation offered")

        # 2. diagnostics for a Conv2D node with 'unit: 5' and 'padding: smae'
        uri2 = "file:///tmp/graphspec_editor_check_conv.yaml"
        srv.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri2, "languageId": "yaml", "version": 1, "text": CONV_DOC}})
        diags = srv.diagnostics(uri2, timeout=30)
        print(f"diagnostics for the Conv2D document: {len(diags)}")
        for d in diags:
            r = d["range"]["start"]
            print(f"   line {r['line']}:{r['character']}  [{d.get('source', '')}] "
                  f"{d['message'].replace(chr(10), ' | ')}")
        if any(re.search(r"\bunit\b", d["message"]) for d in diags):
            print("OK: a diagnostic names 'unit'")
        else:
            print("FAIL: no diagnostic names 'unit'")
            ok = False
    finally:
        srv.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
