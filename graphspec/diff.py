"""``graphspec diff OLD NEW``: what changed in the model two specs build, not in their text.

Both specs are loaded and expanded (params substituted, blocks instantiated, repeats
counted: `graphspec.resolve`), and each expanded graph is flattened into the layer calls
the model makes: ``h_1``, the copies ``conv_1 ... conv_3`` of a repeat, ``r1/conv`` inside
block instance ``r1``. The two flat graphs are then matched node by node in build order:
a new node matches an old one that makes the same call (same layer type or merge, same
arguments, inputs that match) -- by name when it can, otherwise it is a rename -- and
else the old node of the same name, whose differences are then listed. So reordered keys,
a param folded into a literal or a block written out by hand compare equal, and a
renamed node is found even when its neighbours changed.

No Keras import, except for ``--build`` (output shapes and parameter counts).
Exit codes: 0 equivalent, 1 different, 2 cannot compare (usage, I/O, a spec with errors).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import subprocess
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, TextIO

from graphspec import catalogue
from graphspec.errors import SpecError, printable
from graphspec.resolve import MERGE_LAYERS, Graph, Node
from graphspec.spec import Spec


class DiffError(Exception):
    """A side cannot be read (a missing file, a failed ``git show``)."""


# -- reading a side -----------------------------------------------------------------------


@dataclass
class Side:
    """One spec to compare: what it is called in the output, the spec and its expanded graph."""

    shown: str
    spec: Spec
    graph: Graph
    params: dict[str, Any]


def read_side(where: str, params: Mapping[str, Any] | None = None, custom_types: Sequence[str] = (), *, shown: str | None = None, base_dir: str | None = None) -> Side:
    """A spec file, or ``git:REV:PATH`` (read with ``git show REV:PATH``), loaded and expanded.

    Raises:
        DiffError: the file or revision cannot be read.
        SpecError: the spec has mistakes.
    """
    from graphspec.api import expanded, loads

    if where.startswith("git:"):
        text, shown, base = _git_show(where[4:]), shown or where, base_dir
        if base is None:
            base = str(FilePath(where[4:].partition(":")[2]).parent)
    else:
        try:
            text = FilePath(where).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise DiffError(f"cannot read {where}: {getattr(error, 'strerror', None) or error}") from None
        shown, base = shown or where, base_dir or str(FilePath(where).parent)
    spec = loads(text, file=shown, params=params, base_dir=base, custom_types=custom_types)
    graph = expanded(spec, custom_types=custom_types)  # the graph load made with these params
    return Side(shown, spec, graph, dict(params or {}))


def _git_show(revision_path: str) -> str:
    revision, sep, path = revision_path.partition(":")
    if not sep or not path:
        raise DiffError(f"'git:{revision_path}' is not git:REV:PATH (e.g. git:HEAD~1:model.yaml, git:main:specs/a.yaml)")
    if revision == "":
        revision = "HEAD"
    try:
        result = subprocess.run(["git", "show", f"{revision}:{path}"], capture_output=True, check=False)
    except OSError as error:
        raise DiffError(f"cannot run git: {error.strerror or error}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DiffError(f"git show {revision}:{path}: {message[-1] if message else 'failed'}")
    try:
        return result.stdout.decode("utf-8")
    except UnicodeDecodeError:
        raise DiffError(f"git show {revision}:{path}: not UTF-8 text") from None


# -- flattening -----------------------------------------------------------------------------


@dataclass
class Flat:
    """One layer call of the model (or a model input), with refs turned into flat labels.

    Attributes:
        label: ``h_1``, ``conv_2`` (a repeat copy), ``r1/conv`` (inside block instance r1).
        top: written at the top level of the spec (not inside a block instance).
        kind: ``input``, ``layer``, ``merge`` or ``share``.
        target: the layer type or merge; for a share, the label of the call it shares.
        args: the arguments, canonical (sorted, catalogue defaults dropped).
        inputs: refs as labels, in the form written (one, a list, a mapping).
        block: the block this call comes from and the instance path, for grouping.
    """

    label: str
    top: bool
    kind: str
    target: str
    args: Any
    inputs: Any
    block: tuple[str, str] | None = None  # (block name, instance label)


class _Flattener:
    def __init__(self) -> None:
        self.flats: dict[str, Flat] = {}
        self.instances: dict[str, list[str]] = defaultdict(list)  # block name -> instance labels

    def add(self, flat: Flat) -> None:
        self.flats[flat.label] = flat

    def graph(self, graph: Graph) -> list[str]:
        scope: dict[str, Any] = {}
        for item in graph.inputs:
            self.add(Flat(item.name, True, "input", "", canonical({"shape": list(item.shape), "dtype": item.dtype, **item.options}), None))
            scope[item.name] = item.name
        self.nodes(graph.nodes, scope, "", None, None)
        return _outputs(graph.outputs, scope)

    def nodes(self, nodes: list[Node], scope: dict[str, Any], prefix: str, block: tuple[str, str] | None, shared: str | None) -> None:
        """Flatten `nodes` into labels ``prefix + name``; `shared` is the prefix of the instance a share re-calls."""
        for node in nodes:
            label = prefix + node.name
            refs = _map_refs(node.inputs, scope)
            if node.kind == "block":
                scope[node.name] = self.block(node, refs, prefix, shared)
                continue
            if node.kind == "share":
                scope[node.name] = self.share(node, refs, scope, prefix, block)
                continue
            target = MERGE_LAYERS.get(node.target, node.target) if node.kind == "merge" else node.target
            args = canonical(_without_defaults(target, node.args))
            copies = node.layer_names() if node.repeat is not None else [node.name]
            for copy in copies:
                copy_label = prefix + copy
                if shared is not None:
                    self.add(Flat(copy_label, not prefix, "share", shared + copy, None, refs, block))
                else:
                    self.add(Flat(copy_label, not prefix, node.kind, target, args, refs, block))
                refs = copy_label
            scope[node.name] = _Layer(copies[-1] if len(copies) == 1 else label, prefix + copies[-1], [prefix + c for c in copies])

    def block(self, node: Node, refs: Any, prefix: str, shared: str | None, name: str | None = None) -> Any:
        """Flatten the instances of a block node; with `name`, a share calling them again."""
        name = name or node.name
        body = node.body
        if body is None:
            return _Layer(prefix + name, prefix + name, [])
        copies = node.layer_names()
        outputs: Any = None
        for index, copy in enumerate(copies):
            own = copy if name == node.name else (f"{name}_{index + 1}" if node.repeat is not None else name)
            instance = prefix + own
            self.instances[node.target].append(instance)
            inner: dict[str, Any] = dict(zip(body.input_names, _block_inputs(refs, body.input_names), strict=False))
            self.nodes(body.nodes, inner, instance + "/", (node.target, instance), None if shared is None else shared + copy + "/")
            outputs = _outputs(body.outputs, inner)
            refs = outputs[0] if isinstance(outputs, list) and len(outputs) == 1 else outputs
        return _Block(outputs, body.outputs, node)

    def share(self, node: Node, refs: Any, scope: dict[str, Any], prefix: str, block: tuple[str, str] | None) -> Any:
        """A share calls the shared node's layers (all repeat copies, or a whole block) again."""
        original = scope.get(node.target)
        if isinstance(original, _Block):
            return self.block(original.node, refs, prefix, prefix, name=node.name)
        if not isinstance(original, _Layer) or not original.copies:
            return _Layer(prefix + node.name, prefix + node.name, [])
        labels = [prefix + node.name] if len(original.copies) == 1 else [f"{prefix}{node.name}_{i}" for i in range(1, len(original.copies) + 1)]
        for label, shared_label in zip(labels, original.copies, strict=True):
            self.add(Flat(label, not prefix, "share", shared_label, None, refs, block))
            refs = label
        return _Layer(labels[-1], labels[-1], labels)


