"""Which files see which names: definitions, references, renames and the outline.

Node and input names belong to one scope of one file; params to a file's top level or
one block; block names are shared by a spec and the libraries it imports, and a block's
params are also written as the arguments of every block node that uses it, in any of
those files. `Files` holds the texts (the editor's buffers first, then the disk).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from graphspec.lsp.analysis import file_text
from graphspec.lsp.document import NAME, Occurrence, Span, SpecText, Symbol

MAX_WORKSPACE_FILES = 2000  # YAML files looked at for uses of a library's blocks


class Files:
    """The `SpecText` of each file: open buffers (by version) and files on disk (by mtime)."""

    def __init__(self) -> None:
        self.open: dict[str, SpecText] = {}
        self._disk: dict[str, tuple[float, SpecText]] = {}
        self.roots: list[str] = []  # workspace folders, searched for specs using a library

    def set_open(self, file: str, text: str | None) -> SpecText | None:
        """Record the editor's text of `file` (None when closed)."""
        real = os.path.realpath(file)
        if text is None:
            self.open.pop(real, None)
            return None
        self.open[real] = SpecText(file, text)
        return self.open[real]

    def get(self, file: str) -> SpecText | None:
        """The text of `file`, parsed lazily; None if it cannot be read."""
        real = os.path.realpath(file)
        if real in self.open:
            return self.open[real]
        try:
            mtime = os.stat(real).st_mtime
        except OSError:
            return None
        cached = self._disk.get(real)
        if cached and cached[0] == mtime:
            return cached[1]
        text = file_text(real)
        if text is None:
            return None
        parsed = SpecText(file, text)
        self._disk[real] = (mtime, parsed)
        return parsed

    def closure(self, file: str) -> list[SpecText]:
        """`file` and every library it imports, recursively, each once."""
        found: list[SpecText] = []
        seen: set[str] = set()
        pending = [file]
        while pending:
            current = pending.pop(0)
            real = os.path.realpath(current)
            if real in seen:
                continue
            seen.add(real)
            text = self.get(current)
            if text is None:
                continue
            found.append(text)
            pending += [resolved for _, resolved, _ in text.imports()]
        return found

    def blocks(self, file: str) -> dict[str, tuple[str, tuple[Any, ...]]]:
        """Block name -> (defining file, its path) as `file` sees them; its own blocks first."""
        table: dict[str, tuple[str, tuple[Any, ...]]] = {}
        for text in self.closure(file):
            blocks = text.data.get("blocks") if text.ok else None
            if isinstance(blocks, dict):
                for name in blocks:
                    table.setdefault(str(name), (text.file, ("blocks", name)))
        return table

    def candidates(self) -> list[str]:
        """Files that may use a library: the open ones and the YAML files of the workspace."""
        found = {text.file: None for text in self.open.values()}
        count = 0
        for root in self.roots:
            for folder, dirs, names in os.walk(root):
                dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("node_modules", "__pycache__")]
                for name in names:
                    if name.endswith((".yaml", ".yml")):
                        found.setdefault(os.path.join(folder, name), None)
                        count += 1
                if count > MAX_WORKSPACE_FILES:
                    break
        return list(found)


@dataclass
class Located:
    """An occurrence in a file."""

    file: str
    occurrence: Occurrence


def at(files: Files, file: str, line: int, column: int) -> Occurrence | None:
    """The name under the cursor in `file`."""
    text = files.get(file)
    if text is None or not text.ok:
        return None
    return text.occurrence_at(line, column, files.blocks(file))


def _in(files: Files, text: SpecText, symbol: Symbol) -> Iterator[Located]:
    for occurrence in text.occurrences(files.blocks(text.file)):
        if occurrence.symbol == symbol:
            yield Located(text.file, occurrence)


def references(files: Files, file: str, symbol: Symbol) -> list[Located]:
    """Every occurrence of `symbol`, its definition included, in the files that can see it."""
    if symbol.kind == "file":
        return []
    if symbol.kind == "node" or (symbol.kind == "param" and not symbol.scope):
        text = files.get(symbol.file)
        return list(_in(files, text, symbol)) if text else []
    if symbol.kind == "block":
        where = files.blocks(file).get(symbol.name)
        if where is None:  # an unknown block: its uses in this file
            text = files.get(file)
            return list(_in(files, text, symbol)) if text else []
        defining = os.path.realpath(where[0])
    else:  # a block's param: written in the block, and as arguments of its block nodes
        defining = os.path.realpath(symbol.file)
    found: list[Located] = []
    seen: set[str] = set()
    for candidate in _users(files, file, defining):
        real = os.path.realpath(candidate.file)
        if real in seen:
            continue
        seen.add(real)
        table = files.blocks(candidate.file)
        name = symbol.name if symbol.kind == "block" else str(symbol.scope[1])
        if name in table and os.path.realpath(table[name][0]) == defining:
            found += _in(files, candidate, symbol)
    return found


def _users(files: Files, file: str, defining: str) -> Iterator[SpecText]:
    """`file`'s closure, and every candidate file whose closure holds `defining`."""
    yield from files.closure(file)
    for candidate in files.candidates():
        closure = files.closure(candidate)
        if any(os.path.realpath(text.file) == defining for text in closure):
            yield from closure


