"""What the editor shows on hover: layers and their arguments from the catalogue, what a
name points to, and, once Keras has built the spec in the background, shapes and counts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from graphspec import catalogue
from graphspec.lsp.document import KIND_KEYS, NODE_KEYS, Occurrence, SpecText, Symbol
from graphspec.lsp.navigation import Files, definitions
from graphspec.params import ParamError, Scope, substitute
from graphspec.resolve import MERGE_LAYERS as MERGE_CLASSES

_OBJECT_NAMESPACES = {"initializer": "initializers", "regularizer": "regularizers", "constraint": "constraints"}


def shown(value: Any) -> str:
    """A value as YAML would show it (``null``, ``true``, ``'valid'`` -> ``valid``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


def summary(doc: str | None) -> str:
    """The first sentence of a docstring."""
    text = (doc or "").strip().split("\n\n")[0].replace("\n", " ")
    return text


def argument_line(name: str, spec: Mapping[str, Any]) -> str:
    """``- `units` (int, required): Positive integer, ...`` for a list of arguments."""
    kind = spec.get("type", "any")
    parts = [kind]
    if spec.get("required"):
        parts.append("required")
    elif "default" in spec:
        parts.append(f"default `{shown(spec['default'])}`")
    if spec.get("choices"):
        parts.append("one of " + ", ".join(f"`{c}`" for c in spec["choices"]))
    return f"- `{name}` ({', '.join(parts)})"


def layer_hover(type_name: str, kind: str = "layers") -> str | None:
    """A layer's (or Keras object's) one-line summary and its arguments with defaults."""
    info = catalogue.class_info(kind, type_name)
    if info is None:
        return None
    namespace = "keras.layers" if kind == "layers" else f"keras.{kind}"
    lines = [f"**{type_name}** ({namespace}.{info.get('class', type_name)})", "", summary(info.get("doc"))]
    args = info.get("args", {})
    common = {"name", "dtype", "trainable", "autocast", "activity_regularizer", "input_dim", "input_shape", "batch_input_shape", "batch_size", "weights", "input_length"}
    own = [(n, s) for n, s in args.items() if n not in common]
    if own:
        lines += ["", "Arguments:"] + [argument_line(n, s) for n, s in own]
    return "\n".join(lines)


def argument_hover(owner: str, name: str, spec: Mapping[str, Any]) -> str:
    """An argument's type, default, allowed values and documentation."""
    lines = [f"**{owner}.{name}**: {spec.get('type', 'any')}"]
    if spec.get("required"):
        lines.append("required")
    elif "default" in spec:
        lines.append(f"default: `{shown(spec['default'])}`")
    if spec.get("choices"):
        lines.append("allowed: " + ", ".join(f"`{c}`" for c in spec["choices"]) + (" (any case)" if spec.get("case_insensitive") else ""))
    if spec.get("doc"):
        lines += ["", str(spec["doc"])]
    return "\n\n".join(lines[:1] + ["  \n".join(lines[1:])]) if len(lines) > 1 else lines[0]


def param_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The file's top-level params, computed in order as `resolve` does (None where they fail)."""
    values: dict[str, Any] = {}
    params = data.get("params")
    if isinstance(params, dict):
        scope = Scope(values)
        for name, raw in params.items():
            try:
                values[str(name)] = substitute(raw, scope)
            except (ParamError, RecursionError, TypeError, ValueError, OverflowError):
                values[str(name)] = None
    return values


def block_hover(files: Files, name: str, where: tuple[str, Any], root: str | None) -> str:
    """A block's signature, params with defaults, outputs and where it is defined."""
    text = files.get(where[0])
    block = text.get(where[1]) if text else None
    if not isinstance(block, dict):
        return f"**block {name}**"
    inputs = block.get("inputs") if isinstance(block.get("inputs"), list) else []
    outputs = block.get("outputs")
    out_names = list(outputs) if isinstance(outputs, dict) else [str(o).split(".")[0] for o in outputs] if isinstance(outputs, list) else []
    lines = [f"**block {name}**({', '.join(map(str, inputs))}) -> {', '.join(map(str, out_names))}"]
    params = block.get("params") if isinstance(block.get("params"), dict) else {}
    if params:
        lines += ["", "Params:"] + [f"- `{p}`" + (" (required)" if d is None else f" (default `{shown(d)}`)") for p, d in params.items()]
    span = text.key_span(where[1]) if text else None
    lines += ["", f"Defined in {_relative(where[0], root)}" + (f", line {span.line + 1}" if span else "")]
    return "\n".join(lines)


def _relative(file: str, root: str | None) -> str:
    if root:
        try:
            return os.path.relpath(file, root)
        except ValueError:
            pass
    return os.path.basename(file)


def node_hover(text: SpecText, symbol: Symbol, shapes: Shapes | None) -> str:
    """What a node or input is (its kind, or its shape), plus Keras's shapes when built."""
    scope = symbol.scope
    if scope == ("nodes",) and isinstance(text.get(("inputs", symbol.name)), dict):
        spec = text.get(("inputs", symbol.name))
        lines = [f"**input {symbol.name}**: shape {shown(spec.get('shape'))}" + (f", dtype {spec['dtype']}" if spec.get("dtype") else "")]
    elif len(scope) == 3 and isinstance(text.get(scope[:2] + ("inputs",)), list) and symbol.name in text.get(scope[:2] + ("inputs",)):
        lines = [f"**input {symbol.name}** of block {scope[1]}"]
    else:
        node = text.get((*scope, symbol.name))
        if not isinstance(node, dict):
            return f"**{symbol.name}**: no node or input of this name here"
        kind = next((k for k in KIND_KEYS if k in node), None)
        what = {"type": "", "merge": "merge ", "share": "share of ", "block": "block "}.get(kind or "", "")
        head = f"**node {symbol.name}**: {what}{node.get(kind) if kind else '?'}"
        args = {k: v for k, v in node.items() if k not in KIND_KEYS + NODE_KEYS}
        if args:
            head += " (" + ", ".join(f"{k}: {shown(v)}" for k, v in args.items()) + ")"
        lines = [head]
        if node.get("from") is not None:
            lines.append(f"from: {shown(node['from'])}")
    if shapes is not None:
        lines += shapes.describe(scope, symbol.name)
    return "\n\n".join(lines)


class Shapes:
    """What the background Keras build found for one text of a spec."""

    def __init__(self, result: Mapping[str, Any], current: bool) -> None:
        self.result = result
        self.current = current

    def describe(self, scope: tuple[Any, ...], name: str) -> list[str]:
        """Lines on the shape and parameter count of node `name` of `scope`, and the total."""
        if not self.result.get("ok"):
            return [f"*Keras build failed: {self.result.get('error', '?')}*"]
        block = scope[1] if len(scope) == 3 else None
        entries = [e for e in self.result.get("nodes", []) if e["node"] == name and e.get("block") == block]
        lines = []
        for entry in entries[:8]:
            where = f" (in {' > '.join(entry['instance'])})" if entry["instance"] else ""
            count = f", {entry['params']:,} params" if entry.get("params") is not None else ""
            lines.append(f"output shape `{entry['shape']}`{count}{where}")
        if len(entries) > 8:
            lines.append(f"... and {len(entries) - 8} more instances")
        if not entries and block is not None:
            lines.append("*no instance of this block is built by this spec*")
        lines.append(f"model: {self.result.get('total', 0):,} params ({self.result.get('trainable', 0):,} trainable)")
        if not self.current:
            lines.append("*(from an earlier version of the text; rebuilding)*")
        return lines


def hover(files: Files, file: str, line: int, column: int, shapes: Shapes | None, root: str | None, pending: bool = False) -> str | None:
    """The hover text for the cursor at 0-based (`line`, `column`) of `file`, in Markdown."""
    text = files.get(file)
    if text is None or not text.ok:
        return None
    blocks = files.blocks(file)
    occurrence = text.occurrence_at(line, column, blocks)
    token = text.token_at(line, column)
    building = ["*shapes: building with Keras...*"] if pending and shapes is None else []
    if occurrence is not None:
        found = _occurrence_hover(files, file, text, occurrence, shapes, root, blocks)
        if found and occurrence.symbol.kind == "node":
            found = "\n\n".join([found, *building])
        return found
    if token is None:
        return None
    path, is_key, _ = token
    return _token_hover(text, path, is_key)


def _occurrence_hover(files: Files, file: str, text: SpecText, occurrence: Occurrence, shapes: Shapes | None, root: str | None, blocks: Mapping[str, Any]) -> str | None:
    symbol = occurrence.symbol
    if symbol.kind == "node":
        home = files.get(symbol.file) or text
        return node_hover(home, symbol, shapes)
    if symbol.kind == "block":
        where = blocks.get(symbol.name)
        return block_hover(files, symbol.name, where, root) if where else f"**block {symbol.name}**: not defined here or in an import"
    if symbol.kind == "file":
        exists = os.path.exists(symbol.file)
        return f"**import** {_relative(symbol.file, root)}" + ("" if exists else " (not found)")
    # a param: the top level's, or a block's
    found = definitions(files, file, occurrence)
    if not found:
        return f"**param {symbol.name}**: not defined" + (f" in block {symbol.scope[1]}" if symbol.scope else "")
    home = files.get(found[0][0])
    if symbol.scope:
        default = home.get((*symbol.scope, "params", symbol.name)) if home else None
        head = f"**param {symbol.name}** of block {symbol.scope[1]}: " + ("required (no default)" if default is None else f"default `{shown(default)}`")
    else:
        raw = home.get(("params", symbol.name)) if home else None
        head = f"**param {symbol.name}** = `{shown(raw)}`"
        if isinstance(raw, str) and raw.startswith("$") and home is not None:
            value = param_values(home.data).get(symbol.name)
            head += f" = `{shown(value)}`" if value is not None else ""
    span = found[0][1]
    return head + (f"\n\ndefined at line {span.line + 1}" + ("" if os.path.realpath(found[0][0]) == os.path.realpath(file) else f" of {_relative(found[0][0], root)}") if span else "")


def _token_hover(text: SpecText, path: tuple[Any, ...], is_key: bool) -> str | None:
    """Hover on a layer type, a merge, an argument of a layer (or nested Keras object)."""
    if not path:
        return None
    last = path[-1]
    if not is_key and last == "type":
        type_name = text.get(path)
        if not isinstance(type_name, str):
            return None
        kinds = ["layers"]
        if len(path) >= 2 and isinstance(path[-2], str):
            suffix = str(path[-2]).rsplit("_", 1)[-1]
            kinds = [_OBJECT_NAMESPACES[suffix]] if suffix in _OBJECT_NAMESPACES else ["layers", "initializers", "regularizers", "constraints", "optimizers", "losses", "metrics"]
        if _in_node(path[:-1]) or path[0] == "compile":
            for kind in kinds:
                found = layer_hover(type_name, kind)
                if found:
                    return found
            return f"**{type_name}**: not a Keras class graphspec knows (a custom layer must be passed in custom_objects)"
        return None
    if not is_key and last == "merge":
        merge = text.get(path)
        cls = MERGE_CLASSES.get(merge) if isinstance(merge, str) else None
        if cls is None:
            return f"**merge {merge}**: not a merge; use one of " + ", ".join(MERGE_CLASSES)
        return f"**merge {merge}**: keras.layers.{cls}\n\n" + summary((catalogue.layer_info(cls) or {}).get("doc"))
    if is_key and isinstance(last, str) and last not in KIND_KEYS + NODE_KEYS:
        owner = text.get(path[:-1])
        if isinstance(owner, dict) and isinstance(owner.get("type"), str) and (_in_node(path[:-1]) or len(path) > 3):
            for kind in ("layers", "initializers", "regularizers", "constraints"):
                info = catalogue.class_info(kind, owner["type"])
                if info is not None and last in info.get("args", {}):
                    return argument_hover(owner["type"], last, info["args"][last])
            return None
    if is_key and last in KIND_KEYS + NODE_KEYS and _in_node(path[:-1]):
        return {
            "type": "**type**: the Keras layer class of this node",
            "merge": "**merge**: " + ", ".join(MERGE_CLASSES),
            "share": "**share**: call the layer of another node again (same weights)",
            "block": "**block**: use a block defined under `blocks` or imported",
            "from": "**from**: the node's input: a ref, a list of refs, or a mapping of call arguments to refs",
            "repeat": "**repeat**: chain N copies of this node (named `node_1 ... node_N`)",
        }[last]
    return None


def _in_node(path: tuple[Any, ...]) -> bool:
    """Whether `path` is a node: ``("nodes", n)`` or ``("blocks", b, "nodes", n)``."""
    return (len(path) == 2 and path[0] == "nodes") or (len(path) == 4 and path[0] == "blocks" and path[2] == "nodes")
