"""Code actions: the fixes a problem's own hint spells out, as text edits.

- a did-you-mean (``Dens`` -> ``Dense``, ``unit`` -> ``units``, ``zz`` -> ``z``): replace
  the misspelt word inside the flagged token with each suggestion, the first preferred;
- a missing block param: add it to the block node, with the value another use of the
  block passes, else the file's param of that name, else ``null`` to fill in;
- GS207, several inputs to a one-input layer: insert the concatenate merge node the
  hint suggests, just above the node, and read it in ``from``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from graphspec.lsp.analysis import Finding
from graphspec.lsp.document import Span, SpecText
from graphspec.lsp.hover import shown

_QUOTED = re.compile(r"'([^']*)'")


@dataclass(frozen=True)
class Edit:
    """Replace `span` (on one line; empty to insert) with `text`."""

    span: Span
    text: str


@dataclass(frozen=True)
class Action:
    """A fix: its title, the finding it fixes, its edits, and whether it is the likely one."""

    title: str
    finding: Finding
    edits: tuple[Edit, ...]
    preferred: bool = False


def actions(text: SpecText, finding: Finding) -> list[Action]:
    """The fixes for one finding in `text` (the file it is in)."""
    if finding.code == "missing-param":
        return _missing_param(text, finding)
    if finding.code == "too-many-inputs":
        return _merge_first(text, finding)
    return _did_you_mean(text, finding)


def _token(text: SpecText, span: Span) -> str:
    return text.line(span.line)[span.start:span.end]


def _did_you_mean(text: SpecText, finding: Finding) -> list[Action]:
    suggestions = finding.suggestions
    if not suggestions:
        return []
    token = _token(text, finding.span)
    wrong = None
    for quoted in reversed(_QUOTED.findall(finding.message)):
        match = re.search(rf"(?<![A-Za-z0-9_]){re.escape(quoted)}(?![A-Za-z0-9_])", token)
        if quoted and match:
            wrong = match
            break
    if wrong is None:
        return []
    span = Span(finding.span.line, finding.span.start + wrong.start(), finding.span.start + wrong.end())
    return [
        Action(f"Change '{wrong.group()}' to '{suggestion}'", finding, (Edit(span, suggestion),), preferred=index == 0)
        for index, suggestion in enumerate(suggestions)
    ]


def _node_path(message: str) -> tuple[Any, ...] | None:
    """The document path of the node a message names: ``node 'y'`` or ``block 'b', node 'y'``."""
    match = re.match(r"block '([^']*)', node '([^']*)'", message)
    if match:
        return ("blocks", match.group(1), "nodes", match.group(2))
    match = re.match(r"node '([^']*)'", message)
    return ("nodes", match.group(1)) if match else None


def _missing_param(text: SpecText, finding: Finding) -> list[Action]:
    names = _QUOTED.findall(finding.message)
    path = _node_path(finding.message)
    if len(names) < 3 or path is None or not text.ok:
        return []
    block, param = names[-2], names[-1]
    value = _value_for(text, block, param)
    line = text.line(finding.span.line)
    token = _token(text, finding.span)
    kind = re.search(r"block\s*:\s*[A-Za-z_][A-Za-z0-9_]*", token)
    if token.startswith("{") and kind:
        at = finding.span.start + kind.end()
        edit = Edit(Span(finding.span.line, at, at), f", {param}: {value}")
    else:  # a block-style node: a line of its own, indented as the node's first key
        indent = line[: len(line) - len(line.lstrip())]
        edit = Edit(Span(finding.span.line, 0, 0), f"{indent}{param}: {value}\n")
    return [Action(f"Add param '{param}: {value}' of block '{block}'", finding, (edit,), preferred=True)]


def _value_for(text: SpecText, block: str, param: str) -> str:
    """What to pass: what another use of the block passes, else the file's param, else null."""
    scopes: list[Any] = [text.get(("nodes",))]
    blocks = text.get(("blocks",))
    scopes += [b.get("nodes") for b in blocks.values() if isinstance(b, dict)] if isinstance(blocks, dict) else []
    for nodes in scopes:
        for node in (nodes.values() if isinstance(nodes, dict) else ()):
            if isinstance(node, dict) and node.get("block") == block and param in node:
                return shown(node[param])
    params = text.get(("params",))
    if isinstance(params, dict) and param in params:
        return f"${param}"
    return "null"


def _merge_first(text: SpecText, finding: Finding) -> list[Action]:
    path = _node_path(finding.message)
    token = _token(text, finding.span)
    if path is None or not token.startswith("[") or not text.ok:
        return []
    key = text.key_span(path)
    if key is None:
        return []
    scope = text.get(path[:-1])
    name = f"{path[-1]}_inputs"
    while isinstance(scope, dict) and name in scope:
        name += "_"
    line = text.line(key.line)
    indent = line[: len(line) - len(line.lstrip())]
    insert = Edit(Span(key.line, 0, 0), f"{indent}{name}: {{merge: concatenate, from: {token}}}\n")
    replace = Edit(finding.span, name)
    return [Action(f"Concatenate {token} in a new node '{name}' first", finding, (insert, replace), preferred=True)]
