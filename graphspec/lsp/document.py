"""A spec's text as an editor sees it: the token under a position, and every name's uses.

The pipeline locates a problem by the line and column where a value starts; an editor
wants the whole key or value underlined, and wants to know what the word under the
cursor names. Both come from the same two sources: `graphspec.source.parse_yaml`'s
source map (where each key and value starts) and the text itself (where the token
that starts there ends). Positions here are 0-based lines and 0-based character
columns (code points); the server converts them to the editor's UTF-16 units.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Any

from graphspec.errors import SpecError
from graphspec.source import Limits, Path, SourceMap, parse_yaml

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
KIND_KEYS = ("type", "merge", "share", "block")
NODE_KEYS = ("from", "repeat")  # keys of a node that are not arguments (besides the kinds)


# -- tokens ---------------------------------------------------------------------------


def token_end(line: str, start: int) -> int:
    """Where the YAML token starting at `start` of `line` ends: a quoted scalar up to its
    closing quote, a flow ``[...]``/``{...}`` up to its matching bracket (or the end of
    the line), a plain scalar up to ``: ``, a flow separator, a comment or the line's end."""
    if start >= len(line):
        return start
    first = line[start]
    if first in "\"'":
        i = start + 1
        while i < len(line):
            char = line[i]
            if first == '"' and char == "\\":
                i += 2
                continue
            if char == first:
                if first == "'" and i + 1 < len(line) and line[i + 1] == "'":
                    i += 2
                    continue
                return i + 1
            i += 1
        return len(line.rstrip())
    if first in "[{":
        end = len(line)
        for index, depth in _depths(line, start):
            if depth < 0:  # a comment
                end = index
                break
            if depth == 0:
                return index + 1
        return start + len(line[start:end].rstrip())
    flow = _flow_depth(line, start) > 0
    i = start
    while i < len(line):
        char = line[i]
        following = line[i + 1] if i + 1 < len(line) else " "
        if char == ":" and (following in " \t" or (flow and following in ",]}")):
            break
        if char == "#" and i > start and line[i - 1] in " \t":
            break
        if flow and char in ",]}":
            break
        i += 1
    return start + len(line[start:i].rstrip())


def _depths(line: str, start: int) -> Iterator[tuple[int, int]]:
    """The flow-bracket depth after each character of `line` from `start`, quotes skipped;
    depth -1 at a comment."""
    depth, quote = 0, ""
    for index in range(start, len(line)):
        char = line[index]
        if quote:
            quote = "" if char == quote else quote
            continue
        if char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            yield index, -1
            return
        else:
            continue
        yield index, depth


def _flow_depth(line: str, end: int) -> int:
    """How many flow brackets are open on `line` before column `end`."""
    depth = 0
    for index, found in _depths(line, 0):
        if index >= end or found < 0:
            break
        depth = found
    return depth


@dataclass(frozen=True)
class Span:
    """A range on one line: 0-based line, columns [start, end)."""

    line: int
    start: int
    end: int

    def contains(self, line: int, column: int) -> bool:
        """Whether a cursor at (`line`, `column`) touches the span (its end included)."""
        return line == self.line and self.start <= column <= self.end


# -- names: definitions and uses ------------------------------------------------------


@dataclass(frozen=True)
class Symbol:
    """Something a name can denote.

    kind: ``node`` (a node or input of one scope), ``block``, ``param``, or ``file`` (an
    import). `file` is the file whose scope holds it ("" for blocks, whose names are
    shared by the files that import each other); `scope` is ``("nodes",)`` or
    ``("blocks", b, "nodes")`` for nodes, ``()`` or ``("blocks", b)`` for params.
    """

    kind: str
    file: str
    scope: Path
    name: str


@dataclass(frozen=True)
class Occurrence:
    """One place a symbol's name is written; `definition` marks where it is defined."""

    symbol: Symbol
    span: Span
    definition: bool
    path: Path
    role: str  # node, input, from, share, output, expect, block, param, argument, import


BlockTable = Mapping[str, tuple[str, Path]]  # block name -> (file, ("blocks", name))


