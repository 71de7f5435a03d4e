"""YAML text -> plain data, plus a map from each value's path to its line and column.

Loading is safe by construction: PyYAML only composes the node tree (nothing is
constructed by PyYAML), and we turn nodes into dicts, lists and scalars ourselves.
Every explicit tag is refused, duplicate keys and merge keys (``<<``) are refused,
and aliases are expanded under a budget so that a "billion laughs" file fails fast.
Plain scalars follow YAML 1.2's core schema: ``1e-3`` is a float, ``on`` is a string.
"""

from __future__ import annotations

import re
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
        max_values: values after alias expansion (bounds "billion laughs").
        max_nodes: graph nodes after blocks and `repeat` are expanded.
    """

    max_bytes: int = 10_000_000
    max_depth: int = 64
    max_values: int = 2_000_000
    max_nodes: int = 200_000


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
        """A `Problem` located at `path` in this file."""
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
            **kwargs,
        )


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


class _Composer(yaml.SafeLoader):
    """Composes the node tree and notes every explicit tag instead of honouring it."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.tagged: list[tuple[str, yaml.Mark]] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            self.tagged.append((tag, event.start_mark))
        return super().compose_node(parent, index)


def _mark(mark: yaml.Mark) -> Mark:
    return Mark(mark.line + 1, mark.column + 1)


class _Converter:
    """Turns composed YAML nodes into plain data and fills the source map."""

    def __init__(self, source: SourceMap, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.count = 0
        self.problems: list[Problem] = []

    def convert(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self.count += 1
        if self.count > self.limits.max_values:
            raise _TooBig(
                f"the document expands to more than {self.limits.max_values:,} values "
                "(aliases of aliases?)",
                node,
            )
        if depth > self.limits.max_depth:
            raise _TooBig(f"the document is nested deeper than {self.limits.max_depth} levels", node)
        self.source.values.setdefault(path, _mark(node.start_mark))
        if isinstance(node, yaml.ScalarNode):
            return _plain_scalar(node.value) if node.style is None else node.value
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    self.source.problem(
                        path + ("<<",),
                        "merge keys ('<<') are not supported",
                        hint="write the keys out, or define a reusable block under 'blocks'",
                        code="yaml-merge-key",
                    )
                )
                self.source.values[path + ("<<",)] = _mark(key_node.start_mark)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Problem(
                        "a mapping key must be a plain name, not a list or mapping",
                        file=self.source.file,
                        line=key_node.start_mark.line + 1,
                        column=key_node.start_mark.column + 1,
                        code="yaml-key",
                    )
                )
                continue
            key = self.convert(key_node, path + ("<key>",), depth + 1)
            key = key if isinstance(key, str) else str(key)
            if key in result:
                first = self.source.keys[path + (key,)]
                where = _owner_prefix(path)
                self.problems.append(
                    Problem(
                        f"{where}duplicate key '{key}' (first at line {first.line})",
                        file=self.source.file,
                        line=key_node.start_mark.line + 1,
                        column=key_node.start_mark.column + 1,
                        source_line=self.source.text_lines[key_node.start_mark.line],
                        hint="each key may appear once in a mapping; remove or rename one",
                        code="duplicate-key",
                    )
                )
                continue
            self.source.keys[path + (key,)] = _mark(key_node.start_mark)
            result[key] = self.convert(value_node, path + (key,), depth + 1)
        return result


class _TooBig(Exception):
    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(message)
        self.node = node


def parse_yaml(text: str, file: str = "<string>", limits: Limits | None = None) -> Document:
    """Parse YAML text into plain data with a source map.

    Raises:
        SpecError: on a syntax error, a tag, a duplicate key, an empty document, a
            document that is not a mapping, or a document over the `limits`.

    Example:
        >>> parse_yaml("a: {b: 1e-3}").data
        {'a': {'b': 0.001}}
    """
    limits = limits or Limits()
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
    composer: _Composer | None = None
    try:
        composer = _Composer(text)  # PyYAML's reader refuses non-printable characters here
        root = composer.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = f"YAML syntax error: {error.problem or error.context}"
        if error.context and error.problem:
            message += f" ({error.context})"
        raise SpecError(
            [
                Problem(
                    message,
                    file=file,
                    line=(mark.line + 1) if mark else 1,
                    column=(mark.column + 1) if mark else 1,
                    source_line=source.text_lines[mark.line] if mark and mark.line < len(source.text_lines) else None,
                    hint="check the indentation, colons and brackets on this line or the one before",
                    code="yaml-syntax",
                )
            ]
        ) from None
    except yaml.YAMLError as error:  # ReaderError: bytes that are not text
        raise SpecError(
            [Problem(f"the file is not readable YAML text: {error}", file=file, line=1, column=1, code="yaml-syntax")]
        ) from None
    except RecursionError:
        raise SpecError(
            [Problem("the document is nested too deeply", file=file, line=1, column=1, code="limit")]
        ) from None
    finally:
        if composer is not None:
            composer.dispose()
    assert composer is not None

    problems = [
        Problem(
            f"YAML tag '{_shown_tag(tag)}' is not allowed",
            file=file,
            line=mark.line + 1,
            column=mark.column + 1,
            source_line=source.text_lines[mark.line] if mark.line < len(source.text_lines) else None,
            hint="a spec holds plain data only; remove the tag",
            code="yaml-tag",
        )
        for tag, mark in composer.tagged
    ]
    if problems:
        raise SpecError(problems)
    if root is None:
        raise SpecError(
            [Problem("the file is empty", file=file, line=1, column=1, hint="a spec needs at least 'inputs', 'nodes' and 'outputs'", code="not-a-mapping")]
        )
    size = _expanded_size(root, {})
    if size > limits.max_values:
        raise SpecError(
            [
                Problem(
                    f"the document expands to {size:,} values, more than the limit of {limits.max_values:,} "
                    "(aliases of aliases?)",
                    file=file,
                    line=1,
                    column=1,
                    hint="raise graphspec.Limits(max_values=...) if the file is trusted",
                    code="limit",
                )
            ]
        )
    converter = _Converter(source, limits)
    try:
        data = converter.convert(root, (), 0)
    except _TooBig as error:
        raise SpecError(
            [
                Problem(
                    str(error),
                    file=file,
                    line=error.node.start_mark.line + 1,
                    column=error.node.start_mark.column + 1,
                    hint="raise graphspec.Limits if the file is trusted",
                    code="limit",
                )
            ]
        ) from None
    if converter.problems:
        raise SpecError(converter.problems)
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


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values `node` becomes once aliases are expanded; shared nodes counted once each."""
    known = memo.get(id(node))
    if known is not None:
        return known
    memo[id(node)] = 1  # a recursive alias counts once instead of looping
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(item, memo) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    else:
        size = 1
    memo[id(node)] = size
    return size


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )
