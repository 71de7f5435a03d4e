"""The Pydantic models of the graphspec language, version 1, and their checks.

Values that may hold params (``$hidden``, ``$(2 * base)``) are kept raw here; the
resolve stage substitutes them. Pydantic checks the document's structure; the few
rules Pydantic cannot say well (exactly one kind key, the forms of ``from``) are
checked in `check_nodes` so that each gets a message that says how to fix it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from graphspec.errors import Problem, did_you_mean, shown
from graphspec.source import Limits, Path, SourceMap

if TYPE_CHECKING:  # resolve imports this module
    from graphspec.resolve import Graph, Structure

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
REF = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.([0-9]{1,9}|[A-Za-z_][A-Za-z0-9_]*))?$")
KINDS = ("type", "merge", "share", "block")
MERGES = ("concatenate", "add", "subtract", "multiply", "average", "maximum", "minimum", "dot")
TWO_INPUT_MERGES = ("subtract", "dot")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class InputSpec(_Strict):
    """An input node: ``{shape: [28, 28, 1], dtype: float32}`` (batch dimension excluded)."""

    shape: Any
    dtype: str | None = None
    batch_size: Any = None
    sparse: Any = None
    ragged: Any = None


class NodeSpec(BaseModel):
    """A layer, merge, share or block node; every other key is an argument."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: str | None = None
    merge: str | None = None
    share: str | None = None
    block: str | None = None
    from_: Any = Field(default=None, alias="from")
    repeat: Any = None

    @property
    def kind(self) -> str:
        """``layer``, ``merge``, ``share`` or ``block``."""
        for key in KINDS:
            if getattr(self, key) is not None:
                return "layer" if key == "type" else key
        return "layer"

    @property
    def target(self) -> str:
        """The layer type, merge operation, shared node or block name."""
        return next((getattr(self, k) for k in KINDS if getattr(self, k) is not None), "")

    @property
    def args(self) -> dict[str, Any]:
        """The constructor arguments (or block params), as written."""
        return dict(self.model_extra or {})

    def refs(self) -> list[tuple[str, Path]]:
        """Each ref in ``from`` with its path below the node (``("from", 1)``)."""
        value = self.from_
        if isinstance(value, str):
            return [(value, ("from",))]
        if isinstance(value, list):
            return [(v, ("from", i)) for i, v in enumerate(value) if isinstance(v, str)]
        if isinstance(value, dict):
            found = []
            for key, item in value.items():
                if isinstance(item, str):
                    found.append((item, ("from", key)))
                elif isinstance(item, list):  # e.g. an RNN's initial_state: [h, c]
                    found += [(v, ("from", key, i)) for i, v in enumerate(item) if isinstance(v, str)]
            return found
        return []


Outputs = list[str] | dict[str, str]


class BlockSpec(_Strict):
    """A reusable sub-graph with its own params.

    Each use adds the block's layers to the enclosing model (named ``instance_node``), as a
    Python function that calls layers does in hand-written Keras; with ``model: true`` each
    use is one nested keras.Model instead, a unit of its own (a siamese encoder, a generator).
    """

    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[str]
    nodes: dict[str, NodeSpec]
    outputs: Outputs
    model: bool = False
    _source: SourceMap = PrivateAttr()
    _path: Path = PrivateAttr(default=())

    def place(self, source: SourceMap, name: str) -> None:
        """Say which file defines this block, under which name."""
        self._source = source
        self._path = ("blocks", name)

    @property
    def source(self) -> SourceMap:
        """The source map of the file this block was defined in."""
        return self._source

    @property
    def path(self) -> Path:
        """Where this block sits in its file: ``("blocks", name)``."""
        return self._path


class CompileSpec(_Strict):
    """Arguments of ``model.compile``; objects may be written as ``{type: ...}`` mappings."""

    optimizer: Any = None
    loss: Any = None
    metrics: Any = None
    loss_weights: Any = None
    weighted_metrics: Any = None
    run_eagerly: Any = None  # true or false, checked once params are substituted
    steps_per_execution: Any = None
    jit_compile: Any = None
    auto_scale_loss: Any = None


class ExpectSpec(_Strict):
    """Facts about the built model, checked by `build`: parameter count, shapes."""

    params: Any = None
    trainable_params: Any = None
    shapes: dict[str, list[Any]] = Field(default_factory=dict)


@dataclass(frozen=True)
class Checks:
    """What checking a spec decided and found, kept with it so that `build` does not redo it.

    Attributes:
        params: the param overrides it was checked with (`build` uses them).
        limits: the resource bounds it was checked under.
        custom_types: the custom type names it was checked with.
        structure: the graph checks (build order of every scope).
        graph: the expanded graph (params substituted, blocks instantiated).
        warnings: unused nodes and inputs, in file order.
    """

    params: Mapping[str, Any]
    limits: Limits
    custom_types: frozenset[str]
    structure: Structure
    graph: Graph
    warnings: tuple[Problem, ...] = ()


class Spec(_Strict):
    """A whole graphspec file, validated, with params not yet substituted.

    Obtain one with `graphspec.load` or `graphspec.loads`; pass it to `graphspec.build`.
    """

    graphspec: Literal[1] = 1
    name: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    imports: list[str] = Field(default_factory=list)
    inputs: dict[str, InputSpec]
    nodes: dict[str, NodeSpec]
    outputs: Outputs
    blocks: dict[str, BlockSpec] = Field(default_factory=dict)
    compile: CompileSpec | None = None
    expect: ExpectSpec | None = None
    search: dict[str, Any] = Field(default_factory=dict)  # checked by graphspec.search
    _source: SourceMap = PrivateAttr()
    _broken: frozenset[Path] = PrivateAttr(default=frozenset())
    _checks: Checks | None = PrivateAttr(default=None)

    @classmethod
    def from_document(cls, data: dict[str, Any], source: SourceMap, broken: frozenset[Path] = frozenset()) -> Spec:
        """Validate plain data; `broken`: the places whose problems are reported already."""
        spec = cls.model_validate(data)
        spec._place(source, broken)
        return spec

    def _place(self, source: SourceMap, broken: frozenset[Path]) -> None:
        self._source = source
        self._broken = broken
        for name, block in self.blocks.items():
            block.place(source, name)

    def record(self, checks: Checks) -> None:
        """Keep what checking found (`load` does this), for `build`."""
        self._checks = checks

    @property
    def source(self) -> SourceMap:
        """The source map of the file: where each value came from."""
        return self._source

    @property
    def broken(self) -> frozenset[Path]:
        """Inputs, nodes and sections with a problem reported by validation; later stages skip them."""
        return self._broken

    @property
    def checks(self) -> Checks | None:
        """What `load` found and decided (params, limits, the expanded graph); None before."""
        return self._checks

    @property
    def overrides(self) -> dict[str, Any]:
        """The param overrides the spec was loaded with; `build` uses them."""
        return dict(self._checks.params) if self._checks else {}

    @property
    def warnings(self) -> list[Problem]:
        """Warnings found while loading (unused nodes and inputs), in file order."""
        return list(self._checks.warnings) if self._checks else []


def validate_document(data: dict[str, Any], source: SourceMap) -> tuple[Spec | None, list[Problem]]:
    """Plain data -> `Spec` and every problem of the document, each located in the YAML.

    A part of the wrong shape (``outputs: 3``, a node written as a list) is reported, set
    aside and marked broken, and the other parts are checked as usual; the later stages
    skip what is broken, so that nothing is reported twice or as a consequence of it.
    None only when the document cannot be read as a spec at all.
    """
    problems = _check_names(data, source)
    broken: set[Path] = set()
    reported: set[Path] = set()
    attempt: Any = data
    for _ in range(_MAX_REPAIRS):
        try:
            spec = Spec.from_document(attempt, source, frozenset(broken))
            break
        except ValidationError as error:
            locations = []
            items = [(_strip_union_branches(tuple(p for p in item["loc"] if p != "[key]"), attempt), item) for item in error.errors()]
            deeper = {loc[:i] for loc, _ in items for i in range(len(loc))}
            for loc, item in items:
                if loc in deeper:
                    continue  # a union's other branch ('outputs' not a mapping), when its items say more
                if loc not in reported:
                    reported.add(loc)
                    problems.append(_translate(item, attempt, source))
                locations.append((item["type"], loc))
            attempt = _repair(attempt, locations, broken)
    else:  # pragma: no cover - each pass repairs every location it is told of
        return None, problems
    for base, nodes in [(("nodes",), spec.nodes)] + [(("blocks", name, "nodes"), b.nodes) for name, b in spec.blocks.items()]:
        problems += check_nodes(nodes, base, source, broken)
    if broken - spec.broken:
        spec = Spec.from_document(attempt, source, frozenset(broken))
    return spec, problems