@dataclass
class _Layer:
    label: str
    output: str
    copies: list[str]


@dataclass
class _Block:
    outputs: Any
    names: Any
    node: Node


def _block_inputs(refs: Any, names: list[str]) -> list[Any]:
    if isinstance(refs, dict):
        return [refs.get(name) for name in names]
    if isinstance(refs, list):
        return refs
    return [refs]


def _ref(ref: str, scope: Mapping[str, Any]) -> Any:
    """A written ref (``a``, ``a.1``, ``blk.out``) -> the label of the tensor it names."""
    name, _, selector = ref.partition(".")
    target = scope.get(name)
    if target is None:
        return ref
    if isinstance(target, str):
        return target + (f".{selector}" if selector else "")
    if isinstance(target, _Layer):
        return target.output + (f".{selector}" if selector else "")
    outputs, names = target.outputs, target.names
    if not selector:
        return outputs[0] if isinstance(outputs, list) and len(outputs) == 1 else outputs
    if selector.isdigit():
        index = int(selector)
        return outputs[index] if isinstance(outputs, list) and index < len(outputs) else ref
    if isinstance(names, list) and selector in names:
        return outputs[names.index(selector)]
    if isinstance(names, dict) and selector in names:
        return outputs[list(names).index(selector)]
    return ref


