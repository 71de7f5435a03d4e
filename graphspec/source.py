"""YAML text -> plain data, plus a map from each value's path to its line and column.

Loading is safe by construction: PyYAML only composes the node tree (nothing is
constructed by PyYAML), and we turn nodes into dicts, lists and scalars ourselves.
Every explicit tag is refused, duplicate keys and merge keys (``<<``) are refused,
and aliases are expanded under a budget so that a "billion laughs" file fails fast.
Plain scalars follow YAML 1.2's core schema: ``1e-3`` is a float, ``on`` is a string.
"""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from graphspec.errors import Problem, SpecError

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Limits:
    """Resource bounds for untrusted specs; raise them for very large models.

    Attributes:
        max_bytes: size of the file.
        max_depth: nesting of mappings and lists.
        max_values: values after alias expansion (bounds "billion laughs"): each scalar,
            list and mapping once; an alias counts what it stands for, and a string one
            more per `ALIAS_CHARS` characters, so that aliases cannot multiply text either.
        max_nodes: graph nodes after blocks and `repeat` are expanded.
        max_integer: the magnitude of an integer written in the file (int64's range);
            bounds hex and octal literals of thousands of digits.
        max_block_depth: blocks inside blocks, counted from the top level.
        max_imports: distinct files reached through ``imports`` (each read once).
        max_import_bytes: their bytes, all together.
    """

    max_bytes: int = 10_000_000
    max_depth: int = 64
    max_values: int = 2_000_000
    max_nodes: int = 200_000
    max_integer: int = 2**63 - 1
    max_block_depth: int = 32
    max_imports: int = 256
    max_import_bytes: int = 50_000_000


ALIAS_CHARS = 100  # an alias of a string counts one value more per this many characters


@dataclass(frozen=True)
class Mark:
    """A 1-based line and column."""

    line: int
    column: int


