"""Resolved graph -> keras.Model. The only module that imports Keras.

Names are looked up in Keras's public namespaces and in the caller's
``custom_objects``, never imported: a spec cannot reach code the caller did not
offer. Every exception Keras raises while constructing or calling a layer becomes a
problem at the node's line, and the build goes on with the nodes that do not depend
on it, so one `SpecError` reports them all.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import keras
from keras.src.saving.serialization_lib import SafeModeScope  # not exported by keras.saving

from graphspec import catalogue
from graphspec.backend import deep_recursion
from graphspec.errors import Problem, SpecError, budgeted, did_you_mean, shown
from graphspec.graph import keras_output_names, output_names, split_ref
from graphspec.resolve import MERGE_LAYERS, Collector, Graph, Node, Origin
from graphspec.resolve import REFUSED_LAYERS as REFUSED

_NAMESPACES: dict[str, Any] = {
    "layers": keras.layers,
    "initializers": keras.initializers,
    "regularizers": keras.regularizers,
    "constraints": keras.constraints,
    "optimizers": keras.optimizers,
    "losses": keras.losses,
    "metrics": keras.metrics,
}

_FAILED = object()  # the output of a node that could not be built
_KERAS_CONFIG_KEYS = {"class_name", "config", "module", "registered_name"}


def namespaces_for(argument: str) -> list[str]:
    """Where a ``{type: ...}`` value of `argument` is looked up, most likely first."""
    if argument.endswith("initializer"):
        return ["initializers"]
    if argument.endswith("regularizer"):
        return ["regularizers"]
    if argument.endswith("constraint"):
        return ["constraints"]
    if argument in ("optimizer", "loss", "metrics", "weighted_metrics"):
        return {"optimizer": ["optimizers"], "loss": ["losses"]}.get(argument, ["metrics"])
    return ["layers", "initializers", "regularizers", "constraints"]


class TypeLookupError(LookupError):
    """A type name that names no class a spec may use: what to tell the user, as fields."""

    def __init__(self, message: str, hint: str | None, code: str) -> None:
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code


def lookup(name: str, kinds: Sequence[str], custom_objects: Mapping[str, Any]) -> Any:
    """The class called `name` among the caller's objects and Keras's public `kinds`.

    Raises:
        TypeLookupError: with the message, hint and code for the user.
    """
    if name in REFUSED:
        raise TypeLookupError(
            f"'{name}' is refused: it {REFUSED[name]}",
            "a spec never runs code; write a custom layer and pass it in custom_objects",
            "refused",
        )
    if name in custom_objects:
        return custom_objects[name]
    if name.isidentifier() and not name.startswith("_"):
        for kind in kinds:
            found = getattr(_NAMESPACES[kind], name, None)
            if inspect.isclass(found):
                return found
    registered = keras.saving.get_custom_objects()
    if name in registered:
        return registered[name]
    by_class = [obj for key, obj in registered.items() if key.split(">")[-1] == name]
    if len(by_class) == 1:
        return by_class[0]
    known = [n for kind in kinds for n in dir(_NAMESPACES[kind]) if n[:1].isupper()] + list(custom_objects)
    what = " or ".join(kinds)
    hint = did_you_mean(name, known, what)
    if kinds == ["layers"]:
        hint = (hint + " " if hint else "") + "(a custom layer must be passed in custom_objects= or registered with Keras)"
    raise TypeLookupError(f"unknown {what[:-1] if len(kinds) == 1 else 'Keras object'} type '{name}'", hint, "unknown-type")


def custom_type_names(custom_objects: Mapping[str, Any]) -> set[str]:
    """The type names a spec may use beyond the catalogue: the caller's objects and Keras's registered ones."""
    registered = keras.saving.get_custom_objects()
    return set(custom_objects) | set(registered) | {key.split(">")[-1] for key in registered}


@functools.cache
def constructor_arguments(cls: type) -> set[str] | None:
    """The keyword arguments a class's constructor takes, following ``**kwargs`` up the MRO.

    None when it cannot be told (a constructor that takes ``**kwargs`` outside Keras).
    """
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        try:
            parameters = inspect.signature(klass.__init__).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"}
        if not any(p.kind is p.VAR_KEYWORD for p in parameters):
            return names
        if klass.__name__ in ("Layer", "Operation", "Initializer", "Regularizer", "Constraint", "Optimizer", "Loss", "Metric"):
            return names
    return None if cls.__module__.split(".")[0] != "keras" else names


class _Compiler:
    def __init__(self, custom_objects: Mapping[str, Any], record: dict[tuple[str, ...], Any] | None = None) -> None:
        self.custom_objects = dict(custom_objects)
        self.collector = Collector()
        self.record = record  # every node's output by instance path, when asked for
        self.path: tuple[str, ...] = ()  # the block instance being built

    @property
    def problems(self) -> list[Problem]:
        """Problems so far, those inside blocks merged per definition line."""
        return self.collector.problems()

    def report(self, problem: Problem, origin: Origin | None = None) -> None:
        self.collector.add(problem, origin.instance if origin else ())

    # -- values -------------------------------------------------------------------

    def value(self, value: Any, argument: str, sub: tuple = ()) -> Any:
        """A YAML value as Keras takes it: ``{type: ...}`` mappings become objects."""
        if isinstance(value, list):
            return [self.value(v, argument, sub + (i,)) for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if "type" not in value and _KERAS_CONFIG_KEYS & value.keys():
            # Keras's own serialized form would reach its deserializer (and, with unsafe
            # deserialization enabled in the process, code); a spec says {type: ...}.
            raise _NodeError(
                "a mapping with 'class_name', 'module' or 'config' (Keras's serialized form) is not accepted",
                sub,
                "write the object as {type: ClassName, argument: value}",
                code="refused",
            )
        if "type" not in value:
            # A mapping by output name keeps its compile key's namespace (loss, metrics).
            keep = argument in ("loss", "metrics", "weighted_metrics", "loss_weights")
            return {k: self.value(v, argument if keep else k, sub + (k,)) for k, v in value.items()}
        type_name = value["type"]
        if not isinstance(type_name, str):
            raise _NodeError(f"'type' must name a Keras class, found {shown(type_name)}", sub + ("type",), code="wrong-type")
        try:
            cls = lookup(type_name, namespaces_for(argument), self.custom_objects)
        except TypeLookupError as error:
            raise _NodeError(error.message, sub + ("type",), error.hint, code=error.code) from None
        kwargs = {k: self.value(v, k, sub + (k,)) for k, v in value.items() if k != "type"}
        if not _checked_at_load(cls, type_name, namespaces_for(argument)):
            self.check_arguments(cls, kwargs, sub, type_name)
        try:
            return cls(**kwargs)
        except Exception as error:
            raise _NodeError(f"Keras rejects {type_name}({_kwargs_text(kwargs)}): {_keras_message(error)}", sub, code="bad-argument") from None

    def check_arguments(self, cls: type, kwargs: Mapping[str, Any], sub: tuple, type_name: str) -> None:
        allowed = constructor_arguments(cls)
        if allowed is None:
            return
        for key in kwargs:
            if key not in allowed:
                raise _NodeError(
                    f"{type_name} has no argument '{key}'",
                    sub + (key,),
                    did_you_mean(key, sorted(allowed - {"name"}), "arguments"),
                    key=True,
                    code="unknown-argument",
                )

    # -- graph --------------------------------------------------------------------

    def graph(self, graph: Graph, inputs: Sequence[Any], scope: _Scope | None = None, wanted: set[int] | None = None) -> tuple[dict[str, Any], Any]:
        """Build `graph`'s nodes on `inputs` (symbolic tensors); (every node's output, the outputs).

        `scope` is the model the layers join: a new one (the top level, a nested block model)
        by default; a flat block instance passes its enclosing model's, with its name prefix,
        and the indices of the outputs its caller uses (`wanted`): nodes that reach none of
        them are not created, and the other outputs are None.
        """
        scope = scope if scope is not None else _Scope()
        tensors: dict[str, Any] = dict(zip(graph.input_names, inputs, strict=False))
        layers = scope.layers
        by_name = {node.name: node for node in graph.nodes}
        parts = block_output_names(graph)
        needed, uses = demand(graph, wanted)
        for node in graph.nodes:
            if node.broken:  # its problem is reported: it and what depends on it are not built
                tensors[node.name] = _FAILED
                continue
            if needed is not None and node.name not in needed:
                continue  # reaches no wanted output: as in hand-written Keras, no layer for it
            try:
                arguments = self.inputs(node, tensors, parts)
            except _Skip:
                tensors[node.name] = _FAILED
                continue
            try:
                tensors[node.name] = self.node(node, arguments, layers, by_name, scope, uses.get(node.name))
            except _Reported:
                tensors[node.name] = _FAILED
            except _NodeError as error:
                self.report(
                    node.origin.problem(f"{node.origin.who}: {error.message}", error.sub, key=error.key, hint=error.hint, code=error.code),
                    node.origin,
                )
                tensors[node.name] = _FAILED
            except Exception as error:  # the one guard: whatever Keras raises on a node (block path included) is a problem at it
                self.report(_unexpected(node, error), node.origin)
                tensors[node.name] = _FAILED
        if self.record is not None:
            for name, value in tensors.items():
                self.record.setdefault(self.path + (name,), value)
        if isinstance(graph.outputs, dict):
            outputs: Any = {
                key: self.ref(ref, tensors, graph.output_origin, (key,), parts) if wanted is None or i in wanted else None
                for i, (key, ref) in enumerate(graph.outputs.items())
            }
        else:
            outputs = [self.ref(ref, tensors, graph.output_origin, (i,), parts) if wanted is None or i in wanted else None for i, ref in enumerate(graph.outputs)]
            outputs = outputs[0] if len(outputs) == 1 else outputs
        return tensors, outputs

    def ref(self, ref: str, tensors: Mapping[str, Any], origin: Origin | None, sub: tuple, parts: Mapping[str, list[str]] | None = None) -> Any:
        """The tensor `ref` names; `parts` gives block nodes' output names (`b.out`, `b.0` of a one-output block)."""
        name, part = split_ref(ref)
        value = tensors.get(name, _FAILED)
        if value is _FAILED:
            raise _Skip()
        if part is None:
            return value
        names = (parts or {}).get(name)
        if names is not None and len(names) == 1 and part in ("0", names[0]) and not isinstance(value, (dict, list, tuple)):
            return value  # the one output of a block node, by index or by name
        if isinstance(value, dict):
            if part.isdigit() and int(part) < len(value):
                return list(value.values())[int(part)]
            if part in value:
                return value[part]
            message = f"'{ref}': node '{name}' has no output '{part}'"
        elif isinstance(value, (list, tuple)) and part.isdigit():
            if int(part) < len(value):
                return value[int(part)]
            message = f"'{ref}': node '{name}' has {len(value)} outputs"
        else:
            message = f"'{ref}': node '{name}' has one output"
        if origin is not None:
            self.report(origin.problem(f"{origin.who}: {message}", sub, hint=f"use an index below {len(value) if isinstance(value, (list, tuple, dict)) else 1}", code="unknown-output"), origin)
        raise _Skip()

    def inputs(self, node: Node, tensors: Mapping[str, Any], parts: Mapping[str, list[str]] | None = None) -> Any:
        refs = node.inputs
        if isinstance(refs, str):
            return self.ref(refs, tensors, node.origin, ("from",), parts)
        if isinstance(refs, list):
            return [self.ref(r, tensors, node.origin, ("from", i), parts) for i, r in enumerate(refs)]
        return {
            key: [self.ref(r, tensors, node.origin, ("from", key, i), parts) for i, r in enumerate(ref)] if isinstance(ref, list) else self.ref(ref, tensors, node.origin, ("from", key), parts)
            for key, ref in refs.items()
        }

    def node(self, node: Node, arguments: Any, layers: dict[str, list[Any]], by_name: Mapping[str, Node], scope: _Scope | None = None, wanted: set[int] | None = None) -> Any:
        scope = scope if scope is not None else _Scope(layers)
        owner = by_name[node.target] if node.kind == "share" else node
        if owner.broken:
            raise _Reported()  # the shared node's problem is reported
        if owner.kind == "block" and owner.body is not None and isinstance(node.inputs, dict) and isinstance(arguments, dict):
            missing = [name for name in owner.body.input_names if name not in arguments]
            if missing:
                raise _NodeError(f"block '{owner.target}' needs input(s) {', '.join(missing)}", ("from",), "map every block input to a ref", code="block-inputs")
            arguments = [arguments[name] for name in owner.body.input_names]  # by name -> in order
        if owner.kind == "block" and owner.body is not None and not owner.body.as_model:
            result = self.flat_block_call(owner, arguments, scope, wanted)
        elif owner.kind == "block" and owner.name not in layers:
            result = self.first_block_call(owner, node, arguments, layers, scope)
        else:
            result = self.call_chain(node, self.make(owner, arguments, layers, scope), arguments)
        if owner.kind == "block" and isinstance(result, dict) and len(result) == 1:
            return next(iter(result.values()))  # a block with one output: the node's output is that tensor
        if owner.kind == "block" and owner.body is not None and isinstance(result, (list, tuple)):
            names = output_names(owner.body.outputs)
            if len(set(names)) == len(names) == len(result):
                return dict(zip(names, result, strict=False))  # refs reach them by name or by index
        return result

    def make(self, node: Node, arguments: Any, layers: dict[str, list[Any]], scope: _Scope | None = None) -> list[Any]:
        """The layer objects (or block models) of a layer, merge or block node; cached for shares."""
        if node.name in layers:
            return layers[node.name]
        if node.kind == "merge":
            cls = getattr(keras.layers, MERGE_LAYERS[node.target])
            type_name = node.target
        else:
            try:
                cls = lookup(node.target, ["layers"], self.custom_objects)
            except TypeLookupError as error:
                raise _NodeError(error.message, ("type",), error.hint, code=error.code) from None
            if not (inspect.isclass(cls) and issubclass(cls, keras.layers.Layer)):
                raise _NodeError(f"'{node.target}' is not a Keras layer class", ("type",), "use a class from keras.layers or a custom layer", code="unknown-type")
            type_name = node.target
        kwargs = {key: self.value(value, key, (key,)) for key, value in node.args.items()}
        if not _checked_at_load(cls, MERGE_LAYERS.get(type_name, type_name) if node.kind == "merge" else type_name, ["layers"]):
            self.check_arguments(cls, kwargs, (), type_name)
        chain = []
        for name in self.claim(node, scope):
            try:
                chain.append(cls(**kwargs, name=name))
            except Exception as error:
                message = _keras_message(error)
                culprit = next((k for k in kwargs if f"`{k}`" in message or f"{k}=" in message), None)
                raise _NodeError(
                    f"Keras rejects the arguments of {type_name}: {message}",
                    (culprit,) if culprit else (("type",) if node.kind == "layer" else ("merge",)),
                    "check the arguments against the Keras documentation of " + type_name,
                    code="bad-argument",
                ) from None
        layers[node.name] = chain
        return chain

    def claim(self, node: Node, scope: _Scope | None) -> list[str]:
        """The Keras names of `node`'s layers (or nested models) in `scope`'s model, reserved for it.

        Raises:
            _NodeError: a name already taken in that model (a flat block instance's
                ``instance_node`` that is also another layer's name).
        """
        if scope is None:
            return node.layer_names()
        names = [scope.prefix + name for name in node.layer_names()]
        holder = node.origin.who + "".join(f" of block node '{i}'" for i in reversed(node.origin.instance))
        for name in names:
            taken = scope.taken.setdefault(name, holder)
            if taken != holder:
                raise _NodeError(
                    f"its layer would be named '{name}', which is already the name of {taken} in the same model",
                    (),
                    "rename one of them: a block's layers are named <block node>_<node of the block>",
                    key=True,
                    code="duplicate-name",
                )
        return names

    def flat_block_call(self, owner: Node, arguments: Any, scope: _Scope, wanted: set[int] | None = None) -> Any:
        """Call a block node's layers in the enclosing model, each copy of a repeat in turn.

        The first call creates them, named ``<instance>_<node>`` (`_Scope.inner`); a share of
        the node calls the same layers again, so it reuses their weights.
        """
        instances = scope.layers.get(owner.name)
        if instances is None:
            instances = scope.layers[owner.name] = [scope.inner(name) for name in owner.layer_names()]
        current = arguments
        for copy, inner in enumerate(instances, start=1):
            current = self.flat_instance(owner, current, inner, wanted if copy == len(instances) else None)
        return current

    def flat_instance(self, owner: Node, arguments: Any, inner: _Scope, wanted: set[int] | None = None) -> Any:
        """One flat block instance: the block's graph built on the caller's tensors, its outputs returned."""
        body = owner.body
        assert body is not None
        before = self.collector.count
        outer, self.path = self.path, self.path + (owner.name,)  # recorded as block_node/node, as nested ones
        try:
            _, outputs = self.graph(body, arguments if isinstance(arguments, list) else [arguments], inner, wanted)
        except _Skip:
            raise _Reported() from None
        finally:
            self.path = outer
        if self.collector.count > before:
            raise _Reported()
        return outputs

    def first_block_call(self, owner: Node, node: Node, arguments: Any, layers: dict[str, list[Any]], scope: _Scope | None = None) -> Any:
        """Build a block node's model(s) on the shapes of their first inputs, calling each in turn."""
        chain: list[Any] = []
        current = arguments
        for name in self.claim(owner, scope):
            model = self.block_model(owner, name, current)
            chain.append(model)
            current = self.call_chain(node, [model], current)
        layers[owner.name] = chain
        return current

    def call_chain(self, node: Node, chain: Sequence[Any], arguments: Any) -> Any:
        current = arguments
        for layer in chain:
            try:
                if isinstance(current, dict):
                    current = layer(**current)
                elif isinstance(current, list) and len(current) == 1:
                    current = layer(current[0])
                else:
                    current = layer(current)
            except _NodeError:
                raise
            except Exception as error:
                if isinstance(error, IndexError) and (node.target == "dot" if node.kind == "merge" else node.target == "Dot"):
                    raise _NodeError(
                        f"'axes' {node.args.get('axes')!r} is past the rank of the inputs ({_shapes_text(node, arguments)}): "
                        "an axis counts from 1 (0 is the batch dimension) up to the rank less one",
                        ("axes",) if "axes" in node.args else ("merge",),
                        f"with inputs of rank {_rank(arguments)}, use an axis from 1 to {_rank(arguments) - 1}, or -1 for the last",
                        code="shape",
                    ) from None
                hint = "check the shapes of the inputs (the batch dimension is the leading None)"
                if isinstance(arguments, dict) and isinstance(node.inputs, str):
                    # A whole multi-output node: its outputs went in as keyword arguments.
                    hint = f"'{node.inputs}' has several outputs ({', '.join(map(str, arguments))}); select one, e.g. '{node.inputs}.{next(iter(arguments))}'"
                raise _NodeError(
                    f"Keras cannot apply {_layer_text(node)} to {_shapes_text(node, arguments)}: {_keras_message(error)}",
                    ("from",),
                    hint,
                    code="shape",
                ) from None
        return current

    def block_model(self, node: Node, name: str, arguments: Any) -> Any:
        """One block instance as a keras.Model named `name`, built on the shapes of `arguments`."""
        body = node.body
        assert body is not None
        tensors = arguments if isinstance(arguments, list) else [arguments]
        if len(tensors) != len(body.input_names):
            raise _NodeError(f"block '{node.target}' takes {len(body.input_names)} input(s), found {len(tensors)}", ("from",), "list one ref per block input", code="block-inputs")
        for input_name, tensor in zip(body.input_names, tensors, strict=True):
            if not isinstance(tensor, keras.KerasTensor):
                count = len(tensor) if isinstance(tensor, (list, tuple, dict)) else "no"
                raise _NodeError(
                    f"block input '{input_name}' takes one tensor, and is given {count} tensors",
                    ("from",),
                    "select one output of a multi-output node: 'name.0' or 'name.output_name'",
                    code="block-inputs",
                )
        inputs = [keras.Input(shape=t.shape[1:], dtype=t.dtype, name=n) for n, t in zip(body.input_names, tensors, strict=True)]
        before = self.collector.count
        outer, self.path = self.path, self.path + (node.name,)
        try:
            _, outputs = self.graph(body, inputs)
        except _Skip:
            raise _Reported() from None
        finally:
            self.path = outer
        if self.collector.count > before:
            raise _Reported()
        try:
            return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=name)
        except Exception as error:
            raise _NodeError(f"Keras cannot make a model of block '{node.target}': {_keras_message(error)}", ("block",), code="bad-model") from None