def _map_refs(refs: Any, scope: Mapping[str, Any]) -> Any:
    if isinstance(refs, str):
        return _ref(refs, scope)
    if isinstance(refs, list):
        mapped = [_map_refs(r, scope) for r in refs]
        return mapped[0] if len(mapped) == 1 else mapped  # `from: [x]` passes x itself
    if isinstance(refs, dict):
        return {k: _map_refs(v, scope) for k, v in sorted(refs.items())}
    return refs


def _outputs(outputs: Any, scope: Mapping[str, Any]) -> Any:
    if isinstance(outputs, dict):
        return [_ref(v, scope) for v in outputs.values()]
    return [_ref(v, scope) for v in outputs]


def _without_defaults(type_name: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments equal to the catalogue's default say nothing: ``use_bias: true`` on a Dense."""
    info = catalogue.layer_info(type_name) or {}
    known = info.get("args", {})
    return {k: v for k, v in args.items() if not (k in known and "default" in known[k] and _same_as_default(v, known[k]["default"]))}


def _same_as_default(value: Any, default: Any) -> bool:
    """``strides: 1`` is Keras's default ``(1, 1)``: an int stands for a tuple of that int."""
    if canonical(value) == canonical(default):
        return True
    return type(value) is int and isinstance(default, list) and bool(default) and all(type(d) is int and d == value for d in default)


def canonical(value: Any) -> Any:
    """A value in one form: mappings sorted, tuples as lists, ``1.0`` as ``1.0`` (not 1)."""
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


# -- matching -------------------------------------------------------------------------------


@dataclass
class Flattened:
    """A side's flat graph: calls in build order, output labels, block instances."""

    flats: dict[str, Flat]
    outputs: Any
    instances: dict[str, list[str]]


def flatten(graph: Graph) -> Flattened:
    """The layer calls `graph` makes, in build order, blocks and repeats written out."""
    flattener = _Flattener()
    outputs = flattener.graph(graph)
    return Flattened(flattener.flats, outputs, dict(flattener.instances))


def _translate(value: Any, mapping: Mapping[str, str]) -> Any:
    """Refs of the new side in old labels (unmatched ones marked, so they never compare equal)."""
    if isinstance(value, str):
        label, dot, selector = value.partition(".")
        return (mapping[label] + dot + selector) if label in mapping else f"\0new:{value}"
    if isinstance(value, list):
        return [_translate(v, mapping) for v in value]
    if isinstance(value, dict):
        return {k: _translate(v, mapping) for k, v in value.items()}
    return value


def _signature(flat: Flat, inputs: Any, target: str) -> str:
    return _key([flat.kind, target, flat.args, inputs])


def match(old: Flattened, new: Flattened) -> dict[str, str]:
    """new label -> old label, for every new call that has a counterpart."""
    by_signature: dict[str, list[Flat]] = defaultdict(list)
    for flat in old.flats.values():
        by_signature[_signature(flat, flat.inputs, flat.target)].append(flat)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for flat in new.flats.values():
        target = _translate(flat.target, mapping) if flat.kind == "share" else flat.target
        candidates = [o for o in by_signature.get(_signature(flat, _translate(flat.inputs, mapping), target), []) if o.label not in taken]
        pick = next((o for o in candidates if o.label == flat.label), None) or next((o for o in candidates if o.top == flat.top), None) or (candidates[0] if candidates else None)
        if pick is None and flat.label in old.flats and flat.label not in taken and old.flats[flat.label].kind == flat.kind:
            pick = old.flats[flat.label]
        if pick is not None:
            mapping[flat.label] = pick.label
            taken.add(pick.label)
    return mapping


# -- the report ---------------------------------------------------------------------------------


@dataclass
class Change:
    """One line of the report: a section, a subject (node, param, block) and what happened."""

    section: str  # nodes, params, blocks, outputs, model, build
    kind: str  # added, removed, renamed, changed
    subject: str
    detail: str = ""
    instances: list[str] = field(default_factory=list)

    def as_data(self) -> dict[str, Any]:
        data = {"section": self.section, "kind": self.kind, "subject": self.subject, "detail": self.detail}
        if self.instances:
            data["instances"] = self.instances
        return data


@dataclass
class Report:
    """Everything `compare` found; `equivalent` when the two build the same model."""

    old: str
    new: str
    changes: list[Change] = field(default_factory=list)
    notes: list[Change] = field(default_factory=list)  # spec changes that leave the model as it is
    build: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def equivalent(self) -> bool:
        return not self.changes


def compare(old: Side, new: Side) -> Report:
    """The semantic difference of two expanded specs."""
    report = Report(old.shown, new.shown)
    old_flat, new_flat = flatten(old.graph), flatten(new.graph)
    mapping = match(old_flat, new_flat)
    reverse = {v: k for k, v in mapping.items()}
    grouped: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)

    def shown(old_value: Any) -> Any:  # an old ref shown in new names where it has one
        if isinstance(old_value, str):
            label, dot, selector = old_value.partition(".")
            return reverse.get(label, label) + dot + selector
        if isinstance(old_value, list):
            return [shown(v) for v in old_value]
        if isinstance(old_value, dict):
            return {k: shown(v) for k, v in old_value.items()}
        return old_value

    def note(change: Change, flat: Flat) -> None:
        if flat.block is not None and not flat.top:
            block_name, instance = flat.block
            inner = flat.label[len(instance) + 1 :]
            grouped[(change.kind, f"{inner} of block {block_name}", change.detail, change.section)].append(instance)
        else:
            report.changes.append(change)

    for label, flat in new_flat.flats.items():
        if label not in mapping:
            note(Change("inputs" if flat.kind == "input" else "nodes", "added", label, _describe_flat(flat)), flat)
            continue
        before = old_flat.flats[mapping[label]]
        section = "inputs" if flat.kind == "input" else "nodes"
        if before.label != label and before.top == flat.top:
            note(Change(section, "renamed", label, f"renamed from {before.label}"), flat)
        for detail in _differences(before, flat, shown):
            note(Change(section, "changed", label, detail), flat)
    for label, flat in old_flat.flats.items():
        if label not in reverse:
            note(Change("inputs" if flat.kind == "input" else "nodes", "removed", label, _describe_flat(flat)), flat)
    for (kind, subject, detail, section), instances in grouped.items():
        report.changes.append(Change(section, kind, subject, detail, instances))
    old_outputs, new_outputs = shown(old_flat.outputs), new_flat.outputs
    if old_outputs != new_outputs:
        report.changes.append(Change("outputs", "changed", "outputs", f"{_text(old_outputs)} -> {_text(new_outputs)}"))
    if _output_names(old.spec) != _output_names(new.spec):
        report.changes.append(Change("outputs", "changed", "output names", f"{_text(_output_names(old.spec))} -> {_text(_output_names(new.spec))}"))
    if old.graph.name != new.graph.name:
        report.changes.append(Change("model", "changed", "name", f"{old.graph.name} -> {new.graph.name}"))
    for key, before, after in _mapping_changes(canonical(old.graph.compile or {}), canonical(new.graph.compile or {})):
        report.changes.append(_value_change("model", f"compile.{key}", before, after))
    _params(old, new, report)
    _blocks(old, new, old_flat, new_flat, report)
    for key, before, after in _mapping_changes(canonical(old.spec.search), canonical(new.spec.search)):
        report.notes.append(_value_change("search", key, before, after))
    for key, before, after in _mapping_changes(canonical(old.graph.expect or {}), canonical(new.graph.expect or {})):
        report.notes.append(_value_change("expect", key, before, after))
    return report