@dataclass
class SourceMap:
    """Where each value of a loaded document came from.

    `values` maps a path such as ``("nodes", "h_1", "units")`` to the position of the
    value; `keys` maps the same path to the position of its key in the mapping.
    """

    file: str
    text_lines: list[str] = field(default_factory=list)
    values: dict[Path, Mark] = field(default_factory=dict)
    keys: dict[Path, Mark] = field(default_factory=dict)

    def locate(self, path: Path, key: bool = False) -> Mark:
        """The position of `path`, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        while path:
            mark = table.get(path) or (self.values.get(path) if key else None)
            if mark:
                return mark
            path = path[:-1]
        return self.values.get((), Mark(1, 1))

    def problem(self, path: Path, message: str, *, key: bool = False, **kwargs: Any) -> Problem:
        """A `Problem` located at `path` in this file, keeping the path and the node it names."""
        kwargs.setdefault("node", node_name(path))
        mark = self.locate(path, key=key)
        line_text = (
            self.text_lines[mark.line - 1] if 0 < mark.line <= len(self.text_lines) else None
        )
        return Problem(
            message,
            file=self.file,
            line=mark.line,
            column=mark.column,
            source_line=line_text,
            path=tuple(path),
            **kwargs,
        )


def node_name(path: Path) -> str | None:
    """The node a document path is inside: ``("nodes", "y", "from")`` and
    ``("blocks", "res", "nodes", "y")`` -> ``"y"``; None outside nodes."""
    if len(path) >= 2 and path[0] == "nodes":
        return str(path[1])
    if len(path) >= 4 and path[0] == "blocks" and path[2] == "nodes":
        return str(path[3])
    return None


@dataclass
class Document:
    """A YAML document as plain Python data, with its source map."""

    data: Any
    source: SourceMap


# YAML 1.2 core schema, plus underscores in numbers as YAML 1.1 and Python allow.
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?(?:[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?$"
    r"|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"
)


def _plain_scalar(text: str) -> Any:
    if text[:1].isalpha():  # a name (most scalars): only null and the booleans are not strings
        return _BOOL.get(text, None if text in ("null", "Null", "NULL") else text)
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        try:
            return int(text.replace("_", ""), 0) if text[:2] in ("0o", "0x") else int(text.replace("_", ""))
        except ValueError:  # more digits than Python converts; no model size is that long
            return text
    if _FLOAT.match(text):
        lowered = text.lower()
        if lowered.endswith("inf"):
            return float("-inf") if lowered.startswith("-") else float("inf")
        if lowered.endswith("nan"):
            return float("nan")
        return float(text.replace("_", ""))
    return text


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it
_PLAIN = (None, "")  # the style of a plain scalar: None from PyYAML's parser, "" from libyaml's
_NO_KEY = object()  # a mapping waiting for its next key
_DISCARD = object()  # the value of a refused key (duplicate, '<<'): built, then dropped


class _TooBig(Exception):
    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.mark = mark


class _Frame:
    """A mapping or list being built."""

    __slots__ = ("anchor", "key", "path", "size", "value")

    def __init__(self, value: dict[Any, Any] | list[Any], path: Path, anchor: str | None) -> None:
        self.value = value
        self.path = path
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.size = 1


class _Builder:
    """Plain data and the source map, straight from the parser's events (no node tree).

    Aliases reuse the anchored value and add its size to the count of expanded values, so
    "billion laughs" is refused after reading the file once, in memory proportional to it.
    """

    def __init__(self, source: SourceMap, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.total = 0
        self.root: Any = None
        self.documents = 0
        self.problems: list[Problem] = []

    def problem(self, mark: Mark, message: str, path: Path | None = None, **kwargs: Any) -> None:
        """A problem at `mark`; its path is `path`, else that of the mapping or list being built."""
        line = self.source.text_lines[mark.line - 1] if 0 < mark.line <= len(self.source.text_lines) else None
        if path is None:
            path = self.stack[-1].path if self.stack else ()
        self.problems.append(Problem(message, file=self.source.file, line=mark.line, column=mark.column, source_line=line, path=path, node=node_name(path), **kwargs))

    def run(self, loader: Any) -> Any:
        while loader.check_event():
            event = loader.get_event()
            mark = _mark(event.start_mark)
            if isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents == 2:
                    self.problem(mark, "a spec is one YAML document; this file has several", hint="remove the '---' line and what follows it", code="yaml-syntax")
            elif isinstance(event, yaml.ScalarEvent):
                self.scalar(event, mark)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self.start(event, mark)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = self.stack.pop()
                self.finish(frame.value, frame.size, frame.anchor, mark, 1)
            elif isinstance(event, yaml.AliasEvent):
                self.alias(event, mark)
        return self.root

    def check_tag(self, event: Any, mark: Mark) -> None:
        if event.tag not in (None, "!"):
            self.problem(mark, f"YAML tag '{_shown_tag(event.tag)}' is not allowed", hint="a spec holds plain data only; remove the tag", code="yaml-tag")

    def expects_key(self) -> bool:
        return bool(self.stack) and isinstance(self.stack[-1].value, dict) and self.stack[-1].key is _NO_KEY

    def child_path(self) -> Path:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            return (*frame.path, len(frame.value))
        return (*frame.path, frame.key if frame.key is not _DISCARD else "<refused>")

    def scalar(self, event: yaml.ScalarEvent, mark: Mark) -> None:
        self.check_tag(event, mark)
        value = _plain_scalar(event.value) if event.style in _PLAIN else event.value
        if event.style in _PLAIN and _INT.match(event.value) and (type(value) is not int or abs(value) > self.limits.max_integer):
            digits = len(event.value.lstrip("+-").replace("_", ""))
            self.problem(
                mark,
                f"the integer {event.value[:20]}... ({digits:,} characters) is outside the range of -{self.limits.max_integer:,} to {self.limits.max_integer:,}"
                if digits > 20 else f"the integer {event.value} is outside the range of -{self.limits.max_integer:,} to {self.limits.max_integer:,}",
                hint="write a smaller number (a string must be quoted)",
                code="limit",
            )
            value = f"<integer at {mark.line}:{mark.column}>"  # reported; a unique placeholder goes on
        if self.expects_key():
            self.key(str(value) if not isinstance(value, str) else value, event.style in _PLAIN, mark)
            return
        self.source.values.setdefault(self.child_path(), mark)
        self.finish(value, 1, event.anchor, mark, 1)

    def key(self, key: str, plain: bool, mark: Mark) -> None:
        frame = self.stack[-1]
        path = (*frame.path, key)
        if plain and key == "<<":
            self.problem(mark, "merge keys ('<<') are not supported", hint="write the keys out, or define a reusable block under 'blocks'", code="yaml-merge-key")
            frame.key = _DISCARD
        elif key in frame.value:  # type: ignore[operator]
            first = self.source.keys[path]
            self.problem(mark, f"{_owner_prefix(frame.path)}duplicate key '{key}' (first at line {first.line})", path, hint="each key may appear once in a mapping; remove or rename one", code="duplicate-key")
            frame.key = _DISCARD
        else:
            self.source.keys[path] = mark
            frame.key = key

    def start(self, event: Any, mark: Mark) -> None:
        self.check_tag(event, mark)
        if self.expects_key():
            self.problem(mark, "a mapping key must be a plain name, not a list or mapping", code="yaml-key")
            raise _Stop()
        if len(self.stack) >= self.limits.max_depth:
            raise _TooBig(f"the document is nested deeper than {self.limits.max_depth} levels", mark)
        path = self.child_path()
        self.source.values.setdefault(path, mark)
        container: dict[Any, Any] | list[Any] = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.stack.append(_Frame(container, path, event.anchor))

    def alias(self, event: yaml.AliasEvent, mark: Mark) -> None:
        if event.anchor not in self.anchors:
            self.problem(mark, f"unknown alias '*{event.anchor}'", hint="define the anchor ('&name') before using it", code="yaml-syntax")
            raise _Stop()
        value, size = self.anchors[event.anchor]
        if self.expects_key():
            self.problem(mark, "an alias cannot be a mapping key here", code="yaml-key")
            raise _Stop()
        self.source.values.setdefault(self.child_path(), mark)
        if isinstance(value, str):
            size += len(value) // ALIAS_CHARS
        self.finish(value, size, None, mark, size)

    def finish(self, value: Any, size: int, anchor: str | None, mark: Mark, new: int) -> None:
        """Attach a complete value (of `size` values) to the mapping or list that holds it.

        `new`: the values not counted yet: 1 for a scalar or a finished list or mapping (its
        items were counted as they came), the whole size for an alias.
        """
        self.total += new
        if self.total > self.limits.max_values:
            raise _TooBig(f"the document expands to more than {self.limits.max_values:,} values (aliases of aliases?)", mark)
        if anchor:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        frame.size += size
        if isinstance(frame.value, list):
            frame.value.append(value)
        else:
            if frame.key is not _DISCARD:
                frame.value[frame.key] = value
            frame.key = _NO_KEY


class _Stop(Exception):
    """Building cannot go on; the problem is recorded."""


def _mark(mark: Any) -> Mark:
    return Mark(mark.line + 1, mark.column + 1)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for a while.

    Loading a spec makes many small objects and no reference cycles; with TensorFlow's
    large heap alive, each full collection the allocations trigger walks millions of
    objects, which made loading quadratic and `build` up to 20% slower than Keras alone.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def parse_yaml(text: str, file: str = "<string>", limits: Limits | None = None) -> Document:
    """Parse YAML text into plain data with a source map.

    Raises:
        SpecError: on a syntax error, a tag, a duplicate key, an empty document, a
            document that is not a mapping, or a document over the `limits`.

    Example:
        >>> parse_yaml("a: {b: 1e-3}").data
        {'a': {'b': 0.001}}
    """
    with collector_paused():
        return _parse_yaml(text, file, limits or Limits())


def _parse_yaml(text: str, file: str, limits: Limits) -> Document:
    source = SourceMap(file=file, text_lines=text.splitlines())
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise SpecError(
            [
                Problem(
                    f"the file is larger than the limit of {limits.max_bytes:,} bytes",
                    file=file,
                    line=1,
                    column=1,
                    hint="raise it with limits=graphspec.Limits(max_bytes=...) if the file is trusted",
                    code="limit",
                )
            ]
        )
    builder = _Builder(source, limits)
    loader = None
    try:
        loader = _LOADER(text)  # PyYAML's reader refuses non-printable characters here
        data = builder.run(loader)
    except yaml.MarkedYAMLError as error:
        message, hint, mark = _syntax_words(error, source.text_lines)
        line = (mark.line + 1) if mark else 1
        # libyaml has nesting limits of its own, which some releases reach before ours:
        # the document is too deep whichever parser notices it first.
        too_deep = "depth" in str(error.problem or "")
        raise SpecError(
            [
                Problem(
                    f"the document is nested deeper than the YAML parser allows ({error.problem})" if too_deep else message,
                    file=file,
                    line=line,
                    column=(mark.column + 1) if mark else 1,
                    source_line=source.text_lines[line - 1] if 0 < line <= len(source.text_lines) else None,
                    hint="no spec needs this depth; flatten the nesting" if too_deep else hint,
                    code="limit" if too_deep else "yaml-syntax",
                )
            ]
        ) from None
    except UnicodeError:  # a lone surrogate in a str: libyaml cannot encode it
        raise SpecError(
            [Problem("the text is not valid Unicode (a lone surrogate?)", file=file, line=1, column=1, hint="save the file as UTF-8", code="yaml-syntax")]
        ) from None
    except yaml.YAMLError as error:  # ReaderError: text that is not printable
        raise SpecError(
            [Problem(f"the file is not readable YAML text: {error}", file=file, line=1, column=1, code="yaml-syntax")]
        ) from None
    except _TooBig as error:
        raise SpecError(
            [
                Problem(
                    str(error),
                    file=file,
                    line=error.mark.line,
                    column=error.mark.column,
                    hint="raise graphspec.Limits if the file is trusted",
                    code="limit",
                )
            ]
        ) from None
    except _Stop:
        raise SpecError(builder.problems) from None
    finally:
        if loader is not None:
            loader.dispose()
    if builder.problems:
        raise SpecError(builder.problems)
    if data is None:
        raise SpecError(
            [Problem("the file is empty", file=file, line=1, column=1, hint="a spec needs at least 'inputs', 'nodes' and 'outputs'", code="not-a-mapping")]
        )
    if not isinstance(data, dict):
        raise SpecError(
            [
                source.problem(
                    (),
                    f"a spec must be a mapping of keys such as 'inputs', 'nodes', 'outputs', not a {_kind(data)}",
                    code="not-a-mapping",
                )
            ]
        )
    return Document(data, source)


_CLOSERS = {"flow mapping": ("{", "}"), "flow sequence": ("[", "]")}


def _syntax_words(error: yaml.MarkedYAMLError, lines: list[str]) -> tuple[str, str, Any]:
    """(message, hint, where) for a YAML syntax error, naming a tab or an unclosed bracket when it is one."""
    message = f"YAML syntax error: {error.problem or error.context}"
    if error.context and error.problem:
        message += f" ({error.context})"
    hint = "check the indentation, colons and brackets on this line or the one before"
    mark = error.problem_mark
    text = lines[mark.line] if mark is not None and 0 <= mark.line < len(lines) else ""
    indentation = text[: len(text) - len(text.lstrip(" \t"))]
    if "\t" in indentation or (mark is not None and text[mark.column : mark.column + 1] == "\t"):
        return "YAML syntax error: a tab in the indentation (YAML indents with spaces only)", "replace the tab with spaces", mark
    opened = error.context_mark
    for kind, (opener, closer) in _CLOSERS.items():
        if error.context == f"while parsing a {kind}" and opened is not None and mark is not None and opened.line < mark.line:
            return (
                f"YAML syntax error: the '{opener}' opened here is not closed (the parser gave up at line {mark.line + 1})",
                f"add the '{closer}' after its last item, or a ',' between items",
                opened,
            )
        if error.context == f"while parsing a {kind}" and opened is not None:
            return (
                f"{message}; the '{opener}' at column {opened.column + 1} is not closed before this",
                f"close it with '{closer}', or add a ',' between items",
                mark,
            )
    return message, hint, mark or opened


def _shown_tag(tag: str) -> str:
    """A tag as users write it: ``tag:yaml.org,2002:binary`` -> ``!!binary``."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag


def _owner_prefix(path: Path) -> str:
    """``node 'h': `` for a path inside a node, for messages of this stage."""
    if len(path) >= 2 and path[0] in ("nodes", "inputs"):
        return f"{'node' if path[0] == 'nodes' else 'input'} '{path[1]}': "
    if len(path) >= 4 and path[0] == "blocks" and path[2] == "nodes":
        return f"block '{path[1]}', node '{path[3]}': "
    return ""


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )
