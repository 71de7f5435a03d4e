"""Completion: what may be written at the cursor, read from the line being typed.

Half-typed YAML rarely parses, so the context comes from the text around the cursor
(the keys of the enclosing lines, by indentation, and the flow mapping the cursor is
in) and the names from the last text of the file that parsed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphspec import catalogue
from graphspec.lsp.document import KIND_KEYS, NODE_KEYS, SpecText, refs_of
from graphspec.lsp.hover import MERGE_CLASSES, argument_line, shown, summary

TOP_KEYS = ("graphspec", "name", "params", "imports", "inputs", "nodes", "blocks", "outputs", "compile", "expect")
BLOCK_KEYS = ("params", "inputs", "nodes", "outputs")
_WORD = re.compile(r"[A-Za-z0-9_.]*$")
_KEY_LINE = re.compile(r"^(\s*)(?:-\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*:(.*)$")


@dataclass(frozen=True)
class Item:
    """One completion: the text, what kind of thing it is, a detail line and documentation."""

    label: str
    kind: str  # node, input, layer, merge, block, param, argument, key, value
    detail: str = ""
    documentation: str = ""
    insert: str | None = None


@dataclass(frozen=True)
class Context:
    """Where the cursor is: the keys of the enclosing mappings, the node, what is typed."""

    chain: tuple[str, ...]  # enclosing keys, outermost first: ("blocks", "down", "nodes", "conv")
    key: str | None  # the key whose value is being typed, None when a key is being typed
    word: str  # the partial word before the cursor
    in_flow_value: str  # the text of the value typed so far (after "key:")
    node_line: str  # the text of the node's own line (for its 'type' when written in flow style)


def context(lines: list[str], line: int, column: int) -> Context:
    """The context of a cursor at 0-based (`line`, `column`) from the text alone."""
    current = lines[line] if line < len(lines) else ""
    before = current[:column]
    word = _WORD.search(before).group()  # type: ignore[union-attr]
    stripped = before.lstrip()
    match = _KEY_LINE.match(before)
    limit = len(match.group(1)) if match else len(before) - len(stripped)
    if stripped.startswith("-") and not match:
        limit += 1  # '- item' may sit at its key's indentation
    chain: list[str] = []
    for index in range(min(line, len(lines)) - 1, -1, -1):
        text = lines[index]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        indent = len(text) - len(text.lstrip())
        if indent >= limit:
            continue
        found = _KEY_LINE.match(text)
        if found:
            chain.insert(0, found.group(2))
        limit = indent
        if limit == 0:
            break
    key: str | None = None
    value = ""
    flow = _flow_chain(before)
    if flow:
        chain += [k for k, _ in flow[:-1]]
        key = flow[-1][0] or None
        value = flow[-1][1]
    elif match:
        if column > match.end(2):
            key, value = match.group(2), match.group(3)
    elif stripped.startswith("-") and chain:
        key = chain.pop()  # an item of a block-style list: the value of the key above
        value = stripped[1:]
    node_index = _node_line_index(lines, line, chain)
    node_line = lines[node_index] if node_index is not None else current
    return Context(tuple(chain), key, word, value, node_line)


def _flow_chain(before: str) -> list[tuple[str, str]]:
    """The open flow collections of a line up to the cursor, as (key, value typed so far).

    ``n: {type: Dense, from: [a, `` gives ``[("n", ""), ("from", " ")]``; the last key is
    "" where a key is being typed (after ``{`` or ``,`` in a mapping). Empty when the
    cursor is in no flow collection.
    """
    match = _KEY_LINE.match(before)
    if not match:
        return []
    rest = match.group(3)
    frames: list[tuple[str, str | None]] = []  # (bracket, the key whose value it opens)
    key: str | None = match.group(2)
    token, value_start, quote = "", 0, ""
    for i, char in enumerate(rest):
        if quote:
            quote = "" if char == quote else quote
            token += char
        elif char in "\"'":
            quote = char
            token += char
        elif char in "{[":
            frames.append((char, key))
            key = None if char == "{" else key
            token, value_start = "", i + 1
        elif char in "}]":
            if frames:
                key = frames.pop()[1]
            token = ""
        elif char == "," and frames:
            key = None if frames[-1][0] == "{" else frames[-1][1]
            token, value_start = "", i + 1
        elif char == ":" and frames and frames[-1][0] == "{" and (i + 1 == len(rest) or rest[i + 1] == " "):
            key, token, value_start = token.strip(), "", i + 1
        else:
            token += char
    if not frames:
        return []
    keys: list[str] = []
    for _, opened in frames:
        if opened and (not keys or keys[-1] != opened):
            keys.append(opened)
    typed = rest[value_start:]
    if frames[-1][0] == "[":
        return [(k, "") for k in keys[:-1]] + [(keys[-1] if keys else "", typed)]
    return [(k, "") for k in keys] + [(key or "", typed if key else "")]


def _node_line_index(lines: list[str], line: int, chain: list[str]) -> int | None:
    """The line where the enclosing node's key is written."""
    if len(chain) < 2:
        return None
    target_depth = 2 if chain[0] == "nodes" else 4 if chain[0] == "blocks" and len(chain) >= 4 else None
    if target_depth is None:
        return None
    name = chain[target_depth - 1]
    for index in range(line, -1, -1):
        found = _KEY_LINE.match(lines[index]) if index < len(lines) else None
        if found and found.group(2) == name:
            return index
    return None


# -- candidates ----------------------------------------------------------------------


def complete(current: list[str], line: int, column: int, text: SpecText | None, blocks: Mapping[str, tuple[SpecText | None, Any]]) -> list[Item]:
    """The completions at the cursor.

    Args:
        current: the lines of the text being edited.
        line, column: the cursor, 0-based.
        text: the last text of the file that parsed (names, nodes, params).
        blocks: block name -> (the SpecText defining it, its path), as the file sees them.
    """
    ctx = context(current, line, column)
    data = text.data if text is not None and text.ok else {}
    chain = ctx.chain
    scope, node_name = _scope_of(chain)
    node = _node(data, scope, node_name, ctx)
    before = current[line][:column] if line < len(current) else ""
    if ctx.key is not None and re.search(r"\$(\([^)]*|[A-Za-z0-9_]*)$", before):
        return _params(data, scope, blocks)
    if ctx.key in ("from", "share") or (ctx.key is not None and chain[-1:] == ("from",)):
        return _refs(data, scope, node_name, share=ctx.key == "share", blocks=blocks)
    if ctx.key == "type" and node_name is not None and len(chain) > (2 if scope == ("nodes",) else 4):
        argument = chain[-1]
        suffix = argument.rsplit("_", 1)[-1]
        kind = {"initializer": "initializers", "regularizer": "regularizers", "constraint": "constraints"}.get(suffix, "layers")
        return [Item(name, "layer", f"keras.{kind}.{name}", summary((catalogue.class_info(kind, name) or {}).get("doc"))) for name in catalogue.class_names(kind) if name[:1].isupper()]
    if ctx.key == "type" and node_name is not None:
        return [Item(name, "layer", "keras.layers." + name, summary(info.get("doc"))) for name, info in catalogue.catalogue()["layers"].items()]
    if ctx.key == "merge":
        return [Item(name, "merge", "keras.layers." + cls, summary((catalogue.layer_info(cls) or {}).get("doc"))) for name, cls in MERGE_CLASSES.items()]
    if ctx.key == "block":
        return [_block_item(name, where) for name, where in blocks.items()]
    if ctx.key == "outputs" or (chain[-1:] == ("outputs",) and ctx.key is None):
        return _refs(data, scope if chain[:1] == ("blocks",) else ("nodes",), None, share=False, blocks=blocks)
    if ctx.key is not None and len(chain) >= 2 and chain[-2:] == ("expect", "shapes"):
        return []
    if len(chain) >= 2 and chain[0] == "expect" and chain[1] == "shapes" and ctx.key is None:
        return [Item(n, "node", "node") for n in _names(data.get("nodes"))]
    if node_name is not None and ctx.key is None:
        return _node_keys(node, blocks)
    if node_name is not None and ctx.key:
        return _argument_values(node, ctx.key)
    if ctx.key is None and not chain:
        return [Item(k, "key", "graphspec") for k in TOP_KEYS if k not in data]
    if ctx.key is None and len(chain) == 2 and chain[0] == "blocks":
        return [Item(k, "key", "block") for k in BLOCK_KEYS]
    return []


def _scope_of(chain: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """The scope (``("nodes",)`` or ``("blocks", b, "nodes")``) and the node the chain is in."""
    if chain[:1] == ("nodes",):
        return ("nodes",), chain[1] if len(chain) >= 2 else None
    if chain[:1] == ("blocks",) and len(chain) >= 2:
        scope = ("blocks", chain[1], "nodes")
        return scope, chain[3] if len(chain) >= 4 and chain[2] == "nodes" else None
    return ("nodes",), None


def _node(data: Any, scope: tuple[str, ...], name: str | None, ctx: Context) -> dict[str, Any]:
    """The node's keys as last parsed, with its kind as typed on its line now."""
    node: dict[str, Any] = {}
    table: Any = data
    for part in scope:
        table = table.get(part) if isinstance(table, dict) else None
    if name is not None and isinstance(table, dict) and isinstance(table.get(name), dict):
        node = dict(table[name])
    for key in re.findall(r"[{,]\s*([A-Za-z_][A-Za-z0-9_]*)\s*:", ctx.node_line):
        node.setdefault(key, None)  # written on the node's line now, whatever the last parse had
    for kind in KIND_KEYS:
        typed = re.search(rf"[{{,\s]{kind}\s*:\s*([A-Za-z_][A-Za-z0-9_]*)", ctx.node_line)
        if typed:
            for other in KIND_KEYS:
                if other != kind:
                    node.pop(other, None)
            node[kind] = typed.group(1)
            break
    return node


def _names(table: Any) -> list[str]:
    return [str(k) for k in table] if isinstance(table, dict) else []


def _refs(data: Any, scope: tuple[str, ...], node_name: str | None, share: bool, blocks: Mapping[str, Any]) -> list[Item]:
    """Refs valid in `scope` for node `node_name`: inputs and nodes that do not depend on it,
    and ``name.k`` outputs of block nodes and of layers with several outputs."""
    if scope == ("nodes",):
        inputs = _names(data.get("inputs"))
        nodes = data.get("nodes") if isinstance(data.get("nodes"), dict) else {}
    else:
        block = (data.get("blocks") or {}).get(scope[1]) if isinstance(data.get("blocks"), dict) else None
        block = block if isinstance(block, dict) else {}
        inputs = [str(i) for i in block.get("inputs", []) if isinstance(i, str)] if isinstance(block.get("inputs"), list) else []
        nodes = block.get("nodes") if isinstance(block.get("nodes"), dict) else {}
    downstream = _downstream(nodes, node_name) if node_name else set()
    items: list[Item] = []
    if not share:
        items += [Item(name, "input", "input") for name in inputs]
    for name, node in nodes.items():
        if name == node_name or name in downstream or not isinstance(node, dict):
            continue
        kind = next((k for k in KIND_KEYS if k in node), "")
        if share and kind not in ("type", "block"):
            continue
        items.append(Item(str(name), "node", f"{kind}: {node.get(kind)}" if kind != "type" else str(node.get("type"))))
        if share:
            continue
        if kind == "block":
            where = blocks.get(node.get("block"))
            block_text, path = where if where else (None, None)
            block = block_text.get(path) if block_text is not None and path else None
            outputs = block.get("outputs") if isinstance(block, dict) else None
            out_names = list(outputs) if isinstance(outputs, dict) else [str(o).split(".")[0] for o in outputs] if isinstance(outputs, list) else []
            if len(out_names) > 1:
                items += [Item(f"{name}.{out}", "node", f"output '{out}' of block {node.get('block')}") for out in out_names]
        elif kind == "type" and isinstance(node.get("type"), str):
            args = {k: v for k, v in node.items() if k not in KIND_KEYS + NODE_KEYS}
            if catalogue.several_outputs(node["type"], args):
                count = 3 if node["type"] == "LSTM" else 2
                items += [Item(f"{name}.{i}", "node", f"output {i} of {node['type']}") for i in range(count)]
    return items


def _downstream(nodes: Mapping[str, Any], name: str) -> set[str]:
    """Nodes that read `name`, directly or not (a ref to them would make a cycle)."""
    readers: dict[str, set[str]] = {}
    for other, node in nodes.items():
        if isinstance(node, dict):
            for ref, _ in refs_of(node.get("from")):
                if isinstance(ref, str):
                    readers.setdefault(ref.split(".")[0], set()).add(str(other))
    found: set[str] = set()
    pending = [name]
    while pending:
        for reader in readers.get(pending.pop(), ()):
            if reader not in found:
                found.add(reader)
                pending.append(reader)
    return found


def _params(data: Any, scope: tuple[str, ...], blocks: Mapping[str, Any]) -> list[Item]:
    """Params visible in `scope`: the block's own first, then the file's."""
    items: list[Item] = []
    if scope[:1] == ("blocks",):
        block = (data.get("blocks") or {}).get(scope[1]) if isinstance(data.get("blocks"), dict) else None
        params = block.get("params") if isinstance(block, dict) else None
        for name, default in (params.items() if isinstance(params, dict) else ()):
            items.append(Item(str(name), "param", f"param of block {scope[1]}" + ("" if default is None else f" (default {shown(default)})")))
    own = {item.label for item in items}
    params = data.get("params")
    for name, value in (params.items() if isinstance(params, dict) else ()):
        if name not in own:
            items.append(Item(str(name), "param", f"param = {shown(value)}"))
    return items


def _block_item(name: str, where: tuple[SpecText | None, Any]) -> Item:
    text, path = where
    block = text.get(path) if text is not None else None
    params = block.get("params") if isinstance(block, dict) and isinstance(block.get("params"), dict) else {}
    inputs = block.get("inputs") if isinstance(block, dict) and isinstance(block.get("inputs"), list) else []
    detail = f"block({', '.join(map(str, inputs))})" + (" params: " + ", ".join(map(str, params)) if params else "")
    return Item(name, "block", detail, f"defined in {text.file}" if text is not None else "")


def _node_keys(node: Mapping[str, Any], blocks: Mapping[str, Any]) -> list[Item]:
    """The keys a node may take next: its kind, from, repeat, and its layer's arguments
    (or its block's params)."""
    items = [Item(key, "key", "node") for key in ("from", "repeat") if key not in node]
    if not any(k in node for k in KIND_KEYS):
        items += [Item(key, "key", "node kind") for key in KIND_KEYS]
        return items
    if isinstance(node.get("type"), str):
        info = catalogue.layer_info(node["type"]) or {}
        for name, spec in info.get("args", {}).items():
            if name not in node and name != "name":
                items.append(Item(name, "argument", argument_line(name, spec)[2:], str(spec.get("doc", ""))))
    elif isinstance(node.get("block"), str) and node["block"] in blocks:
        text, path = blocks[node["block"]]
        block = text.get(path) if text is not None else None
        params = block.get("params") if isinstance(block, dict) and isinstance(block.get("params"), dict) else {}
        for name, default in params.items():
            if name not in node:
                items.append(Item(str(name), "param", f"param of block {node['block']}" + (" (required)" if default is None else f" (default {shown(default)})")))
    return items


def _argument_values(node: Mapping[str, Any], key: str) -> list[Item]:
    """Values of an argument with a closed set: choices, activations, booleans."""
    info = catalogue.layer_info(node.get("type")) if isinstance(node.get("type"), str) else None
    spec = (info or {}).get("args", {}).get(key)
    if not spec:
        return []
    if spec.get("choices"):
        return [Item(str(choice), "value", f"{node['type']}.{key}") for choice in spec["choices"]]
    if spec.get("type") == "activation":
        return [Item(name, "value", "activation") for name in catalogue.known_names("activations")]
    if spec.get("type") == "bool":
        return [Item(v, "value", "bool") for v in ("true", "false")]
    return []