_MAX_REPAIRS = 8
_EMPTY: dict[str, Any] = {"inputs": {}, "nodes": {}, "outputs": [], "params": {}, "imports": [], "blocks": {}}
_EMPTY_BLOCK: dict[str, Any] = {"params": {}, "inputs": [], "nodes": {}, "outputs": []}


def _repair(data: Any, locations: list[tuple[str, Path]], broken: set[Path]) -> Any:
    """A copy of `data` in which each location Pydantic refused is left out or emptied.

    What is left out is added to `broken`: an input or node (its dependents are not built),
    a section (``("outputs",)``: unused nodes are not reported), a block.
    """
    data = _copy(data)
    for kind, loc in locations:
        if not loc:
            continue
        head = loc[0]
        if head == "blocks" and len(loc) >= 4 and loc[2] == "nodes":
            owner_path, rest = loc[:4], loc[4:]
        elif (head == "blocks" and len(loc) >= 2) or (head in ("inputs", "nodes") and len(loc) >= 2):
            owner_path, rest = loc[:2], loc[2:]
        else:
            owner_path, rest = loc[:1], loc[1:]
        if kind == "extra_forbidden" and owner_path == loc[:1] and rest == ():
            _delete(data, loc)  # an unknown top-level key: nothing depends on it
            continue
        broken.add(owner_path)
        if (owner_path[0] in ("inputs", "nodes") and len(owner_path) == 2) or len(owner_path) == 4:
            if not rest or not isinstance(_get(data, owner_path), dict):
                _put(data, owner_path, {"shape": []} if head == "inputs" else {})
            elif rest[0] == "shape":
                _put(data, owner_path + ("shape",), [])
            else:
                _delete(data, owner_path + rest[:1])
        elif head == "blocks" and len(owner_path) == 2:
            block = _get(data, owner_path)
            if not isinstance(block, dict) or not rest:
                _delete(data, owner_path)
            elif kind == "extra_forbidden" or rest[0] not in _EMPTY_BLOCK:
                _delete(data, owner_path + rest[:1])
            else:
                _put(data, owner_path + rest[:1], _copy(_EMPTY_BLOCK[str(rest[0])]))
        elif head == "inputs" and isinstance(_get(data, ("inputs",)), list):
            data["inputs"] = {name: {"shape": []} for name in data["inputs"] if isinstance(name, str)}
            broken.update(("inputs", name) for name in data["inputs"])
        elif head in _EMPTY:
            data[head] = _copy(_EMPTY[str(head)])  # outputs, imports: the whole list, so that places stay right
        elif head in ("compile", "expect") and rest:
            _delete(data, loc[:2])  # one bad key
        else:
            _delete(data, (head,))  # name, graphspec, compile, expect: their defaults
    return data


def _copy(data: Any) -> Any:
    """A copy of the mappings and lists of `data` (leaves shared)."""
    if isinstance(data, dict):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_copy(v) for v in data]
    return data


def _put(data: Any, path: Path, value: Any) -> None:
    parent = _get(data, path[:-1])
    if isinstance(parent, dict) or (isinstance(parent, list) and isinstance(path[-1], int) and path[-1] < len(parent)):
        parent[path[-1]] = value


def _delete(data: Any, path: Path) -> None:
    parent = _get(data, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def owner(path: Path) -> str:
    """Names what a path belongs to, for messages: ``node 'h_1'``, ``block 'res', node 'a'``."""
    if len(path) >= 4 and path[0] == "blocks" and path[2] == "nodes":
        return f"block '{path[1]}', node '{path[3]}'"
    if len(path) >= 2 and path[0] in ("nodes", "inputs", "blocks", "params"):
        return f"{ {'nodes': 'node', 'inputs': 'input', 'blocks': 'block', 'params': 'param'}[path[0]]} '{path[1]}'"
    if path:
        return f"'{path[0]}'"
    return "the spec"


_FIELDS: dict[str, tuple[str, ...]] = {
    "": tuple(Spec.model_fields),
    "inputs": tuple(InputSpec.model_fields),
    "blocks": tuple(BlockSpec.model_fields),
    "compile": tuple(CompileSpec.model_fields),
    "expect": tuple(ExpectSpec.model_fields),
}


def _section(path: Path) -> str:
    if not path:
        return ""
    if path[0] in ("inputs", "blocks") and len(path) == 2:
        return str(path[0])
    if path[0] in ("compile", "expect") and len(path) == 1:
        return str(path[0])
    return "?"


def _translate(error: Any, data: Any, source: SourceMap) -> Problem:
    """One Pydantic error -> a located Problem with a message a user can act on."""
    loc: Path = tuple(p for p in error["loc"] if p not in ("[key]",))
    loc = _strip_union_branches(loc, data)
    kind = error["type"]
    where = owner(loc)
    if kind == "extra_forbidden":
        parent, key = loc[:-1], str(loc[-1])
        section = _section(parent)
        allowed = _FIELDS.get(section, ())
        what = "top-level key" if not parent else "key"
        hint = did_you_mean(key, allowed, "keys") if allowed else None
        owner_text = "" if not parent else f"{owner(parent)}: "
        return source.problem(loc, f"{owner_text}unknown {what} '{key}'", key=True, hint=hint, code="unknown-key")
    if kind == "missing":
        parent, key = loc[:-1], str(loc[-1])
        owner_text = "the spec" if not parent else owner(parent)
        return source.problem(
            parent, f"{owner_text} has no '{key}'", hint=f"add '{key}:'", code="missing-key"
        )
    if kind == "literal_error" and loc == ("graphspec",):
        return source.problem(
            loc, f"unsupported language version {_describe(_get(data, loc))}; this graphspec reads version 1", hint="write 'graphspec: 1'", code="version"
        )
    found = _describe(_get(data, loc))
    field_text = _field_text(loc).removesuffix(": ")
    subject = f"{where}: {field_text}" if field_text else where
    if loc and loc[0] not in ("nodes", "inputs", "blocks", "params"):
        subject = f"'{loc[0]}{'' if field_text.startswith('[') or not field_text else '.'}{field_text}'"  # 'outputs[0]', 'expect.shapes'
    return source.problem(loc, f"{subject} must be {_expected(loc, kind)}, found {found}", hint=_EXPECTED_HINTS.get(_shape_of(loc)), code="wrong-type")


def _shape_of(loc: Path) -> tuple[str, ...]:
    """`loc` with names replaced by ``*`` and indexes by ``#``: ``("nodes", "*", "type")``."""
    shape: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int):
            shape.append("#")
        elif (i >= 1 and loc[i - 1] in ("inputs", "nodes", "blocks", "params", "shapes") and not (i == 1 and loc[0] == "expect")) or (i >= 1 and loc[i - 1] == "outputs" and i == len(loc) - 1):
            shape.append("*")
        else:
            shape.append(str(part))
    return tuple(shape)


# What each place of the language holds, in the spec's words (never Pydantic's or a class name).
_EXPECTED: dict[tuple[str, ...], str] = {
    ("name",): "a string",
    ("params",): "a mapping of param names to values, e.g. {hidden: 64}",
    ("imports",): "a list of file paths",
    ("imports", "#"): "a file path",
    ("inputs",): "a mapping of input names to inputs, e.g. {x: {shape: [784]}}",
    ("inputs", "*"): "a mapping such as {shape: [784]}",
    ("inputs", "*", "dtype"): "a dtype name such as float32",
    ("nodes",): "a mapping of node names to nodes",
    ("nodes", "*"): "a mapping such as {type: Dense, units: 10, from: x}",
    ("outputs",): "a list of refs or a mapping of output names to refs, e.g. [y]",
    ("outputs", "#"): "a ref (a node or input name)",
    ("outputs", "*"): "a ref (a node or input name)",
    ("blocks",): "a mapping of block names to blocks",
    ("blocks", "*"): "a mapping with inputs, nodes and outputs",
    ("blocks", "*", "params"): "a mapping of param names to defaults",
    ("blocks", "*", "inputs"): "a list of input names",
    ("blocks", "*", "inputs", "#"): "an input name",
    ("blocks", "*", "nodes"): "a mapping of node names to nodes",
    ("blocks", "*", "nodes", "*"): "a mapping such as {type: Dense, units: 10, from: x}",
    ("blocks", "*", "outputs"): "a list of refs or a mapping of output names to refs",
    ("blocks", "*", "outputs", "#"): "a ref (a node name)",
    ("blocks", "*", "outputs", "*"): "a ref (a node name)",
    ("compile",): "a mapping of model.compile arguments",
    ("expect",): "a mapping with params, trainable_params or shapes",
    ("expect", "shapes"): "a mapping of node names to shapes",
    ("expect", "shapes", "*"): "a list of integers or null",
}
_EXPECTED_HINTS: dict[tuple[str, ...], str] = {
    ("inputs", "*", "dtype"): "write e.g. 'dtype: float32'",
    ("nodes", "*"): "write the node as a mapping of keys, not as a list",
    ("blocks", "*", "nodes", "*"): "write the node as a mapping of keys, not as a list",
    ("outputs",): "write e.g. 'outputs: [y]'",
}
_BY_ERROR = {"string_type": "a string", "dict_type": "a mapping", "list_type": "a list", "bool_type": "true or false", "int_type": "an integer"}


def _expected(loc: Path, kind: str) -> str:
    shape = _shape_of(loc)
    if (len(shape) == 3 and shape[0] == "nodes" and shape[2] in KINDS) or (len(shape) == 5 and shape[2] == "nodes" and shape[4] in KINDS):
        return "a name"
    return _EXPECTED.get(shape) or _BY_ERROR.get(kind) or "another kind of value"


def _field_text(loc: Path) -> str:
    rest = loc[2:] if len(loc) >= 2 and loc[0] in ("nodes", "inputs", "blocks", "params") else loc[1:]
    if len(loc) >= 4 and loc[0] == "blocks" and loc[2] == "nodes":
        rest = loc[4:]
    return ("".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest).lstrip(".") + ": ") if rest else ""


def _strip_union_branches(loc: Path, data: Any) -> Path:
    """Pydantic adds union branches (``list[str]``) to locations; keep the document's keys."""
    out: list[Any] = []
    cursor = data
    for part in loc:
        if (isinstance(cursor, dict) and part in cursor) or (isinstance(cursor, list) and isinstance(part, int) and part < len(cursor)):
            cursor = cursor[part]
        elif isinstance(part, str) and (part in _BRANCHES or "[" in part):
            continue
        else:
            cursor = None
        out.append(part)
    return tuple(out)


_BRANCHES = {"str", "int", "float", "bool", "list", "dict", "function-after", "function-before"}


