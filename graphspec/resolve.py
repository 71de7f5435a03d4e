"""Spec -> a concrete tree: params substituted, blocks instantiated, `repeat` counted.

The result (`Graph` of `Node`s) holds only plain values, in build order, each with
the place in the YAML it came from, so the compile stage never looks at the spec.
A mistake inside a block is found once per instance; `resolve` reports it once per
line of the block's definition, naming the instances where it happens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graphspec import catalogue
from graphspec.errors import Problem, SpecError, budgeted, did_you_mean, shown
from graphspec.graph import (
    check_block_recursion,
    check_scope,
    keras_output_names,
    output_names,
    split_ref,
)
from graphspec.params import ParamError, Scope, substitute
from graphspec.source import Limits, Path, SourceMap
from graphspec.spec import KINDS, BlockSpec, NodeSpec, Spec, owner

Refs = str | list[str] | dict[str, str]

MERGE_LAYERS = {
    "concatenate": "Concatenate",
    "add": "Add",
    "subtract": "Subtract",
    "multiply": "Multiply",
    "average": "Average",
    "maximum": "Maximum",
    "minimum": "Minimum",
    "dot": "Dot",
}

# Layers whose arguments are code, or that load code: a spec never runs code.
REFUSED_LAYERS = {
    "Lambda": "runs a Python function",
    "TFSMLayer": "loads a TensorFlow SavedModel, which can hold arbitrary code",
    "TorchModuleWrapper": "wraps arbitrary PyTorch code",
    "JaxLayer": "wraps an arbitrary JAX function",
    "FlaxLayer": "wraps an arbitrary Flax module",
}


class _Missing:
    """The value of a required block param that was not passed (already reported)."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


@dataclass(frozen=True)
class Origin:
    """Where a resolved value was written, and through which block instances it was reached."""

    source: SourceMap
    path: Path
    instance: tuple[str, ...] = ()

    def problem(self, message: str, sub: Path = (), *, key: bool = False, **kwargs: Any) -> Problem:
        """A problem at ``path + sub``; `Collector` adds the instances it happens in."""
        return self.source.problem(self.path + sub, message, key=key, **kwargs)

    @property
    def who(self) -> str:
        """The node this origin belongs to, for messages: ``node 'h_1'``."""
        return owner(self.path)


@dataclass
class Input:
    """A top-level input, ready for ``keras.Input``."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str | None
    options: dict[str, Any]
    origin: Origin
    broken: bool = False  # it has a problem: nothing that depends on it is built


@dataclass
class Node:
    """One node with concrete arguments; `body` holds a block node's instantiated graph."""

    name: str
    kind: str
    target: str
    args: dict[str, Any]
    inputs: Refs
    repeat: int | None
    origin: Origin
    body: Graph | None = None
    broken: bool = False  # it (or its block's body) has a problem: it and what depends on it are not built

    def refs(self) -> list[str]:
        """Every ref in ``from``, in order: one ref, a list, or a mapping of refs and lists of refs."""
        return all_refs(self.inputs)

    def layer_names(self) -> list[str]:
        """The Keras names this node creates: ``name``, or ``name_1 ... name_N`` with repeat."""
        if self.repeat is None:
            return [self.name]
        return [f"{self.name}_{i}" for i in range(1, self.repeat + 1)]


def all_refs(refs: Any) -> list[str]:
    """Every ref in a ``from`` value, in order."""
    if isinstance(refs, str):
        return [refs]
    if isinstance(refs, list):
        return [r for r in refs if isinstance(r, str)]
    if isinstance(refs, dict):
        return [r for value in refs.values() for r in all_refs(value)]
    return []


@dataclass
class Graph:
    """A model (or a block instance's sub-model): inputs, nodes in build order, outputs."""

    name: str
    inputs: list[Input] = field(default_factory=list)
    input_names: list[str] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    outputs: list[str] | dict[str, str] = field(default_factory=list)
    output_origin: Origin | None = None
    compile: dict[str, Any] | None = None
    expect: dict[str, Any] | None = None
    source: SourceMap | None = None
    as_model: bool = False  # a block instance built as one nested keras.Model (`model: true`)


class Collector:
    """Problems found per block instance, merged per definition line."""

    def __init__(self) -> None:
        self.found: dict[Problem, list[tuple[str, ...]]] = defaultdict(list)
        self.count = 0

    def add(self, problem: Problem, instance: tuple[str, ...] = ()) -> None:
        self.count += 1
        self.found[problem].append(instance)

    def problems(self) -> list[Problem]:
        merged = []
        for problem, instances in self.found.items():
            named = tuple(i for i in instances if i)
            if named:
                problem = replace(problem, instances=problem.instances + named)
            merged.append(problem)
        return merged


@dataclass
class Structure:
    """The graph checks of a spec: build order of every scope, errors and warnings."""

    orders: dict[Path, list[str]] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    broken: set[Path] = field(default_factory=set)  # nodes with a graph problem: not built


@budgeted
def check_structure(spec: Spec) -> Structure:
    """Graph checks of the top level and of every block definition, each done once."""
    result = Structure()
    scopes = [(list(spec.inputs), spec.nodes, spec.outputs, ("nodes",), spec.source)]
    scopes += [(b.inputs, b.nodes, b.outputs, b.path + ("nodes",), b.source) for b in spec.blocks.values()]
    for inputs, nodes, outputs, base, source in scopes:
        scope = check_scope(inputs, nodes, outputs, base, source, spec.blocks)
        result.orders[base] = scope.order
        owner_path = base[:-1]
        if {owner_path, owner_path + ("inputs",), owner_path + ("nodes",), ("blocks",), ("imports",)} & spec.broken:
            scope.problems = [p for p in scope.problems if p.code not in ("unknown-ref", "unknown-output")]  # names set aside
        result.errors += scope.problems
        result.broken |= {base + (name,) for name in scope.broken}
        if not {owner_path, owner_path + ("outputs",)} & spec.broken:  # otherwise what the outputs use is not known
            result.warnings += scope.warnings
    result.errors += check_block_recursion(spec.blocks)
    return result


@budgeted
def resolve(
    spec: Spec,
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    structure: Structure | None = None,
    custom_types: Collection[str] = (),
) -> Graph:
    """Substitute params, instantiate blocks and count repeats (arguments as `expand`).

    Raises:
        SpecError: every problem found, blocks' ones merged per definition line.
    """
    graph, problems = expand(spec, params, limits, structure, custom_types)
    if problems:
        raise SpecError(problems)
    return graph


@budgeted
def expand(
    spec: Spec,
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    structure: Structure | None = None,
    custom_types: Collection[str] = (),
) -> tuple[Graph, list[Problem]]:
    """The concrete graph and every problem found on the way, nodes with problems marked `broken`.

    Args:
        spec: a validated spec (from `graphspec.load`, or `validate_document` with problems).
        params: overrides of the file's top-level params.
        limits: bounds on the expanded size.
        structure: the result of `check_structure`, when the caller has it already.
        custom_types: names of the caller's custom layers and objects (not in the catalogue).

    Raises:
        SpecError: only when the model is past `limits` before anything is instantiated.
    """
    collector = Collector()
    limits = limits or Limits()
    source = spec.source
    top_scope = _top_scope(spec, dict(params or {}), collector)
    structure = structure or check_structure(spec)
    for problem in structure.errors:
        collector.add(problem)
    _check_size_and_depth(spec, limits)  # before instantiating anything (blocks of blocks)
    resolver = _Resolver(spec, collector, limits, structure, custom_types)
    graph = Graph(name=spec.name or "model", source=source)
    for name, input_spec in spec.inputs.items():
        graph.inputs.append(resolver.input(name, input_spec.model_dump(exclude_none=True), top_scope))
    graph.input_names = list(spec.inputs)
    try:
        graph.nodes = resolver.nodes(spec.nodes, ("nodes",), source, top_scope, ())
    except RecursionError:  # only with max_block_depth raised past what Python's stack holds
        raise SpecError([_too_deep(source, limits)]) from None
    graph.outputs = spec.outputs
    graph.output_origin = Origin(source, ("outputs",))
    if spec.compile is not None:
        graph.compile = resolver.section(spec.compile.model_dump(exclude_none=True), Origin(source, ("compile",)), top_scope)
        check_compile(graph.compile or {}, source, collector, custom_types)
        _check_compile_outputs(graph.compile or {}, spec.outputs, source, collector)
    if spec.expect is not None:
        graph.expect = resolver.section(spec.expect.model_dump(exclude_none=True), Origin(source, ("expect",)), top_scope)
        _check_expect(graph.expect or {}, source, collector, list(spec.inputs) + list(spec.nodes))
    return graph, collector.problems()


def _block_costs(spec: Spec) -> dict[str, tuple[int, int, str | None]]:
    """For each block: (a lower bound of its expanded size, how deep blocks nest in it, the block used deepest).

    Walked with an explicit stack, not recursion, so that a chain of a thousand blocks costs
    a thousand steps and no Python frames; a block on the current path (a loop, reported by
    `check_block_recursion`) counts as empty there.
    """
    costs: dict[str, tuple[int, int, str | None]] = {}
    open_blocks: set[str] = set()
    for root in spec.blocks:
        stack = [root]
        while stack:
            name = stack[-1]
            if name in costs:
                stack.pop()
                continue
            uses = [n.block for n in spec.blocks[name].nodes.values() if n.kind == "block" and n.block in spec.blocks]
            if name not in open_blocks:
                open_blocks.add(name)
                pending = [b for b in uses if b not in costs and b not in open_blocks]
                if pending:
                    stack.extend(pending)
                    continue
            size, depth, deepest = _scope_cost(spec.blocks[name].nodes, costs)
            costs[name] = (size, depth + 1, deepest)
            open_blocks.discard(name)
            stack.pop()
    return costs


def _scope_cost(nodes: Mapping[str, NodeSpec], costs: Mapping[str, tuple[int, int, str | None]]) -> tuple[int, int, str | None]:
    """(Lower bound of the expanded size, block depth, the block used deepest) of one scope's nodes."""
    total, depth, deepest = 0, 0, None
    for node in nodes.values():
        copies = node.repeat if type(node.repeat) is int and node.repeat > 0 else 1
        inner, inner_depth = 0, 0
        if node.kind == "block" and node.block in costs:
            inner, inner_depth, _ = costs[node.block]
            if inner_depth > depth:
                depth, deepest = inner_depth, node.block
        total = min(total + copies * (1 + inner), _FAR_PAST_ANY_LIMIT)
    return total, depth, deepest


def _check_size_and_depth(spec: Spec, limits: Limits) -> None:
    """Refuse, before instantiating anything, a model past `max_nodes` or blocks nested past `max_block_depth`."""
    costs = _block_costs(spec)
    least, depth, _ = _scope_cost(spec.nodes, costs)
    source = spec.source
    if least > limits.max_nodes:
        raise SpecError(
            [
                source.problem(
                    ("nodes",),
                    f"the model expands to at least {least:,} nodes, more than the limit of {limits.max_nodes:,}",
                    key=True,
                    hint="raise graphspec.Limits(max_nodes=...) if the spec is trusted",
                    code="limit",
                )
            ]
        )
    if depth <= limits.max_block_depth:
        return
    node_name = next(n for n, node in spec.nodes.items() if node.kind == "block" and node.block in costs and costs[node.block][1] == depth)
    chain = [str(spec.nodes[node_name].block)]
    while len(chain) < 4 and costs[chain[-1]][2] is not None:
        chain.append(str(costs[chain[-1]][2]))
    shown_chain = " > ".join(chain) + (" > ..." if depth > len(chain) else "")
    raise SpecError(
        [
            source.problem(
                ("nodes", node_name, "block"),
                f"node '{node_name}': blocks nest {depth:,} deep here ({shown_chain}), more than the limit of {limits.max_block_depth}",
                hint="flatten the chain of blocks, or raise graphspec.Limits(max_block_depth=...) if the spec is trusted",
                code="limit",
            )
        ]
    )


_FAR_PAST_ANY_LIMIT = 10**13  # stop multiplying out once there


def _too_deep(source: SourceMap, limits: Limits) -> Problem:
    return source.problem(
        ("nodes",),
        f"the spec nests too deeply for Python's recursion limit (blocks in blocks, max_block_depth {limits.max_block_depth}; values in values, max_depth {limits.max_depth})",
        key=True,
        hint="flatten the nesting, or lower graphspec.Limits(max_block_depth=..., max_depth=...)",
        code="limit",
    )


def _check_expect(expect: Mapping[str, Any], source: SourceMap, collector: Collector, names: list[str]) -> None:
    """`expect` holds counts and shapes: integers, and lists of integers or null, of nodes that exist."""
    for key in ("params", "trainable_params"):
        if key in expect and not (type(expect[key]) is int and expect[key] >= 0):
            collector.add(source.problem(("expect", key), f"expect: {key} must be a whole number, found {shown(expect[key])}", hint="write e.g. 'params: 903510'", code="wrong-type"))
    for name, shape in (expect.get("shapes") or {}).items():
        if split_ref(str(name))[0] not in names:  # a node, or one output of it: lstm.1, b.skip
            collector.add(source.problem(("expect", "shapes", name), f"expect: no node or input '{name}'", key=True, hint=did_you_mean(str(name), names, "nodes"), code="expectation"))
        elif not isinstance(shape, list) or not all(d is None or type(d) is int for d in shape):
            collector.add(source.problem(("expect", "shapes", name), f"expect: the shape of '{name}' must be a list of integers or null, found {shown(shape)}", hint="write e.g. '[null, 10]'; null for the batch dimension", code="wrong-type"))


def check_compile(values: Mapping[str, Any], source: SourceMap, collector: Collector, custom_types: Collection[str] = ()) -> None:
    """What the catalogue knows `model.compile` would refuse, or would read other than written."""
    for sub, message, hint, code in catalogue.check_compile_arguments(values, custom_types):
        collector.add(source.problem(("compile",) + sub, f"compile: {message}", hint=hint, code=code))


_BY_OUTPUT = ("loss", "loss_weights", "metrics", "weighted_metrics")


def _check_compile_outputs(compile_: Mapping[str, Any], outputs: Any, source: SourceMap, collector: Collector) -> None:
    """`compile` mappings by output name name outputs the model has (Keras finds out at fit time only)."""
    names = keras_output_names(outputs)
    written = list(outputs) if isinstance(outputs, list) else []  # a list's refs as written: b.skip
    for key in _BY_OUTPUT:
        value = compile_.get(key)
        if not isinstance(value, dict) or "type" in value:
            continue
        for name in value:
            if name in names or name in written:
                continue
            shown = ", ".join(f"'{n}'" for n in names)
            collector.add(
                source.problem(
                    ("compile", key, name),
                    f"compile: {key} names output '{name}', which the model does not have; its outputs are {shown}",
                    key=True,
                    hint=(did_you_mean(str(name), names, "outputs") or "use one of those names")
                    + (" (a listed output is named by its ref with '.' written '_')" if any("." in r for r in written) else ""),
                    code="unknown-output-name",
                )
            )


def _top_scope(spec: Spec, overrides: dict[str, Any], collector: Collector) -> Scope:
    source = spec.source
    for name in overrides:
        if name not in spec.params:
            collector.add(
                source.problem(
                    ("params",),
                    f"param override '{name}' matches no param of this spec",
                    hint=did_you_mean(name, spec.params, "params") or "declare it under 'params'",
                    code="unknown-param",
                )
            )
    values: dict[str, Any] = {}
    scope = _Scope(values, lenient=("params",) in spec.broken)
    for name, raw in spec.params.items():
        try:
            values[name] = overrides[name] if name in overrides else substitute(raw, scope)
        except _FollowOn:
            values[name] = MISSING
        except ParamError as error:
            values[name] = MISSING  # reported here; its uses are not reported again
            collector.add(source.problem(("params", name) + error.path, f"param '{name}': {error.message}", hint=error.hint, code=error.code))
    return scope


class _FollowOn(ParamError):
    """A value that needs a param whose own problem is reported already: not reported again."""

    def __init__(self) -> None:
        super().__init__("follows from another problem", code="bad-param")  # never shown