@dataclass
class _Scope:
    """The Keras model a graph's nodes are built into, as seen from one graph.

    The top level and each nested block model (``model: true``) are models of their own; a
    flat block instance builds into its caller's model, its layers named with `prefix`.
    """

    layers: dict[str, Any] = field(default_factory=dict)  # node name -> its layers, nested models or flat instances
    prefix: str = ""  # "" at a model's top; "conv2_block1_" inside flat instance conv2_block1
    taken: dict[str, str] = field(default_factory=dict)  # Keras layer name in this model -> what made it

    def inner(self, instance: str) -> _Scope:
        """The scope of flat block instance `instance` built in this one."""
        return _Scope({}, f"{self.prefix}{instance}_", self.taken)


def layer_count(graph: Graph) -> int:
    """How many layer calls `graph` makes, blocks and repeats expanded: a bound on its depth."""
    by_name = {node.name: node for node in graph.nodes}
    count = len(graph.inputs)
    for node in graph.nodes:
        owner = by_name.get(node.target, node) if node.kind == "share" else node
        copies = owner.repeat or 1
        count += copies * (layer_count(owner.body) if owner.kind == "block" and owner.body is not None else 1)
    return count


def demand(graph: Graph, wanted: set[int] | None) -> tuple[set[str] | None, dict[str, set[int] | None]]:
    """What building `graph` for its outputs `wanted` (None: all, and every node) needs.

    Returns the nodes that reach a wanted output (None: all of them) and, for each block
    node (or share of one) they refer to, the indices of its outputs they use (None: all),
    so that a flat block instance creates only the layers its used outputs need.
    """
    parts = block_output_names(graph)
    uses: dict[str, set[int] | None] = {}

    def use(ref: str) -> str:
        name, part = split_ref(ref)
        names = parts.get(name)
        if names is not None:
            if part is None:
                chosen: set[int] | None = None  # a plain ref: every output
            elif part.isdigit():
                chosen = {int(part)}
            else:
                chosen = {i for i, n in enumerate(names) if n == part}
            before = uses.get(name, set())
            uses[name] = None if chosen is None or before is None else before | chosen
        return name

    outputs = list(graph.outputs.values()) if isinstance(graph.outputs, dict) else list(graph.outputs)
    if wanted is None:
        for node in graph.nodes:
            for ref in node.refs():
                use(ref)
        for ref in outputs:
            use(ref)
        return None, uses
    by_name = {node.name: node for node in graph.nodes}
    needed: set[str] = set()
    stack = [use(ref) for i, ref in enumerate(outputs) if i in wanted]
    while stack:
        name = stack.pop()
        if name in needed or name not in by_name:
            continue
        needed.add(name)
        stack += [use(ref) for ref in by_name[name].refs()]
    return needed, uses