def definitions(files: Files, file: str, occurrence: Occurrence) -> list[tuple[str, Span | None]]:
    """Where the name under the cursor is defined: (file, span), span None for a whole file."""
    symbol = occurrence.symbol
    if symbol.kind == "file":
        return [(symbol.file, None)] if os.path.exists(symbol.file) else []
    return [(found.file, found.occurrence.span) for found in references(files, file, symbol) if found.occurrence.definition]


def rename_check(files: Files, file: str, occurrence: Occurrence, new_name: str) -> str | None:
    """Why `new_name` cannot replace the name under the cursor, or None."""
    symbol = occurrence.symbol
    if symbol.kind == "file":
        return "an import is a file path; rename the file instead"
    if not NAME.match(new_name):
        return f"'{new_name}' is not a valid name: use letters, digits and '_', not starting with a digit"
    if new_name == symbol.name:
        return None
    taken = {o.symbol.name for o in _scope_names(files, file, symbol)}
    if new_name in taken:
        return f"'{new_name}' is already the name of another {_what(symbol)} there"
    return None


def _scope_names(files: Files, file: str, symbol: Symbol) -> Iterable[Occurrence]:
    """The definitions that share `symbol`'s namespace (a rename must not collide with them)."""
    texts = files.closure(file) if symbol.kind == "block" else [t for t in [files.get(symbol.file)] if t]
    for text in texts:
        for occurrence in text.occurrences(files.blocks(text.file)):
            other = occurrence.symbol
            if not occurrence.definition or other.kind != symbol.kind:
                continue
            if symbol.kind == "block" or (other.file == symbol.file and other.scope == symbol.scope):
                yield occurrence


def _what(symbol: Symbol) -> str:
    return {"node": "node or input", "block": "block", "param": "param"}.get(symbol.kind, symbol.kind)


# -- the outline ---------------------------------------------------------------------


@dataclass
class Outline:
    """One entry of the outline: a section, node, input, block or output."""

    name: str
    detail: str
    kind: str  # section, input, node, block, output, param
    selection: Span
    end_line: int
    children: list[Outline]


def outline(text: SpecText) -> list[Outline]:
    """Inputs, params, nodes, blocks (with their nodes) and outputs, for the editor's outline."""
    if not text.ok or text.source is None:
        return []
    last_line: dict[tuple[Any, ...], int] = {}
    for table in (text.source.keys, text.source.values):
        for path, mark in table.items():
            for length in range(1, min(len(path), 4) + 1):
                prefix = path[:length]
                if last_line.get(prefix, -1) < mark.line - 1:
                    last_line[prefix] = mark.line - 1
    data = text.data

    def entry(path: tuple[Any, ...], kind: str, detail: str, children: list[Outline] | None = None) -> Outline | None:
        span = text.key_span(path)
        if span is None:
            return None
        return Outline(str(path[-1]), detail, kind, span, max(last_line.get(path, span.line), span.line), children or [])

    def nodes(base: tuple[Any, ...], table: Any) -> list[Outline]:
        found = []
        for name, node in (table.items() if isinstance(table, dict) else ()):
            item = entry((*base, name), "node", _node_detail(node))
            if item:
                found.append(item)
        return found

    sections: list[Outline] = []
    for section in ("params", "inputs", "nodes", "blocks", "outputs", "compile", "expect"):
        if section not in data:
            continue
        value = data[section]
        children: list[Outline] = []
        if section == "inputs" and isinstance(value, dict):
            children = [c for name, spec in value.items() if (c := entry(("inputs", name), "input", f"shape {_shape(spec)}"))]
        elif section == "params" and isinstance(value, dict):
            children = [c for name, v in value.items() if (c := entry(("params", name), "param", f"= {v}"))]
        elif section == "nodes":
            children = nodes(("nodes",), value)
        elif section == "blocks" and isinstance(value, dict):
            for name, block in value.items():
                inner = nodes(("blocks", name, "nodes"), block.get("nodes")) if isinstance(block, dict) else []
                item = entry(("blocks", name), "block", _block_detail(block), inner)
                if item:
                    children.append(item)
        elif section == "outputs":
            listed = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
            for key, ref in listed:
                span = text.key_span(("outputs", key)) if isinstance(key, str) else text.value_span(("outputs", key))
                if span is not None:
                    children.append(Outline(str(key) if isinstance(key, str) else str(ref), f"-> {ref}" if isinstance(key, str) else "output", "output", span, span.line, []))
        item = entry((section,), "section", "", children)
        if item:
            sections.append(item)
    return sections


def _shape(spec: Any) -> str:
    shape = spec.get("shape") if isinstance(spec, dict) else None
    return str(shape).replace("None", "null") if shape is not None else "?"


def _node_detail(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    for key in ("type", "merge", "share", "block"):
        if key in node:
            return f"{key}: {node[key]}" if key != "type" else str(node[key])
    return ""


def _block_detail(block: Any) -> str:
    if not isinstance(block, dict):
        return ""
    inputs = block.get("inputs")
    return f"block({', '.join(map(str, inputs))})" if isinstance(inputs, list) else "block"


def display(file: str, root: str | None) -> str:
    """`file` relative to the workspace root when below it."""
    if root:
        with_root = FilePath(file)
        try:
            return str(with_root.resolve().relative_to(FilePath(root).resolve()))
        except ValueError:
            pass
    return file