@dataclass
class _Scope(Scope):
    """A `Scope` where a param with a problem (`MISSING`) stops a value without a new problem.

    `lenient`: the file's ``params`` could not be read, so unknown names follow from that.
    """

    lenient: bool = False

    def lookup(self, name: str) -> Any:
        try:
            value = super().lookup(name)
        except ParamError:
            if isinstance(_root(self), _Scope) and _root(self).lenient:  # type: ignore[attr-defined]
                raise _FollowOn() from None
            raise
        if value is MISSING:
            raise _FollowOn()
        return value


class _Resolver:
    def __init__(self, spec: Spec, collector: Collector, limits: Limits, structure: Structure, custom_types: Collection[str]) -> None:
        self.spec = spec
        self.custom_types = set(custom_types)
        self.collector = collector
        self.limits = limits
        self.orders = structure.orders
        self.graph_broken = structure.broken
        self.count = 0
        self.expanding: set[str] = set()  # blocks being instantiated, outermost first
        self.limit_reported = False
        self.follow_ons = 0  # values not substituted because of a problem reported elsewhere

    def values(self, raw: Any, origin: Origin, scope: Scope) -> Any:
        """`raw` with params substituted; problems recorded at the offending value."""
        try:
            return substitute(raw, scope)
        except _FollowOn:
            self.follow_ons += 1
            return MISSING
        except ParamError as error:
            self.collector.add(
                origin.source.problem(origin.path + error.path, f"{origin.who}: {error.message}", hint=error.hint, code=error.code),
                origin.instance,
            )
            return None

    def section(self, raw: dict[str, Any], origin: Origin, scope: Scope) -> dict[str, Any]:
        """A section's keys with params substituted, each on its own; those missing because of another problem left out."""
        done = {key: self.values(value, Origin(origin.source, origin.path + (key,)), scope) for key, value in raw.items()}
        return {key: value for key, value in done.items() if value is not MISSING}

    def input(self, name: str, raw: dict[str, Any], scope: Scope) -> Input:
        origin = Origin(self.spec.source, ("inputs", name))
        if origin.path in self.spec.broken:  # its problem is reported: check nothing more of it
            return Input(name, (), None, {}, origin, broken=True)
        before = (self.collector.count, self.follow_ons)
        values = self.values(raw, origin, scope)
        values = values if isinstance(values, dict) else {}
        shape = values.pop("shape", [])
        if shape is MISSING:
            shape = []
        elif not isinstance(shape, list) or not all(d is None or (type(d) is int and d > 0) for d in shape):
            self.collector.add(
                origin.problem(
                    f"input '{name}': shape must be a list of positive integers or null (any size), found {shown(shape)}",
                    ("shape",),
                    hint="write e.g. 'shape: [28, 28, 1]'; the batch dimension is left out",
                    code="bad-shape",
                )
            )
            shape = []
        dtype = values.pop("dtype", None)
        wrong_dtype = catalogue.check_dtype(dtype) if dtype is not None and dtype is not MISSING else None
        if wrong_dtype:
            self.collector.add(origin.problem(f"input '{name}': {wrong_dtype[0]}", ("dtype",), hint=wrong_dtype[1], code="bad-input"))
        for option in ("sparse", "ragged"):
            if option in values and values[option] is not MISSING and not isinstance(values[option], bool):
                self.collector.add(origin.problem(f"input '{name}': {option} must be true or false, found {catalogue.describe(values[option])}", (option,), hint=catalogue.bool_hint(values[option]), code="wrong-type"))
        if "batch_size" in values and values["batch_size"] is not MISSING and not (type(values["batch_size"]) is int and values["batch_size"] > 0):
            self.collector.add(origin.problem(f"input '{name}': batch_size must be a positive integer, found {catalogue.describe(values['batch_size'])}", ("batch_size",), code="wrong-type"))
        broken = (self.collector.count, self.follow_ons) != before
        return Input(name, tuple(shape), dtype, values, origin, broken=broken)

    def nodes(
        self,
        specs: Mapping[str, NodeSpec],
        base: Path,
        source: SourceMap,
        scope: Scope,
        instance: tuple[str, ...],
    ) -> list[Node]:
        resolved = []
        taken: dict[str, str] = {name: name for name in specs}
        for name in self.orders.get(base) or list(specs):  # file order when the scope has errors
            node = self.node(name, specs[name], base, source, scope, instance)
            if node is None:
                continue
            self._check_block_feed(node, specs)
            for layer_name in node.layer_names():
                if layer_name != name and layer_name in taken:
                    self.collector.add(
                        node.origin.problem(
                            f"{node.origin.who}: repeat names its copies {layer_name!r}, which is also the name of node '{taken[layer_name]}'",
                            ("repeat",),
                            key=True,
                            hint="rename one of them",
                            code="duplicate-name",
                        ),
                        instance,
                    )
                    node.broken = True
                taken[layer_name] = name
            resolved.append(node)
        return resolved

    def node(self, name: str, spec: NodeSpec, base: Path, source: SourceMap, scope: Scope, instance: tuple[str, ...]) -> Node | None:
        origin = Origin(source, base + (name,), instance)
        self.count += 1
        if self._over_limit(origin):
            return None
        if origin.path in self.spec.broken:  # its problem is reported: check nothing more of it
            return Node(name, spec.kind, spec.target, {}, spec.from_ if spec.from_ is not None else [], None, origin, broken=True)
        first = (self.collector.count, self.follow_ons)
        repeat = self.repeat(spec, origin, scope)
        if repeat is not None and spec.kind == "layer":
            self.count += repeat - 1
            if self._over_limit(origin):
                return None
        args = {}
        before = self.collector.count
        for key, raw in spec.args.items():
            args[key] = self.values(raw, Origin(source, origin.path + (key,), instance), scope)
        node = Node(name, spec.kind, spec.target, args, spec.from_, repeat, origin)
        well_formed = sum(getattr(spec, k) is not None for k in KINDS) == 1
        if spec.kind in ("layer", "merge") and well_formed and self.collector.count == before:
            self.check_layer(node)  # a value missing because of another problem is let through
        if spec.kind == "block":
            before = self.count
            node.body = self.block(node, spec, scope, instance)
            # Each copy is a new model: its nodes and itself (a block of no nodes costs one).
            self.count += (self.count - before + 1) * ((repeat or 1) - 1)
            if self._over_limit(origin):
                return None
        node.broken = (
            (self.collector.count, self.follow_ons) != first
            or (spec.kind == "block" and node.body is None)
            or origin.path in self.graph_broken
        )
        return node

    def _over_limit(self, origin: Origin) -> bool:
        """Whether the expanded model is past `Limits.max_nodes` (reported once)."""
        if self.count <= self.limits.max_nodes:
            return False
        if not self.limit_reported:
            self.limit_reported = True
            self.collector.add(
                origin.problem(
                    f"the model expands to more than {self.limits.max_nodes:,} nodes (blocks and repeats counted)",
                    hint="raise graphspec.Limits(max_nodes=...) if the spec is trusted",
                    code="limit",
                )
            )
        return True

    def check_layer(self, node: Node) -> None:
        """What the layer catalogue knows Keras would refuse: types, arguments, values, inputs."""
        origin = node.origin
        if node.kind == "merge" and node.target not in MERGE_LAYERS:
            return  # reported by the spec checks
        type_name = MERGE_LAYERS[node.target] if node.kind == "merge" else node.target
        custom = self.custom_types
        refused = [(("type",), type_name)] if node.kind == "layer" else []
        refused = [(sub, name) for sub, name in refused + list(_nested_types(node.args, ())) if name in REFUSED_LAYERS and name not in custom]
        for sub, name in refused:
            self.collector.add(
                origin.problem(
                    f"{origin.who}: '{name}' is refused: it {REFUSED_LAYERS[name]}",
                    sub,
                    hint="a spec never runs code; write a custom layer and pass it in custom_objects",
                    code="refused",
                ),
                origin.instance,
            )
        serialized = list(catalogue.serialized_objects(node.args))
        for sub, message, hint, code in map(catalogue.serialized_finding, serialized):
            self.collector.add(origin.problem(f"{origin.who}: {message}", sub, hint=hint, code=code), origin.instance)
        if refused or serialized:
            return
        if node.kind == "layer" and not catalogue.is_known_layer(type_name) and type_name not in custom and ">" not in type_name:
            close = catalogue.close_layers(type_name)
            hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else "") + "(a custom layer must be passed in custom_objects= or registered with Keras)"
            self.collector.add(origin.problem(f"{origin.who}: unknown layer type '{type_name}'", ("type",), hint=hint, code="unknown-type"), origin.instance)
            return
        for sub, message, hint, code in catalogue.check_layer_arguments(type_name, _unknowns_as_params(node.args), custom):
            self.collector.add(origin.problem(f"{origin.who}: {message}", sub, key=code == "unknown-argument", hint=hint, code=code), origin.instance)
        refs = node.inputs
        if node.kind == "layer" and isinstance(refs, list) and len(refs) > 1 and catalogue.is_known_layer(type_name) and not catalogue.takes_list(type_name):
            self.collector.add(
                origin.problem(
                    f"{origin.who}: {type_name} takes one input, but 'from' lists {len(refs)}",
                    ("from",),
                    hint=f"merge them first: add a node '{{merge: concatenate, from: [{', '.join(map(str, refs))}]}}' and use it in 'from'",
                    code="too-many-inputs",
                ),
                origin.instance,
            )

    def repeat(self, spec: NodeSpec, origin: Origin, scope: Scope) -> int | None:
        if spec.repeat is None:
            return None
        count = self.values(spec.repeat, Origin(origin.source, origin.path + ("repeat",), origin.instance), scope)
        if count is None or count is MISSING:
            return None
        if type(count) is not int or count < 1:
            self.collector.add(
                origin.problem(
                    f"{origin.who}: repeat must be a positive integer, found {catalogue.describe(count)}",
                    ("repeat",),
                    hint="write 'repeat: 3' for three copies, or remove 'repeat' for one",
                    code="repeat",
                ),
                origin.instance,
            )
            return None
        if isinstance(spec.from_, (list, dict)) and len(spec.from_) != 1:
            self.collector.add(
                origin.problem(
                    f"{origin.who}: repeat chains copies output to input, so the node takes one input, found {len(spec.from_)}",
                    ("repeat",),
                    key=True,
                    hint="merge the inputs first, e.g. {merge: concatenate, from: [...]}, and repeat the node after it",
                    code="repeat",
                ),
                origin.instance,
            )
            return None
        return count

    def block(self, node: Node, spec: NodeSpec, caller: Scope, instance: tuple[str, ...]) -> Graph | None:
        origin = node.origin
        block = self.spec.blocks.get(spec.target)
        if ("blocks", spec.target) in self.spec.broken or (block is None and {("blocks",), ("imports",)} & self.spec.broken):
            self.follow_ons += 1  # the block's own problem is reported
            return None
        if block is None:
            self.collector.add(
                origin.problem(
                    f"{origin.who}: unknown block '{spec.target}'",
                    ("block",),
                    hint=did_you_mean(spec.target, self.spec.blocks, "blocks") or "define it under 'blocks' or import a block library",
                    code="unknown-block",
                ),
                instance,
            )
            return None
        if spec.target in self.expanding:
            return None  # a recursive block: reported by check_block_recursion
        self._check_block_inputs(node, block)
        values: dict[str, Any] = {}
        inner = _Scope(values, parent=_root(caller))
        for param, default in block.params.items():
            if param in node.args:
                values[param] = node.args[param]
            elif default is None:
                values[param] = MISSING  # reported once here, not again at each use
                self.collector.add(
                    origin.problem(
                        f"{origin.who}: block '{spec.target}' needs param '{param}'",
                        hint=f"add '{param}: ...' to the node; the block gives it no default",
                        code="missing-param",
                    ),
                    instance,
                )
            else:
                values[param] = self.values(default, Origin(block.source, block.path + ("params", param), instance), inner)
        for arg in node.args:
            if arg not in block.params:
                self.collector.add(
                    origin.problem(
                        f"{origin.who}: block '{spec.target}' has no param '{arg}'",
                        (arg,),
                        key=True,
                        hint=did_you_mean(arg, block.params, "params") or f"block '{spec.target}' takes no params",
                        code="unknown-param",
                    ),
                    instance,
                )
        inner_instance = instance + (node.name,)
        body = Graph(name=node.name, input_names=list(block.inputs), outputs=block.outputs, source=block.source, as_model=block.model)
        body.output_origin = Origin(block.source, block.path + ("outputs",), inner_instance)
        self.expanding.add(spec.target)
        try:
            body.nodes = self.nodes(block.nodes, block.path + ("nodes",), block.source, inner, inner_instance)
        finally:
            self.expanding.discard(spec.target)
        return body

    def _check_block_feed(self, node: Node, specs: Mapping[str, NodeSpec]) -> None:
        """A block's inputs take one tensor each: checked for block nodes and for shares of them."""
        owner = specs.get(node.target) if node.kind == "share" else None
        if node.kind == "share" and owner is not None and owner.kind == "block" and owner.block in self.spec.blocks:
            self._check_block_inputs(node, self.spec.blocks[owner.block], owner.block)
        elif node.kind != "block" or node.target not in self.spec.blocks:
            return
        refs = node.inputs
        items = [((), refs)] if isinstance(refs, str) else list(enumerate(refs)) if isinstance(refs, list) else list(refs.items()) if isinstance(refs, dict) else []
        for key, ref in items:
            feeder = specs.get(ref) if isinstance(ref, str) else None  # a whole node: no '.k'
            if feeder is not None and feeder.kind == "share":
                feeder = specs.get(str(feeder.share))
            block = self.spec.blocks.get(str(feeder.block)) if feeder is not None and feeder.kind == "block" else None
            if block is None:
                continue
            outputs = output_names(block.outputs)
            if len(outputs) != 1:
                self.collector.add(
                    node.origin.problem(
                        f"{node.origin.who}: '{ref}' has {len(outputs)} outputs (block '{feeder.block}'), and a block input takes one tensor",
                        ("from",) + ((key,) if key != () else ()),
                        hint=f"select one output: '{ref}.{outputs[0]}'",
                        code="block-inputs",
                    ),
                    node.origin.instance,
                )

    def _check_block_inputs(self, node: Node, block: BlockSpec, block_name: str | None = None) -> None:
        origin, refs = node.origin, node.inputs
        expected = block.inputs
        block_name = block_name or node.target
        if isinstance(refs, dict):
            for key, ref in refs.items():
                if key not in expected:
                    self.collector.add(
                        origin.problem(
                            f"{origin.who}: block '{block_name}' has no input '{key}'",
                            ("from", key),
                            key=True,
                            hint=did_you_mean(str(key), expected, "inputs"),
                            code="block-inputs",
                        ),
                        origin.instance,
                    )
                elif not isinstance(ref, str):
                    self.collector.add(
                        origin.problem(
                            f"{origin.who}: block input '{key}' takes one ref, found a list",
                            ("from", key),
                            hint="a block input is one tensor: merge the refs first, or give the block more inputs",
                            code="block-inputs",
                        ),
                        origin.instance,
                    )
            missing = [name for name in expected if name not in refs]
            if missing:
                self.collector.add(
                    origin.problem(
                        f"{origin.who}: block '{block_name}' also needs input(s) " + ", ".join(f"'{m}'" for m in missing),
                        ("from",),
                        hint="map every block input to a ref",
                        code="block-inputs",
                    ),
                    origin.instance,
                )
            return
        count = len(refs) if isinstance(refs, list) else 1
        if count != len(expected):
            self.collector.add(
                origin.problem(
                    f"{origin.who}: block '{block_name}' takes {len(expected)} input(s) ({', '.join(expected)}), found {count}",
                    ("from",),
                    hint="list one ref per block input, in order, or map them by name",
                    code="block-inputs",
                ),
                origin.instance,
            )


def _nested_types(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every ``{type: X}`` inside an argument value, with the path of its ``type``."""
    if isinstance(value, dict):
        if isinstance(value.get("type"), str):
            yield (*path, "type"), value["type"]
        for key, item in value.items():
            yield from _nested_types(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nested_types(item, (*path, index))


def _unknowns_as_params(value: Any) -> Any:
    """`value` with `MISSING` written as a param, which the catalogue's checks let through."""
    if isinstance(value, dict):
        return {k: _unknowns_as_params(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unknowns_as_params(v) for v in value]
    return "$<missing>" if value is MISSING else value


def _root(scope: Scope) -> Scope:
    while scope.parent is not None:
        scope = scope.parent
    return scope