def _output_names(spec: Spec) -> list[str] | None:
    return list(spec.outputs) if isinstance(spec.outputs, dict) else None


def _describe_flat(flat: Flat) -> str:
    if flat.kind == "input":
        return f"input {_text(flat.args)}"
    what = f"share of {flat.target}" if flat.kind == "share" else flat.target
    args = ", ".join(f"{k}={_text(v)}" for k, v in (flat.args or {}).items())
    return f"{what}({args}) from {_text(flat.inputs)}"


def _differences(before: Flat, after: Flat, shown: Any) -> list[str]:
    details = []
    if before.kind != after.kind or (before.target != after.target and before.kind != "share"):
        details.append(f"{before.target or before.kind} -> {after.target or after.kind}")
    elif before.kind == "share" and shown(before.target) != after.target:
        details.append(f"shares {shown(before.target)} -> {after.target}")
    for key, old_value, new_value in _mapping_changes(before.args or {}, after.args or {}):
        details.append(f"{key}: {_text(old_value)} -> {_text(new_value)}")
    if before.kind != "input" and shown(before.inputs) != after.inputs:
        details.append(f"from: {_text(shown(before.inputs))} -> {_text(after.inputs)}")
    return details


_ABSENT = "(absent)"


def _mapping_changes(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """``(key, old, new)`` for each key whose value differs, nested mappings walked into."""
    changes = []
    for key in list(before) + [k for k in after if k not in before]:
        old_value, new_value = before.get(key, _ABSENT), after.get(key, _ABSENT)
        if isinstance(old_value, Mapping) and isinstance(new_value, Mapping):
            changes += _mapping_changes(old_value, new_value, f"{prefix}{key}.")
        elif _key(old_value) != _key(new_value):
            changes.append((f"{prefix}{key}", old_value, new_value))
    return changes


def _params(old: Side, new: Side, report: Report) -> None:
    """Params are the spec's interface: changed defaults are listed; the model check says if they mattered."""
    for key, before, after in _mapping_changes(canonical(old.spec.params), canonical(new.spec.params)):
        report.notes.append(_value_change("params", key, before, after))


def _blocks(old: Side, new: Side, old_flat: Flattened, new_flat: Flattened, report: Report) -> None:
    """Block definitions compared as written; each change names the instances it reaches."""
    for name in list(old.spec.blocks) + [n for n in new.spec.blocks if n not in old.spec.blocks]:
        instances = new_flat.instances.get(name) or old_flat.instances.get(name) or []
        if name not in new.spec.blocks:
            report.notes.append(Change("blocks", "removed", name, "", old_flat.instances.get(name, [])))
            continue
        if name not in old.spec.blocks:
            report.notes.append(Change("blocks", "added", name, "", new_flat.instances.get(name, [])))
            continue
        before = canonical(old.spec.blocks[name].model_dump(by_alias=True, exclude_none=True))
        after = canonical(new.spec.blocks[name].model_dump(by_alias=True, exclude_none=True))
        for key, old_value, new_value in _mapping_changes(before, after):
            report.notes.append(_value_change("blocks", f"{name}: {key}", old_value, new_value, instances))


def _value_change(section: str, subject: str, before: Any, after: Any, instances: list[str] | None = None) -> Change:
    if before is _ABSENT or before == _ABSENT:
        return Change(section, "added", subject, _text(after), list(instances or []))
    if after is _ABSENT or after == _ABSENT:
        return Change(section, "removed", subject, _text(before), list(instances or []))
    return Change(section, "changed", subject, f"{_text(before)} -> {_text(after)}", list(instances or []))


def _text(value: Any) -> str:
    if value == _ABSENT:
        return _ABSENT
    if isinstance(value, str):
        return value
    return json.dumps(value, default=repr).replace('"', "")


# -- --build: shapes and parameter counts ---------------------------------------------------


def add_build(report: Report, old: Side, new: Side, custom_objects: Mapping[str, Any] | None = None) -> None:
    """Each top-level layer's output shape and parameter count before and after, and the totals."""
    from graphspec.api import build

    old_model = build(old.spec, params=old.params, custom_objects=custom_objects)
    new_model = build(new.spec, params=new.params, custom_objects=custom_objects)
    old_layers, new_layers = _layer_facts(old_model), _layer_facts(new_model)
    mapping = match(flatten(old.graph), flatten(new.graph))
    renamed = {name: mapping[name] if "/" not in mapping.get(name, "/") else name for name in new_layers}
    used = set()
    for name, facts in new_layers.items():
        before = old_layers.get(renamed[name]) or old_layers.get(name)
        if before is not None:
            used.add(renamed[name] if renamed[name] in old_layers else name)
        report.build.append({"node": name, "was": renamed[name] if renamed[name] != name and before else None, "old": before, "new": facts})
    for name, facts in old_layers.items():
        if name not in used:
            report.build.append({"node": name, "was": None, "old": facts, "new": None})
    report.totals = {
        "old": {"params": old_model.count_params(), "trainable": _trainable(old_model)},
        "new": {"params": new_model.count_params(), "trainable": _trainable(new_model)},
    }


def _layer_facts(model: Any) -> dict[str, dict[str, Any]]:
    facts = {}
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        try:
            output = layer.output
            shape = [list(t.shape) for t in output] if isinstance(output, (list, tuple)) else list(output.shape)
        except (AttributeError, ValueError):
            shape = "several calls"
        facts[layer.name] = {"shape": shape, "params": layer.count_params()}
    return facts


def _trainable(model: Any) -> int:
    return int(sum(int(_size(w.shape)) for w in model.trainable_weights))


def _size(shape: Any) -> int:
    size = 1
    for dimension in shape:
        size *= int(dimension)
    return size


# -- output -----------------------------------------------------------------------------------

_ORDER = ("inputs", "nodes", "outputs", "model", "params", "blocks", "search", "expect")


def render(report: Report, fmt: str) -> str:
    """The report as ``text``, ``markdown`` or ``json``."""
    if fmt == "json":
        return json.dumps(
            {
                "old": report.old,
                "new": report.new,
                "equivalent": report.equivalent,
                "changes": [c.as_data() for c in report.changes],
                "notes": [c.as_data() for c in report.notes],
                **({"build": report.build, "totals": report.totals} if report.totals else {}),
            },
            indent=2,
        ) + "\n"
    markdown = fmt == "markdown"
    lines = []
    verdict = "equivalent: both build the same model" if report.equivalent else f"{len(report.changes)} change(s) to the model"
    lines.append(f"### graphspec diff `{report.old}` → `{report.new}`: {verdict}" if markdown else f"graphspec diff {report.old} -> {report.new}: {verdict}")
    for title, items in (("Model", report.changes), ("Spec only (the model is the same)" if report.equivalent else "Spec", report.notes)):
        if not items:
            continue
        lines.append("")
        lines.append(f"#### {title}" if markdown else f"{title}:")
        for section in _ORDER:
            for change in (c for c in items if c.section == section):
                lines.append(_line(change, markdown))
    if report.totals:
        lines.append("")
        lines += _build_lines(report, markdown)
    return "\n".join(printable(line) for line in lines) + "\n"


_SIGNS = {"added": "+", "removed": "-", "renamed": "~", "changed": "~"}
_SINGULAR = {"inputs": "input", "nodes": "node", "outputs": "", "model": "", "params": "param", "blocks": "block", "search": "search", "expect": "expect"}


def _line(change: Change, markdown: bool) -> str:
    """``+ node z: Dense(units=500) from h_1``; ``~ block res: nodes.conv.kernel_size: 3 -> 5 (in r1, r2)``."""
    what = " ".join(w for w in (_SINGULAR.get(change.section, change.section), change.subject) if w)
    where = f" (in {', '.join(change.instances)})" if change.instances else ""
    detail = f": {change.detail}" if change.detail else ""
    if change.kind in ("added", "removed") and change.section not in ("nodes", "inputs"):
        detail = f" {change.kind}" + (f": {change.detail}" if change.detail else "")
    if markdown:
        return f"- {_SIGNS[change.kind]} `{what}`{detail}{where}".replace("|", "\\|")
    return f"  {_SIGNS[change.kind]} {what}{detail}{where}"


def _build_lines(report: Report, markdown: bool) -> list[str]:
    rows = []
    for row in report.build:
        old, new = row["old"] or {}, row["new"] or {}
        name = f"{row['node']} (was {row['was']})" if row["was"] else row["node"]
        changed = old.get("shape") != new.get("shape") or old.get("params") != new.get("params")
        rows.append([name, _text(old.get("shape", "-")), _text(new.get("shape", "-")), _count(old.get("params")), _count(new.get("params")), _delta(old.get("params"), new.get("params")), "*" if changed else ""])
    totals = report.totals
    rows.append(["total", "", "", _count(totals["old"]["params"]), _count(totals["new"]["params"]), _delta(totals["old"]["params"], totals["new"]["params"]), ""])
    header = ["node", "old shape", "new shape", "old params", "new params", "change", ""]
    if markdown:
        table = ["| " + " | ".join(header[:-1]) + " |", "| --- | --- | --- | ---: | ---: | ---: |"]
        table += ["| " + " | ".join([f"**{r[0]}**" if r[6] else r[0], *r[1:6]]) + " |" for r in rows]
        return ["#### Shapes and parameters", "", *table]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = ["Shapes and parameters (* changed):"]
    for r in [header, *rows]:
        out.append("  " + "  ".join(str(c).ljust(widths[i]) if i < 3 else str(c).rjust(widths[i]) for i, c in enumerate(r)).rstrip())
    return out


def _count(value: Any) -> str:
    return "-" if value is None else f"{value:,}"


def _delta(before: Any, after: Any) -> str:
    if before is None or after is None or before == after:
        return ""
    return f"{after - before:+,}"


# -- the command --------------------------------------------------------------------------------


def main(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``graphspec diff``: 0 equivalent, 1 different, 2 cannot compare."""
    params = dict(args.param)
    paths = list(args.paths)
    if args.git_driver:
        return _git_driver(paths, args, params, out, err)
    if len(paths) != 2:
        print(f"graphspec diff: error: expected OLD and NEW, got {len(paths)} path(s)", file=err)
        return 2
    try:
        old, new = (read_side(p, params, args.custom_type) for p in paths)
        report = compare(old, new)
        if args.build:
            add_build(report, old, new)
    except DiffError as error:
        print(f"graphspec diff: error: {error}", file=err)
        return 2
    except SpecError as error:
        print(str(error), file=err)
        return 2
    out.write(render(report, args.format))
    return 0 if report.equivalent else 1


def _git_driver(paths: list[str], args: argparse.Namespace, params: dict[str, Any], out: TextIO, err: TextIO) -> int:
    """git's external diff: ``PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE``.

    Always exits 0 when it printed something (git stops at a non-zero exit); a file that
    is not a valid spec, or one side missing, is shown as a plain unified diff instead.
    """
    if len(paths) not in (7, 9):  # 9: git passes the new path and a rename note for renames
        print(f"graphspec diff --git-driver: error: git gives 7 arguments, got {len(paths)}", file=err)
        return 2
    path, old_file, new_file = paths[0], paths[1], paths[4]
    shown_new = paths[7] if len(paths) == 9 else path
    base = str(FilePath(path).parent)
    try:
        if old_file == os.devnull or new_file == os.devnull:
            raise DiffError("added or deleted")
        old = read_side(old_file, params, args.custom_type, shown=f"a/{path}", base_dir=base)
        new = read_side(new_file, params, args.custom_type, shown=f"b/{shown_new}", base_dir=base)
        report = compare(old, new)
        if args.build:
            add_build(report, old, new)
    except (DiffError, SpecError) as error:
        out.write(_unified(path, old_file, new_file, shown_new))
        if isinstance(error, SpecError):
            print(f"(graphspec diff: not compared as specs: {error.problems[0].format()})", file=out)
        return 0
    out.write(render(report, args.format))
    return 0


def _unified(path: str, old_file: str, new_file: str, new_path: str) -> str:
    def lines(file: str) -> list[str]:
        if file == os.devnull:
            return []
        try:
            return FilePath(file).read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        except OSError:
            return []

    return "".join(difflib.unified_diff(lines(old_file), lines(new_file), f"a/{path}", f"b/{new_path}"))