def block_output_names(graph: Graph) -> dict[str, list[str]]:
    """Output names of each block node (or share of one) in `graph`, for refs such as ``b.out``."""
    by_name = {node.name: node for node in graph.nodes}
    names = {}
    for node in graph.nodes:
        owner = by_name.get(node.target) if node.kind == "share" else node
        if owner is not None and owner.kind == "block" and owner.body is not None:
            names[node.name] = output_names(owner.body.outputs)
    return names


def _checked_at_load(cls: type, type_name: str, kinds: Sequence[str]) -> bool:
    """Whether `cls` is the Keras class the catalogue describes, so load checked its arguments."""
    for kind in kinds:
        info = catalogue.class_info(kind, type_name)
        if info is not None and not info.get("open") and getattr(_NAMESPACES[kind], type_name, None) is cls:
            return True
    return False


class _NodeError(Exception):
    def __init__(self, message: str, sub: tuple = (), hint: str | None = None, key: bool = False, *, code: str) -> None:
        super().__init__(message)
        self.message, self.sub, self.hint, self.key, self.code = message, sub, hint, key, code


class _Skip(Exception):
    """An input of the node failed; its problem is reported already."""


class _Reported(_NodeError):
    def __init__(self) -> None:
        super().__init__("", code="bad-argument")  # never shown