class SpecText:
    """One file's text; parsed (data, source map) on first use, and the names it uses.

    `data` is None when the text does not parse; `error` then holds why.
    """

    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.text = text
        self.lines = text.splitlines()
        self._parsed = False
        self._data: Any = None
        self._source: SourceMap | None = None
        self._error: SpecError | None = None
        self._occurrences: list[Occurrence] | None = None
        self._occurrence_blocks: Any = None
        self._by_line: dict[int, list[Occurrence]] | None = None
        self._tokens: dict[int, list[tuple[Path, bool, Span]]] | None = None

    def _parse(self) -> None:
        if self._parsed:
            return
        self._parsed = True
        try:
            document = parse_yaml(self.text, self.file, Limits())
            self._data, self._source = document.data, document.source
        except SpecError as error:
            self._error = error

    @property
    def data(self) -> Any:
        """The plain data, or None when the text does not parse."""
        self._parse()
        return self._data

    @property
    def source(self) -> SourceMap | None:
        """The source map, or None when the text does not parse."""
        self._parse()
        return self._source

    @property
    def error(self) -> SpecError | None:
        """Why the text does not parse, or None."""
        self._parse()
        return self._error

    @property
    def ok(self) -> bool:
        """Whether the text parsed into a mapping."""
        return isinstance(self.data, dict)

    def line(self, index: int) -> str:
        """Line `index` (0-based), or "" past the end."""
        return self.lines[index] if 0 <= index < len(self.lines) else ""

    def span_at(self, line: int, column: int) -> Span:
        """The token starting at 1-based (`line`, `column`), as a 0-based span."""
        text = self.line(line - 1)
        start = min(max(column - 1, 0), len(text))
        end = token_end(text, start)
        if end <= start:  # nothing there (a problem at the end of a line): the line's text
            stripped = len(text) - len(text.lstrip())
            return Span(line - 1, stripped, max(len(text.rstrip()), stripped))
        return Span(line - 1, start, end)

    def key_span(self, path: Path) -> Span | None:
        """Where the key of `path` is written (without quotes)."""
        if self.source is None or path not in self.source.keys:
            return None
        mark = self.source.keys[path]
        return self._name_span(mark.line, mark.column, str(path[-1]))

    def value_span(self, path: Path) -> Span | None:
        """Where the value at `path` is written (the whole token)."""
        if self.source is None or path not in self.source.values:
            return None
        mark = self.source.values[path]
        return self.span_at(mark.line, mark.column)

    def _name_span(self, line: int, column: int, name: str, offset: int = 0) -> Span:
        """The span of `name` inside the token at (`line`, `column`), skipping a quote."""
        text = self.line(line - 1)
        start = column - 1
        if start < len(text) and text[start] in "\"'":
            start += 1
        start += offset
        return Span(line - 1, start, start + len(name))

    def get(self, path: Path) -> Any:
        """The value at `path` in the data, or None."""
        value = self.data
        for part in path:
            if (isinstance(value, dict) and part in value) or (isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)):
                value = value[part]
            else:
                return None
        return value

    # -- names -----------------------------------------------------------------------

    def occurrences(self, blocks: BlockTable) -> list[Occurrence]:
        """Every name written in the file: definitions and uses of nodes, inputs, blocks,
        params, block params (as block-node arguments) and imports."""
        key = tuple(sorted(blocks.items()))
        if self._occurrences is None or self._occurrence_blocks != key:
            self._occurrences = list(_Names(self, blocks).all()) if self.ok else []
            self._occurrence_blocks = key
            self._by_line = None
        return self._occurrences

    def occurrence_at(self, line: int, column: int, blocks: BlockTable) -> Occurrence | None:
        """The name under a cursor at 0-based (`line`, `column`)."""
        occurrences = self.occurrences(blocks)
        if self._by_line is None:
            self._by_line = {}
            for occurrence in occurrences:
                self._by_line.setdefault(occurrence.span.line, []).append(occurrence)
        for occurrence in self._by_line.get(line, []):
            if occurrence.span.contains(line, column):
                return occurrence
        return None

    def token_at(self, line: int, column: int) -> tuple[Path, bool, Span] | None:
        """The key or scalar value under a cursor: (its path, whether it is a key, its span)."""
        if self.source is None:
            return None
        if self._tokens is None:
            self._tokens = {}
            for table, is_key in ((self.source.keys, True), (self.source.values, False)):
                for path, mark in table.items():
                    if not is_key and isinstance(self.get(path), (dict, list)):
                        continue
                    span = self.key_span(path) if is_key else self.span_at(mark.line, mark.column)
                    if span is not None:
                        self._tokens.setdefault(span.line, []).append((path, is_key, span))
        best: tuple[Path, bool, Span] | None = None
        for path, is_key, span in self._tokens.get(line, []):
            if span.contains(line, column) and (best is None or span.end - span.start < best[2].end - best[2].start):
                best = (path, is_key, span)
        return best

    def imports(self) -> list[tuple[str, str, Path]]:
        """Each import: (as written, the resolved file, its path in the document)."""
        found = []
        imports = self.data.get("imports") if self.ok else None
        if isinstance(imports, list):
            base = FilePath(self.file).parent
            for index, relative in enumerate(imports):
                if isinstance(relative, str):
                    found.append((relative, str((base / relative).resolve()), ("imports", index)))
        return found