def _get(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return shown(value)


def _check_names(data: dict[str, Any], source: SourceMap) -> list[Problem]:
    """Names of inputs, nodes, blocks, params, outputs: identifiers; inputs and nodes distinct."""
    problems = []
    name = data.get("name")
    if isinstance(name, str) and not name.isprintable():
        problems.append(
            source.problem(
                ("name",),
                "the model's name holds control characters (escape sequences, newlines, tabs)",
                hint="name the model with printable text; Keras prints the name in summaries",
                code="bad-name",
            )
        )
    sections: list[Path] = [("inputs",), ("nodes",), ("blocks",), ("params",)]
    outputs = data.get("outputs")
    if isinstance(outputs, dict):
        sections.append(("outputs",))
    blocks = data.get("blocks")
    if isinstance(blocks, dict):
        for block_name, block in blocks.items():
            if isinstance(block, dict):
                sections += [("blocks", block_name, "nodes"), ("blocks", block_name, "params"), ("blocks", block_name, "inputs")]
                if isinstance(block.get("outputs"), dict):
                    sections.append(("blocks", block_name, "outputs"))
    for section in sections:
        table = _get(data, section)
        listed = section[-1] == "inputs" and isinstance(table, list)  # a block's inputs: a list of names
        if listed:
            table = {name: index for index, name in enumerate(table) if isinstance(name, str)}
        if not isinstance(table, dict):
            continue
        for name in table:
            if not NAME.match(str(name)):
                what = {"inputs": "input", "nodes": "node", "blocks": "block", "params": "param", "outputs": "output"}[str(section[-1])]
                problems.append(
                    source.problem(
                        section + ((table[name],) if listed else (name,)),
                        f"'{name}' is not a valid {what} name",
                        key=True,
                        hint="names are letters, digits and '_', not starting with a digit",
                        code="bad-name",
                    )
                )
    for section, example in (("inputs", "inputs: {x: {shape: [784]}}"), ("outputs", "outputs: [y]")):
        if section in data and data[section] in ({}, [], None):
            problems.append(source.problem((section,), f"'{section}' is empty", hint=f"a model needs at least one, e.g. '{example}'", code="missing-key"))
    if isinstance(blocks, dict):
        for block_name, block in blocks.items():
            for section in ("inputs", "outputs"):
                if isinstance(block, dict) and block.get(section) in ({}, [], None) and section in block:
                    problems.append(source.problem(("blocks", block_name, section), f"block '{block_name}': '{section}' is empty", hint="a block needs at least one", code="missing-key"))
    inputs, nodes = data.get("inputs"), data.get("nodes")
    if isinstance(inputs, dict) and isinstance(nodes, dict):
        for name in inputs.keys() & nodes.keys():
            problems.append(
                source.problem(
                    ("nodes", name),
                    f"node '{name}' has the same name as an input",
                    key=True,
                    hint="rename the node or the input",
                    code="duplicate-name",
                )
            )
    return problems


def check_nodes(nodes: dict[str, NodeSpec], base: Path, source: SourceMap, broken: set[Path] | None = None) -> list[Problem]:
    """The per-node rules: one kind key, valid merge, `from` forms, share takes no arguments.

    `broken`: nodes whose problems are reported already (skipped); the nodes found wrong here are added.
    """
    problems: list[Problem] = []
    broken = broken if broken is not None else set()
    for name, node in nodes.items():
        path = base + (name,)
        if path in broken:
            continue
        found = _check_node(node, path, source)
        if any(problem.severity == "error" for problem in found):
            broken.add(path)
        problems += found
    return problems


def _check_node(node: NodeSpec, path: Path, source: SourceMap) -> list[Problem]:
    problems: list[Problem] = []
    who = owner(path)
    kinds = [k for k in KINDS if getattr(node, k) is not None]
    if not kinds:
        problems.append(
            source.problem(
                path,
                f"{who} has none of 'type', 'merge', 'share', 'block'",
                hint="add one, e.g. 'type: Dense' for a layer or 'merge: concatenate'",
                code="node-kind",
            )
        )
        return problems
    if len(kinds) > 1:
        problems.append(
            source.problem(
                path + (kinds[1],),
                f"{who} has both '{kinds[0]}' and '{kinds[1]}'",
                key=True,
                hint="a node is exactly one of a layer (type), merge, share or block; split it in two nodes",
                code="node-kind",
            )
        )
        return problems
    problems += _check_from(node, path, source)
    if "name" in node.args and node.kind in ("layer", "merge"):
        problems.append(
            source.problem(
                path + ("name",),
                f"{who}: 'name' is not an argument; the node's name is the layer's name",
                key=True,
                hint="remove 'name' or rename the node",
                code="unknown-argument",
            )
        )
    if node.kind == "merge":
        problems += _check_merge(node, path, source)
    if node.kind == "share" and node.args:
        extra = next(iter(node.args))
        problems.append(
            source.problem(
                path + (extra,),
                f"{who}: a share node takes no arguments, found '{extra}'",
                key=True,
                hint=f"the arguments are those of node '{node.share}'; remove '{extra}'",
                code="share-arguments",
            )
        )
    if node.repeat is not None and node.kind in ("merge", "share"):
        problems.append(
            source.problem(
                path + ("repeat",),
                f"{who}: 'repeat' applies to layer and block nodes, not to a {node.kind}",
                key=True,
                hint="remove 'repeat'",
                code="repeat",
            )
        )
    return problems


def _check_from(node: NodeSpec, path: Path, source: SourceMap) -> list[Problem]:
    who = owner(path)
    value = node.from_
    if value is None:
        nested = _nested_from(node.args, ())
        hint = "say which inputs or nodes feed it, e.g. 'from: x'"
        if nested is not None:
            mark = source.locate(path + nested, key=True)
            hint = f"the 'from' at line {mark.line} is indented into '{nested[0]}'; indent it as a key of the node, level with 'type'"
        return [source.problem(path, f"{who} has no 'from'", hint=hint, code="missing-key")]
    if isinstance(value, list) and not value:
        return [source.problem(path + ("from",), f"{who}: 'from' is an empty list", hint="list at least one ref", code="bad-ref")]
    if isinstance(value, dict) and not value:
        return [source.problem(path + ("from",), f"{who}: 'from' is an empty mapping", hint="map argument names to refs", code="bad-ref")]
    if not isinstance(value, (str, list, dict)):
        return [
            source.problem(
                path + ("from",),
                f"{who}: 'from' must be a ref, a list of refs or a mapping of refs, found {_describe(value)}",
                code="bad-ref",
            )
        ]
    if isinstance(value, str):
        items: list[tuple[Any, Path]] = [(value, ("from",))]
    elif isinstance(value, list):
        items = [(v, ("from", i)) for i, v in enumerate(value)]
    else:
        items = []
        for key, item in value.items():
            if isinstance(item, list) and item:
                items += [(v, ("from", key, i)) for i, v in enumerate(item)]
            else:
                items.append((item, ("from", key)))
    problems = []
    for ref, sub in items:
        if not isinstance(ref, str) or not REF.match(ref):
            problems.append(
                source.problem(
                    path + sub,
                    f"{who}: {_describe(ref)} is not a ref",
                    hint="a ref is a node or input name, or 'name.k' for one output of a node",
                    code="bad-ref",
                )
            )
    return problems


def _nested_from(value: Any, path: Path) -> Path | None:
    """The path of a 'from' key inside the node's argument mappings (a mis-indented 'from')."""
    if isinstance(value, dict):
        if path and "from" in value:
            return (*path, "from")
        for key, item in value.items():
            found = _nested_from(item, (*path, key))
            if found:
                return found
    return None


def _check_merge(node: NodeSpec, path: Path, source: SourceMap) -> list[Problem]:
    who = owner(path)
    if node.merge not in MERGES:
        return [
            source.problem(
                path + ("merge",),
                f"{who}: unknown merge '{node.merge}'",
                hint=did_you_mean(str(node.merge), MERGES, "merges"),
                code="unknown-merge",
            )
        ]
    count = len(node.from_) if isinstance(node.from_, list) else 1
    if isinstance(node.from_, dict):
        return [source.problem(path + ("from",), f"{who}: a merge takes a list of refs in 'from', not a mapping", code="merge-inputs")]
    if node.merge in TWO_INPUT_MERGES and count != 2:
        return [
            source.problem(
                path + ("from",),
                f"{who}: '{node.merge}' takes exactly two inputs, found {count}",
                hint="list two refs in 'from'",
                code="merge-inputs",
            )
        ]
    if count < 2:
        return [
            source.problem(
                path + ("from",),
                f"{who}: a merge needs at least two inputs, found {count}",
                hint="list two or more refs: 'from: [a, b]'; to pass one tensor on, use a layer node",
                code="merge-inputs",
            )
        ]
    return []
