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
from typing import Any

import keras
from keras.src.saving.serialization_lib import SafeModeScope  # not exported by keras.saving

from graphspec.errors import Problem, SpecError, budgeted, did_you_mean, shown
from graphspec.graph import output_names, split_ref
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


def lookup(name: str, kinds: Sequence[str], custom_objects: Mapping[str, Any]) -> Any:
    """The class called `name` among the caller's objects and Keras's public `kinds`.

    Raises:
        LookupError: with the message and hint for the user.
    """
    if name in REFUSED:
        raise LookupError(
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
    raise LookupError(f"unknown {what[:-1] if len(kinds) == 1 else 'Keras object'} type '{name}'", hint, "unknown-type")


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
    def __init__(self, custom_objects: Mapping[str, Any]) -> None:
        self.custom_objects = dict(custom_objects)
        self.collector = Collector()

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
        except LookupError as error:
            raise _NodeError(error.args[0], sub + ("type",), error.args[1], code=error.args[2]) from None
        kwargs = {k: self.value(v, k, sub + (k,)) for k, v in value.items() if k != "type"}
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

    def graph(self, graph: Graph, inputs: Sequence[Any]) -> tuple[dict[str, Any], Any]:
        """Build `graph`'s nodes on `inputs` (symbolic tensors); (every node's output, the outputs)."""
        tensors: dict[str, Any] = dict(zip(graph.input_names, inputs, strict=False))
        layers: dict[str, list[Any]] = {}
        by_name = {node.name: node for node in graph.nodes}
        for node in graph.nodes:
            try:
                arguments = self.inputs(node, tensors)
            except _Skip:
                tensors[node.name] = _FAILED
                continue
            try:
                tensors[node.name] = self.node(node, arguments, layers, by_name)
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
        if isinstance(graph.outputs, dict):
            outputs: Any = {key: self.ref(ref, tensors, graph.output_origin, (key,)) for key, ref in graph.outputs.items()}
        else:
            outputs = [self.ref(ref, tensors, graph.output_origin, (i,)) for i, ref in enumerate(graph.outputs)]
            outputs = outputs[0] if len(outputs) == 1 else outputs
        return tensors, outputs

    def ref(self, ref: str, tensors: Mapping[str, Any], origin: Origin | None, sub: tuple) -> Any:
        name, part = split_ref(ref)
        value = tensors.get(name, _FAILED)
        if value is _FAILED:
            raise _Skip()
        if part is None:
            return value
        if isinstance(value, dict):
            selected = list(value.values())[int(part)] if part.isdigit() and int(part) < len(value) else value.get(part, _FAILED)
            if selected is not _FAILED:
                return selected
            message = f"'{ref}': node '{name}' has no output '{part}' (it has {', '.join(map(str, value))})"
            if origin is not None:
                self.report(origin.problem(f"{origin.who}: {message}", sub, hint=f"use one of {', '.join(map(str, value))}", code="unknown-output"), origin)
            raise _Skip()
        if isinstance(value, (list, tuple)) and part.isdigit():
            if int(part) < len(value):
                return value[int(part)]
            message = f"'{ref}': node '{name}' has {len(value)} outputs"
        else:
            message = f"'{ref}': node '{name}' has one output"
        if origin is not None:
            self.report(origin.problem(f"{origin.who}: {message}", sub, hint=f"use an index below {len(value) if isinstance(value, (list, tuple)) else 1}", code="unknown-output"), origin)
        raise _Skip()

    def inputs(self, node: Node, tensors: Mapping[str, Any]) -> Any:
        refs = node.inputs
        if isinstance(refs, str):
            return self.ref(refs, tensors, node.origin, ("from",))
        if isinstance(refs, list):
            return [self.ref(r, tensors, node.origin, ("from", i)) for i, r in enumerate(refs)]
        return {
            key: [self.ref(r, tensors, node.origin, ("from", key, i)) for i, r in enumerate(ref)] if isinstance(ref, list) else self.ref(ref, tensors, node.origin, ("from", key))
            for key, ref in refs.items()
        }

    def node(self, node: Node, arguments: Any, layers: dict[str, list[Any]], by_name: Mapping[str, Node]) -> Any:
        owner = by_name[node.target] if node.kind == "share" else node
        if owner.kind == "block" and owner.body is not None and isinstance(node.inputs, dict) and isinstance(arguments, dict):
            missing = [name for name in owner.body.input_names if name not in arguments]
            if missing:
                raise _NodeError(f"block '{owner.target}' needs input(s) {', '.join(missing)}", ("from",), "map every block input to a ref", code="block-inputs")
            arguments = [arguments[name] for name in owner.body.input_names]  # by name -> in order
        if owner.kind == "block" and owner.name not in layers:
            result = self.first_block_call(owner, node, arguments, layers)
        else:
            result = self.call_chain(node, self.make(owner, arguments, layers), arguments)
        if owner.kind == "block" and owner.body is not None and isinstance(result, (list, tuple)):
            names = output_names(owner.body.outputs)
            if len(set(names)) == len(names) == len(result):
                return dict(zip(names, result, strict=False))  # refs reach them by name or by index
        return result

    def make(self, node: Node, arguments: Any, layers: dict[str, list[Any]]) -> list[Any]:
        """The layer objects (or block models) of a layer, merge or block node; cached for shares."""
        if node.name in layers:
            return layers[node.name]
        if node.kind == "merge":
            cls = getattr(keras.layers, MERGE_LAYERS[node.target])
            type_name = node.target
        else:
            try:
                cls = lookup(node.target, ["layers"], self.custom_objects)
            except LookupError as error:
                raise _NodeError(error.args[0], ("type",), error.args[1], code=error.args[2]) from None
            if not (inspect.isclass(cls) and issubclass(cls, keras.layers.Layer)):
                raise _NodeError(f"'{node.target}' is not a Keras layer class", ("type",), "use a class from keras.layers or a custom layer", code="unknown-type")
            type_name = node.target
        kwargs = {key: self.value(value, key, (key,)) for key, value in node.args.items()}
        self.check_arguments(cls, kwargs, (), type_name)
        chain = []
        for name in node.layer_names():
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

    def first_block_call(self, owner: Node, node: Node, arguments: Any, layers: dict[str, list[Any]]) -> Any:
        """Build a block node's model(s) on the shapes of their first inputs, calling each in turn."""
        chain: list[Any] = []
        current = arguments
        for name in owner.layer_names():
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
                raise _NodeError(
                    f"Keras cannot apply {_layer_text(node)} to {_shapes_text(node, arguments)}: {_keras_message(error)}",
                    ("from",),
                    "check the shapes of the inputs (the batch dimension is the leading None)",
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
        _, outputs = self.graph(body, inputs)
        if self.collector.count > before:
            raise _Reported()
        try:
            return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=name)
        except Exception as error:
            raise _NodeError(f"Keras cannot make a model of block '{node.target}': {_keras_message(error)}", ("block",), code="bad-model") from None


class _NodeError(Exception):
    def __init__(self, message: str, sub: tuple = (), hint: str | None = None, key: bool = False, code: str = "bad-argument") -> None:
        super().__init__(message)
        self.message, self.sub, self.hint, self.key, self.code = message, sub, hint, key, code


class _Skip(Exception):
    """An input of the node failed; its problem is reported already."""


class _Reported(_NodeError):
    def __init__(self) -> None:
        super().__init__("")


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
def compile_model(graph: Graph, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Build the keras.Model of a resolved graph; compile it if the spec says how.

    Raises:
        SpecError: every node Keras refused, at its line, with the shapes involved.
    """
    compiler = _Compiler(custom_objects or {})
    scope = keras.saving.custom_object_scope(compiler.custom_objects) if custom_objects else contextlib.nullcontext()
    # Safe mode on while building, whatever the process set with enable_unsafe_deserialization.
    with scope, SafeModeScope(True):
        inputs = []
        for spec in graph.inputs:
            try:
                inputs.append(keras.Input(shape=spec.shape, dtype=spec.dtype, name=spec.name, **spec.options))
            except Exception as error:
                compiler.report(spec.origin.problem(f"input '{spec.name}': Keras rejects it: {_keras_message(error)}", code="bad-input"))
        if compiler.problems:
            raise SpecError(compiler.problems)
        try:
            tensors, outputs = compiler.graph(graph, inputs)
        except _Skip:
            raise SpecError(compiler.problems) from None
        if compiler.problems:
            raise SpecError(compiler.problems)
        try:
            model = keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=graph.name)
        except Exception as error:
            assert graph.output_origin is not None
            compiler.report(graph.output_origin.problem(f"outputs: Keras cannot make a model of them: {_keras_message(error)}", code="bad-model"))
            raise SpecError(compiler.problems) from None
        if graph.compile:
            _compile(model, graph, compiler)
        if graph.expect:
            _check_expectations(model, tensors, graph, compiler)
        if compiler.problems:
            raise SpecError(compiler.problems)
    return model


def _compile(model: Any, graph: Graph, compiler: _Compiler) -> None:
    origin = Origin(graph.source, ("compile",)) if graph.source else None
    kwargs = {}
    for key, value in (graph.compile or {}).items():
        try:
            kwargs[key] = compiler.value(value, key, (key,))
        except _NodeError as error:
            compiler.report(origin.problem(f"compile: {error.message}", error.sub, key=error.key, hint=error.hint, code=error.code))  # type: ignore[union-attr]
    for key, getter, special in (("loss", keras.losses.get, ()), ("metrics", keras.metrics.get, _METRIC_ALIASES), ("weighted_metrics", keras.metrics.get, _METRIC_ALIASES)):
        for sub, name in _strings((graph.compile or {}).get(key), (key,)):
            if name in special:
                continue
            try:
                getter(name)  # Keras resolves these lazily, at fit time; check them now
            except Exception:
                compiler.report(origin.problem(f"compile: unknown {'loss' if key == 'loss' else 'metric'} '{name}'", sub, hint=f"use a name from keras.{'losses' if key == 'loss' else 'metrics'}", code="unknown-name"))  # type: ignore[union-attr]
    if compiler.problems:
        return
    try:
        model.compile(**kwargs)
    except Exception as error:
        compiler.report(origin.problem(f"compile: Keras rejects it: {_keras_message(error)}", code="bad-compile"))  # type: ignore[union-attr]


_METRIC_ALIASES = ("accuracy", "acc", "crossentropy", "ce")  # compile picks the kind from the loss


def _strings(value: Any, path: tuple) -> list[tuple[tuple, str]]:
    """Each string in a compile value (a name, or lists and mappings of names), with its path."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, list):
        return [item for i, v in enumerate(value) for item in _strings(v, path + (i,))]
    if isinstance(value, dict) and "type" not in value:
        return [item for k, v in value.items() for item in _strings(v, path + (k,))]
    return []


def _check_expectations(model: Any, tensors: Mapping[str, Any], graph: Graph, compiler: _Compiler) -> None:
    source = graph.source
    assert source is not None and graph.expect is not None
    for key, actual_of in (("params", model.count_params), ("trainable_params", lambda: sum(int(w.numpy().size) for w in model.trainable_weights))):
        expected = graph.expect.get(key)
        if expected is not None and expected != actual_of():
            compiler.report(
                source.problem(("expect", key), f"expect: the model has {actual_of():,} {key.replace('_', ' ')}, expected {expected:,}", hint="update 'expect' if the change is intended", code="expectation")
            )
    for name, expected in (graph.expect.get("shapes") or {}).items():
        value = tensors.get(name)
        if value is None or value is _FAILED or not hasattr(value, "shape"):
            compiler.report(source.problem(("expect", "shapes", name), f"expect: no node '{name}' with one output", hint=did_you_mean(name, tensors, "nodes"), key=True, code="expectation"))
            continue
        actual = list(value.shape)
        if list(expected) != actual:
            compiler.report(
                source.problem(("expect", "shapes", name), f"expect: node '{name}' has shape {actual}, expected {list(expected)}".replace("None", "null"), hint="update 'expect' if the change is intended", code="expectation")
            )