def _unexpected(node: Node, error: Exception) -> Problem:
    """A problem at `node` for an exception no check foresaw (Keras's own, or too deep a model)."""
    if isinstance(error, RecursionError):
        return node.origin.problem(
            f"{node.origin.who}: the model nests too deeply for Python's recursion limit",
            hint="flatten the chain of blocks, or lower graphspec.Limits(max_block_depth=...)",
            code="limit",
        )
    return node.origin.problem(
        f"{node.origin.who}: Keras cannot build it: {type(error).__name__}: {_keras_message(error)}",
        hint="check the node's arguments and inputs; if they look right, please report this",
        code="bad-model",
    )


def _keras_message(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = " ".join(lines[:3]) if lines else type(error).__name__
    return text if len(text) < 400 else text[:397] + "..."


def _kwargs_text(kwargs: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={shown(v)}" for k, v in kwargs.items())


def _rank(arguments: Any) -> int:
    """The smallest rank among the input tensors (batch dimension counted)."""
    tensors = arguments if isinstance(arguments, list) else [arguments]
    return min((len(t.shape) for t in tensors if hasattr(t, "shape")), default=0)


def _layer_text(node: Node) -> str:
    return node.target if node.kind != "share" else f"the layer of node '{node.target}'"


def _shapes_text(node: Node, arguments: Any) -> str:
    def shape(t: Any) -> str:
        return str(tuple(getattr(t, "shape", ()))) if hasattr(t, "shape") else "?"

    refs = node.inputs
    if isinstance(arguments, dict):
        return ", ".join(f"{k}={shape(v)}" for k, v in arguments.items())
    if isinstance(arguments, list):
        names = refs if isinstance(refs, list) else [str(refs)] * len(arguments)
        return ", ".join(f"{n} {shape(t)}" for n, t in zip(names, arguments, strict=False))
    return f"{refs} {shape(arguments)}"


@budgeted
def compile_model(
    graph: Graph,
    custom_objects: Mapping[str, Any] | None = None,
    *,
    problems: Sequence[Problem] = (),
    tensors: dict[tuple[str, ...], Any] | None = None,
) -> Any:
    """Build the keras.Model of an expanded graph; compile it if the spec says how.

    Args:
        graph: from `graphspec.resolve.expand`; nodes marked broken are not built.
        custom_objects: the caller's custom layers and objects by type name.
        problems: those found before this stage; every node that does not depend on a
            broken one is still built, so that one `SpecError` reports them all.
        tensors: when given, filled with every node's (and input's) output by instance
            path: ``("x",)``, ``("enc", "conv")`` for node ``conv`` of block node ``enc``.

    Raises:
        SpecError: the earlier `problems` and every node Keras refused, at its line, with
            the shapes involved.
    """
    compiler = _Compiler(custom_objects or {}, tensors)
    scope = keras.saving.custom_object_scope(compiler.custom_objects) if custom_objects else contextlib.nullcontext()

    def failed() -> SpecError:
        return SpecError(list(problems) + compiler.problems)

    # Safe mode on while building, whatever the process set with enable_unsafe_deserialization.
    # Keras's graph walk is recursive: room for a graph of any depth, for this build only.
    with scope, SafeModeScope(True), deep_recursion(layer_count(graph)):
        inputs = []
        for spec in graph.inputs:
            if spec.broken:
                inputs.append(_FAILED)
                continue
            try:
                inputs.append(keras.Input(shape=spec.shape, dtype=spec.dtype, name=spec.name, **spec.options))
            except Exception as error:
                compiler.report(spec.origin.problem(f"input '{spec.name}': Keras rejects it: {_keras_message(error)}", code="bad-input"))
                inputs.append(_FAILED)
        top = _Scope(taken={spec.name: f"input '{spec.name}'" for spec in graph.inputs})
        try:
            built, outputs = compiler.graph(graph, inputs, top)
        except _Skip:
            outputs = _FAILED
        if graph.compile:
            kwargs = _compile_arguments(graph, compiler)  # checked even when nodes failed
        if problems or compiler.problems or outputs is _FAILED:
            raise failed()
        if isinstance(graph.outputs, list) and len(graph.outputs) > 1:
            outputs = _named_outputs(outputs, keras_output_names(graph.outputs), top)
        try:
            model = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=graph.name)
        except Exception as error:
            assert graph.output_origin is not None
            compiler.report(graph.output_origin.problem(f"outputs: Keras cannot make a model of them: {_keras_message(error)}", code="bad-model"))
            raise failed() from None
        if graph.compile and not compiler.problems:
            _compile(model, graph, compiler, kwargs)
        if graph.expect:
            _check_expectations(model, built, graph, compiler)
        if compiler.problems:
            raise failed()
    return model


def _named_outputs(outputs: Sequence[Any], names: Sequence[str], scope: _Scope) -> list[Any]:
    """Each output under the Keras name its ref gives (``b.skip`` -> ``b_skip``), unique.

    Keras names a list output after the layer that makes it: two outputs of one block (or
    layer) would share a name, and compile's loss mapping could not tell them apart. An
    output whose layer has another name goes through an Identity layer of the wanted name.
    """
    named = []
    for tensor, name in zip(outputs, names, strict=False):
        if tensor._keras_history.operation.name == name:
            named.append(tensor)
            continue
        unique, n = name, 1
        while unique in scope.taken:
            unique, n = f"{name}_output{'' if n == 1 else n}", n + 1
        scope.taken[unique] = f"output '{name}'"
        named.append(keras.layers.Identity(name=unique)(tensor))
    return named


def _compile_arguments(graph: Graph, compiler: _Compiler) -> dict[str, Any]:
    """The compile section as `model.compile` takes it: ``{type: ...}`` mappings made objects."""
    origin = Origin(graph.source, ("compile",)) if graph.source else None
    kwargs = {}
    for key, value in (graph.compile or {}).items():
        try:
            kwargs[key] = compiler.value(value, key, (key,))
        except _NodeError as error:
            compiler.report(origin.problem(f"compile: {error.message}", error.sub, key=error.key, hint=error.hint, code=error.code))  # type: ignore[union-attr]
    return kwargs


def _compile(model: Any, graph: Graph, compiler: _Compiler, kwargs: dict[str, Any]) -> None:
    origin = Origin(graph.source, ("compile",)) if graph.source else None
    try:
        model.compile(**_by_keras_output_name(graph, kwargs, list(model.output_names)))
    except Exception as error:
        compiler.report(origin.problem(f"compile: Keras rejects it: {_keras_message(error)}", code="bad-compile"))  # type: ignore[union-attr]


def _by_keras_output_name(graph: Graph, kwargs: dict[str, Any], keras_names: list[str]) -> dict[str, Any]:
    """`model.compile`'s arguments with mappings keyed by a listed output (``b.skip`` or ``b_skip``) keyed by its Keras name."""
    compile_ = dict(kwargs)
    if not isinstance(graph.outputs, list) or len(keras_names) != len(graph.outputs):
        return compile_
    renamed = dict(zip(graph.outputs, keras_names, strict=False))
    renamed.update(zip(keras_output_names(graph.outputs), keras_names, strict=False))
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        value = compile_.get(key)
        if isinstance(value, dict) and "type" not in value:
            compile_[key] = {renamed.get(name, name): item for name, item in value.items()}
    return compile_


def _check_expectations(model: Any, tensors: Mapping[str, Any], graph: Graph, compiler: _Compiler) -> None:
    source = graph.source
    assert source is not None and graph.expect is not None
    for key, actual_of in (("params", model.count_params), ("trainable_params", lambda: sum(int(w.numpy().size) for w in model.trainable_weights))):
        expected = graph.expect.get(key)
        if expected is not None and expected != actual_of():
            compiler.report(
                source.problem(("expect", key), f"expect: the model has {actual_of():,} {key.replace('_', ' ')}, expected {expected:,}", hint="update 'expect' if the change is intended", code="expectation")
            )
    parts = block_output_names(graph)
    for name, expected in (graph.expect.get("shapes") or {}).items():
        try:
            value = compiler.ref(name, tensors, None, (), parts)
        except _Skip:
            value = None
        if value is None or not hasattr(value, "shape"):
            what = "with one output" if split_ref(name)[1] is None else "output"
            choices = [f"{n}.{p}" for n in parts for p in parts[n]] + list(tensors)
            hint = f"a multi-output node takes a ref to one output: '{name}.0'" if name in tensors else did_you_mean(name, choices, "refs")
            compiler.report(source.problem(("expect", "shapes", name), f"expect: no node {what} '{name}'", hint=hint, key=True, code="expectation"))
            continue
        actual = list(value.shape)
        if list(expected) != actual:
            compiler.report(
                source.problem(("expect", "shapes", name), f"expect: node '{name}' has shape {actual}, expected {list(expected)}".replace("None", "null"), hint="update 'expect' if the change is intended", code="expectation")
            )