class _Names:
    """The walk behind `SpecText.occurrences`."""

    def __init__(self, text: SpecText, blocks: BlockTable) -> None:
        self.text = text
        self.data: dict[str, Any] = text.data
        self.blocks = blocks
        self.file = text.file

    def all(self) -> Iterator[Occurrence]:
        data = self.data
        top_nodes = ("nodes",)
        for name in _keys(data.get("inputs")):
            yield from self.key(Symbol("node", self.file, top_nodes, name), ("inputs", name), "input")
        for name in _keys(data.get("params")):
            yield from self.key(Symbol("param", self.file, (), name), ("params", name), "param")
        yield from self.scope(top_nodes, data.get("nodes"), data.get("outputs"), ())
        shapes = data.get("expect", {}).get("shapes") if isinstance(data.get("expect"), dict) else None
        for name in _keys(shapes):
            yield from self.key(Symbol("node", self.file, top_nodes, name), ("expect", "shapes", name), "expect", definition=False)
        blocks = data.get("blocks")
        for block_name in _keys(blocks):
            block = blocks[block_name]
            yield from self.key(Symbol("block", "", (), block_name), ("blocks", block_name), "block")
            if not isinstance(block, dict):
                continue
            base = ("blocks", block_name)
            for name in _keys(block.get("params")):
                yield from self.key(Symbol("param", self.file, base, name), (*base, "params", name), "param")
            inputs = block.get("inputs")
            if isinstance(inputs, list):
                for index, name in enumerate(inputs):
                    if isinstance(name, str):
                        yield from self.value(Symbol("node", self.file, (*base, "nodes"), name), (*base, "inputs", index), name, "input", definition=True)
            yield from self.scope((*base, "nodes"), block.get("nodes"), block.get("outputs"), base)
        for relative, resolved, path in self.text.imports():
            yield from self.value(Symbol("file", resolved, (), ""), path, relative, "import")
        yield from self.params(data, ())

    def key(self, symbol: Symbol, path: Path, role: str, definition: bool = True) -> Iterator[Occurrence]:
        span = self.text.key_span(path)
        if span is not None:
            yield Occurrence(symbol, span, definition, path, role)

    def value(self, symbol: Symbol, path: Path, name: str, role: str, definition: bool = False, offset: int = 0) -> Iterator[Occurrence]:
        source = self.text.source
        assert source is not None
        mark = source.values.get(path)
        if mark is not None:
            yield Occurrence(symbol, self.text._name_span(mark.line, mark.column, name, offset), definition, path, role)

    def ref(self, scope: Path, ref: Any, path: Path, role: str) -> Iterator[Occurrence]:
        if isinstance(ref, str):
            name = ref.split(".")[0]
            if NAME.match(name):
                yield from self.value(Symbol("node", self.file, scope, name), path, name, role)

    def scope(self, base: Path, nodes: Any, outputs: Any, block: Path) -> Iterator[Occurrence]:
        for name in _keys(nodes):
            node = nodes[name]
            path = (*base, name)
            yield from self.key(Symbol("node", self.file, base, name), path, "node")
            if not isinstance(node, dict):
                continue
            for ref, sub in refs_of(node.get("from")):
                yield from self.ref(base, ref, (*path, "from", *sub), "from")
            if isinstance(node.get("share"), str):
                yield from self.ref(base, node["share"], (*path, "share"), "share")
            target = node.get("block")
            if isinstance(target, str):
                yield from self.value(Symbol("block", "", (), target), (*path, "block"), target, "block")
                where = self.blocks.get(target)
                if where is not None:
                    for arg in node:
                        if arg not in KIND_KEYS + NODE_KEYS:
                            yield from self.key(Symbol("param", where[0], where[1], str(arg)), (*path, arg), "argument", definition=False)
        items = outputs.items() if isinstance(outputs, dict) else enumerate(outputs) if isinstance(outputs, list) else ()
        out_base = (*base[:-1], "outputs")
        for key, ref in items:
            yield from self.ref(base, ref, (*out_base, key), "output")

    def params(self, value: Any, path: Path) -> Iterator[Occurrence]:
        """Every ``$name`` and name inside ``$(...)`` below `path`."""
        if isinstance(value, dict):
            for key, item in value.items():
                yield from self.params(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from self.params(item, (*path, index))
        elif isinstance(value, str) and value.startswith("$") and not value.startswith("$$") and "\n" not in value:
            scope: Path = ()
            if len(path) >= 2 and path[0] == "blocks":
                block = self.data["blocks"].get(path[1])
                scope = ("blocks", path[1])
                own = block.get("params") if isinstance(block, dict) else None
                own_names = list(own) if isinstance(own, dict) else []
            for name, offset in param_names(value):
                if scope and name not in own_names:
                    here: Path = ()
                else:
                    here = scope
                if scope and here == scope and len(path) >= 4 and path[2] == "params" and own_names.index(name) >= own_names.index(path[3]):
                    here = ()  # a block param default sees only the params before it
                yield from self.value(Symbol("param", self.file, here, name), path, name, "param", offset=offset)


def param_names(value: str) -> list[tuple[str, int]]:
    """The param names a ``$name`` or ``$(expr)`` value uses, with their offsets in it."""
    if value.startswith("$("):
        found = []
        for match in IDENTIFIER.finditer(value, 2):
            before = value[match.start() - 1]
            after = value[match.end():].lstrip()[:1]
            if before == "." or before.isdigit() or after == "(":
                continue
            found.append((match.group(), match.start()))
        return found
    name = value[1:]
    return [(name, 1)] if NAME.match(name) else []


def refs_of(value: Any) -> list[tuple[Any, Path]]:
    """Each ref of a ``from`` value with its path below ``from``."""
    if isinstance(value, str):
        return [(value, ())]
    if isinstance(value, list):
        return [(v, (i,)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        found: list[tuple[Any, Path]] = []
        for key, item in value.items():
            if isinstance(item, list):
                found += [(v, (key, i)) for i, v in enumerate(item)]
            else:
                found.append((item, (key,)))
        return found
    return []


def _keys(value: Any) -> list[str]:
    return [k for k in value if isinstance(k, str)] if isinstance(value, dict) else []


_SPEC_KEY = re.compile(r"^(?:inputs|nodes|outputs)\s*:", re.M)
_BLOCKS_KEY = re.compile(r"^blocks\s*:", re.M)


_ANY_KEY = re.compile(r"^(?:graphspec|inputs|nodes|outputs|blocks)\s*:", re.M)


def looks_like_graphspec(text: str) -> bool:
    """A spec or a block library: a top-level ``graphspec``, ``inputs``, ``nodes``,
    ``outputs`` or ``blocks`` key. Other YAML (CI configs, compose files) is left alone."""
    return bool(_ANY_KEY.search(text))


def looks_like_library(text: str) -> bool:
    """A block library: top-level ``blocks`` but none of inputs, nodes, outputs (read
    from the text, so that telling costs no parse)."""
    return bool(_BLOCKS_KEY.search(text)) and not _SPEC_KEY.search(text)


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same file (normalised, symlinks followed)."""
    return os.path.realpath(a) == os.path.realpath(b)
