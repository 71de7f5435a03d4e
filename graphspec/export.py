"""keras.Model -> graphspec YAML: the reverse of `graphspec.build`.

`dumps(model)` writes a spec that builds the same model: the same layers with the same
arguments, the same connections, the same weight order, so that
``build(loads(dumps(m))).set_weights(m.get_weights())`` gives a model that computes
what `m` computes. Only arguments that differ from their defaults are written.

What a spec cannot say is refused with `ExportError`, never written approximately: a
`Lambda` (code), a layer class that is neither public Keras nor registered (nor passed
in ``custom_objects``), a ``keras.ops`` operation applied outside any layer (except the
element-wise ones a merge node computes exactly), a layer called with non-tensor call
arguments (``training=False``), a subclassed model.

Importing this module does not import Keras; `dumps` does.
"""

from __future__ import annotations

import heapq
import importlib
import inspect
import json
import math
import os
import re
import sys
from collections.abc import Mapping
from typing import Any, Union

from graphspec.backend import import_keras
from graphspec.files import write_atomic
from graphspec.source import _plain_scalar

__all__ = ["ExportError", "dump", "dumps", "load_model_source"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
# PyYAML (YAML 1.1) reads these as booleans; quoted, so that every YAML reader agrees.
_YAML11_WORDS = {"yes", "no", "on", "off"}

#: merge layer class -> the merge node that builds it
_MERGES = {
    "Concatenate": "concatenate",
    "Add": "add",
    "Subtract": "subtract",
    "Multiply": "multiply",
    "Average": "average",
    "Maximum": "maximum",
    "Minimum": "minimum",
    "Dot": "dot",
}
#: keras.ops operations (applied to tensors outside any layer) that a merge computes exactly
_OP_MERGES = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply", "Maximum": "maximum", "Minimum": "minimum"}


class ExportError(ValueError):
    """The model holds something a spec cannot express; the message names the layer and why."""


PathLike = Union[str, "os.PathLike[str]"]


def dumps(model: Any, *, custom_objects: Mapping[str, Any] | None = None, schema: str | None = None) -> str:
    """The graphspec YAML of a Keras functional or Sequential model.

    Args:
        model: a functional ``keras.Model`` or a built ``keras.Sequential``.
        custom_objects: classes outside Keras that the spec may name, by the name it
            uses (pass the same mapping to `graphspec.build`). Classes registered with
            ``keras.saving.register_keras_serializable`` need not be listed: they are
            written by their registered name (``package>Name``).
        schema: if given, a ``# yaml-language-server: $schema=...`` first line.

    Raises:
        ExportError: what the model holds that a spec cannot express, naming the layer.

    Example:
        >>> text = graphspec.dumps(model)  # doctest: +SKIP
        >>> graphspec.build(graphspec.loads(text)).count_params() == model.count_params()  # doctest: +SKIP
        True
    """
    keras = import_keras()

    # Default instances are made under the float32 policy, so that a layer's dtype is
    # written whenever it is not float32, whatever policy is global while exporting.
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        document = _Exporter(custom_objects or {}).model(model)
    finally:
        keras.config.set_dtype_policy(policy)
    return _Writer().document(document, schema)


def dump(model: Any, path: PathLike, **kwargs: Any) -> None:
    """Write `dumps(model)` to `path` (atomically: a complete file or none)."""
    write_atomic(path, dumps(model, **kwargs))


def load_model_source(source: str) -> Any:
    """A model from the command line: a ``.keras`` file, or ``module:attribute``.

    ``module:attribute`` names a model, or a function that returns one (called without
    arguments); ``module`` is imported, from the current directory too (it is the user's
    own code, named on the command line). ``.keras`` files load with ``safe_mode=True``.

    Raises:
        ExportError: the source cannot be found or does not give a model.
    """
    keras = import_keras()

    if source.endswith(".keras") or os.path.isfile(source):
        if not os.path.isfile(source):
            raise ExportError(f"{source}: no such file")
        try:
            return keras.saving.load_model(source, safe_mode=True, compile=False)
        except Exception as error:
            raise ExportError(f"{source}: Keras cannot load it: {_first_lines(error)}") from None
    module_name, sep, attribute = source.partition(":")
    if not sep or not module_name or not attribute:
        raise ExportError(f"'{source}' is neither a .keras file nor 'module:attribute'")
    added = os.getcwd() not in sys.path and "" not in sys.path
    if added:  # `python -m graphspec` has the current directory on sys.path; the script may not
        sys.path.insert(0, os.getcwd())
    try:
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise ExportError(f"cannot import module '{module_name}': {error}") from None
        value: Any = module
        for part in attribute.split("."):
            if not hasattr(value, part):
                raise ExportError(f"module '{module_name}' has no attribute '{attribute}'")
            value = getattr(value, part)
        if not isinstance(value, keras.Model) and callable(value):
            try:
                value = value()
            except Exception as error:
                raise ExportError(f"'{source}' failed: {type(error).__name__}: {_first_lines(error)}") from None
    finally:
        if added:
            sys.path.remove(os.getcwd())
    if not isinstance(value, keras.Model):
        raise ExportError(f"'{source}' is not a keras.Model (nor a function returning one): found {type(value).__name__}")
    return value


# --------------------------------------------------------------------------- the model


class _Names:
    """Valid, unique names in one scope."""

    def __init__(self) -> None:
        self.taken: set[str] = set()

    def add(self, wanted: str) -> str:
        name = re.sub(r"[^A-Za-z0-9_]", "_", wanted or "")
        if not name or not _NAME.match(name):
            name = "_" + name
        candidate, k = name, 2
        while candidate in self.taken:
            candidate, k = f"{name}_{k}", k + 1
        self.taken.add(candidate)
        return candidate


class _Exporter:
    def __init__(self, custom_objects: Mapping[str, Any]) -> None:
        keras = import_keras()

        from graphspec import compiler

        self.keras = keras
        self.compiler = compiler
        self.custom = dict(custom_objects)
        self.blocks: dict[str, dict[str, Any]] = {}
        self.block_names = _Names()
        self.block_of: dict[int, str] = {}  # id(nested model) -> block name
        self.owner: dict[int, tuple[int, str]] = {}  # id(layer) -> the model whose graph calls it
        self.defaults: dict[tuple[type, str], dict[str, Any] | None] = {}

    # -- scopes ---------------------------------------------------------------------

    def model(self, model: Any) -> dict[str, Any]:
        function = self.function_of(model, "the model")
        scope = self.scope(function, model.name, top=True)
        document: dict[str, Any] = {"graphspec": 1, "name": model.name}
        document["inputs"] = scope["inputs"]
        if self.blocks:
            document["blocks"] = self.blocks
        document["nodes"] = scope["nodes"]
        document["outputs"] = scope["outputs"]
        return document

    def function_of(self, model: Any, what: str) -> Any:
        keras = self.keras
        if isinstance(model, keras.Sequential):
            function = getattr(model, "_functional", None)
            if function is None:
                raise ExportError(
                    f"{what} '{model.name}' is a Sequential model that is not built; "
                    "give it an input (keras.Input(shape=...) as its first layer) or call it on data first"
                )
            return function
        from keras.src.models.functional import Functional

        if isinstance(model, Functional):
            return model
        if isinstance(model, keras.Model):
            raise ExportError(
                f"{what} '{model.name}' is a subclassed model ({type(model).__qualname__}): its call() is Python code, "
                "which a spec cannot hold; only functional and Sequential models can be exported"
            )
        raise ExportError(f"{what} is a {type(model).__name__}, not a keras.Model")

    def scope(self, function: Any, owner: str, top: bool) -> dict[str, Any]:
        """One model's graph: inputs, nodes in topological order, outputs."""
        names = _Names()
        input_names: dict[int, str] = {}
        inputs: dict[str, Any] = {}
        struct = function._inputs_struct
        wanted = {id(t): str(k) for k, t in struct.items()} if isinstance(struct, dict) else {}
        for tensor in function.inputs:
            op = tensor._keras_history.operation
            name = names.add(wanted.get(id(tensor)) or (op.name if op is not None else "input"))
            input_names[id(tensor)] = name
            if top:
                inputs[name] = self.input_definition(tensor, op, name)
        nodes = self.ordered_nodes(function, set(input_names))
        node_names: dict[int, str] = {}  # id(keras Node) -> spec node name
        first_call: dict[int, str] = {}  # id(layer) -> the node that creates it
        for node in nodes:  # layer names first, so that they keep their names
            op = node.operation
            if id(op) not in first_call:
                first_call[id(op)] = node_names[id(node)] = names.add(op.name)
        calls: dict[int, int] = {}
        for node in nodes:
            op = node.operation
            calls[id(op)] = calls.get(id(op), 0) + 1
            if id(node) not in node_names:
                node_names[id(node)] = names.add(f"{first_call[id(op)]}_{calls[id(op)]}")

        def ref(tensor: Any) -> str:
            if id(tensor) in input_names:
                return input_names[id(tensor)]
            op, node_index, tensor_index = tensor._keras_history
            node = op._inbound_nodes[node_index]
            name = node_names.get(id(node))
            if name is None:
                raise ExportError(f"in '{owner}', a tensor from '{op.name}' comes from outside the model's graph")
            if len(node.outputs) == 1:
                return name
            keys = self.output_keys(op)
            return f"{name}.{keys[tensor_index] if keys else tensor_index}"

        spec_nodes: dict[str, Any] = {}
        for node in nodes:
            op = node.operation
            name = node_names[id(node)]
            previous, previous_name = self.owner.setdefault(id(op), (id(function), owner))
            if previous != id(function):
                raise ExportError(
                    f"layer '{op.name}' is called both in '{previous_name}' and in '{owner}'; "
                    "a spec shares a layer within one model (or block) only"
                )
            spec_nodes[name] = self.node(node, name, first_call[id(op)], ref)
        outputs = self.outputs(function._outputs_struct, ref, owner, sort=not top)
        result: dict[str, Any] = {"nodes": spec_nodes, "outputs": outputs}
        result["inputs"] = inputs if top else [input_names[id(t)] for t in function.inputs]
        return result

    def ordered_nodes(self, function: Any, input_ids: set[int]) -> list[Any]:
        """The graph's call nodes, topologically, in the model's own order.

        Only nodes that the outputs need through data count: the operations that
        compute masks Keras propagates by itself (an Embedding's ``mask_zero``) are
        left out, as the rebuilt model computes them again.
        """
        from keras.src.layers.core.input_layer import InputLayer

        everything = [n for depth in function._nodes_by_depth.values() for n in depth]
        candidates = {id(n): n for n in everything if not n.is_input and not isinstance(n.operation, InputLayer)}
        data = {key: self.data_tensors(n) for key, n in candidates.items()}

        def producer(tensor: Any) -> Any:
            if id(tensor) in input_ids or not hasattr(tensor, "_keras_history"):
                return None
            op, node_index, _ = tensor._keras_history
            if op is None:
                return None
            node = op._inbound_nodes[node_index]
            return node if id(node) in candidates else None

        needed: dict[int, Any] = {}
        stack = [t for t in self.keras.tree.flatten(function._outputs_struct)]
        while stack:
            node = producer(stack.pop())
            if node is None or id(node) in needed:
                continue
            needed[id(node)] = node
            stack += data[id(node)]
        for node in candidates.values():
            if id(node) not in needed and isinstance(node.operation, self.keras.layers.Layer) and node.operation.weights:
                raise ExportError(f"layer '{node.operation.name}' feeds the outputs only through a mask, which a spec cannot say")
        nodes = list(needed.values())
        position = {id(op): i for i, op in enumerate(function.operations)}
        parents: dict[int, list[Any]] = {}
        for n in nodes:
            found = [producer(t) for t in data[id(n)]]
            parents[id(n)] = [p for p in found if p is not None and id(p) in needed]
        children: dict[int, list[Any]] = {id(n): [] for n in nodes}
        for n in nodes:
            for p in parents[id(n)]:
                children[id(p)].append(n)

        def key(n: Any) -> tuple[int, int]:
            return position.get(id(n.operation), len(position)), n.operation._inbound_nodes.index(n)

        heap = [(key(n), i, n) for i, n in enumerate(nodes) if not parents[id(n)]]
        heapq.heapify(heap)
        order: list[Any] = []
        seen: set[int] = set()
        counter = len(nodes)
        while heap:
            _, _, n = heapq.heappop(heap)
            if id(n) in seen:
                continue
            seen.add(id(n))
            order.append(n)
            for child in children[id(n)]:
                if id(child) not in seen and {id(p) for p in parents[id(child)]} <= seen:
                    counter += 1
                    heapq.heappush(heap, (key(child), counter, child))
        return order

    def data_tensors(self, node: Any) -> list[Any]:
        """The tensors a call uses as data: its arguments but the masks Keras fills in itself."""
        keras = self.keras
        op = node.operation
        if not isinstance(op, keras.layers.Layer):
            return list(node.arguments.keras_tensors)
        bound = self.bind(node)
        if bound is None:
            return list(node.arguments.keras_tensors)
        tensors: list[Any] = []
        for arg, value in bound.arguments.items():
            if _is_mask_argument(arg) and self.automatic_mask(arg, value, bound):
                continue
            tensors += [t for t in keras.tree.flatten(value) if isinstance(t, keras.KerasTensor)] if _has_tensors(value, keras) else []
        return tensors

    def bind(self, node: Any) -> Any:
        try:
            return node.operation._call_signature.bind(*node.arguments.args, **node.arguments.kwargs)
        except TypeError:
            return None

    def automatic_mask(self, arg: str, value: Any, bound: Any) -> bool:
        """Whether a mask argument holds what Keras passes by itself (no mask, or the input's)."""
        if _all_none(value):
            return True
        keras = self.keras
        if arg == "mask":
            first = next(iter(bound.arguments.values()), None)
            source = first
        else:
            source = bound.arguments.get(arg[: -len("_mask")])
        if source is None:
            return False
        auto = keras.tree.map_structure(keras.src.backend.get_keras_mask, source) if _has_tensors(source, keras) else None
        return _same_structure_ids(value, auto)

    def input_definition(self, tensor: Any, op: Any, name: str) -> dict[str, Any]:
        keras = self.keras
        definition: dict[str, Any] = {"shape": [d if d is None else int(d) for d in tensor.shape[1:]]}
        if tensor.shape[0] is not None:
            definition["batch_size"] = int(tensor.shape[0])
        dtype = keras.backend.standardize_dtype(tensor.dtype)
        if dtype != keras.backend.floatx():
            definition["dtype"] = dtype
        for option in ("sparse", "ragged"):
            if getattr(tensor, option, False):
                definition[option] = True
        if getattr(op, "optional", False):
            raise ExportError(f"input '{name}' is optional (keras.Input(optional=True)), which a spec cannot say")
        return definition

    def output_keys(self, op: Any) -> list[str] | None:
        """For a nested model with named outputs: the names, in flattened order."""
        block = self.block_of.get(id(op))
        if block is not None and isinstance(self.blocks[block]["outputs"], dict):
            return list(self.blocks[block]["outputs"])
        return None

    def outputs(self, struct: Any, ref: Any, owner: str, sort: bool) -> Any:
        keras = self.keras
        if isinstance(struct, dict):
            names = _Names()
            items = sorted(struct.items()) if sort else list(struct.items())
            for key, value in items:
                if not isinstance(value, keras.KerasTensor):
                    raise ExportError(f"'{owner}' has nested outputs under '{key}', which a spec cannot say")
            return {names.add(str(k)): ref(v) for k, v in items}
        if isinstance(struct, (list, tuple)):
            if not all(isinstance(v, keras.KerasTensor) for v in struct):
                raise ExportError(f"'{owner}' has nested lists of outputs, which a spec cannot say")
            return [ref(v) for v in struct]
        return [ref(struct)]

    # -- nodes ----------------------------------------------------------------------

    def node(self, node: Any, name: str, creator: str, ref: Any) -> dict[str, Any]:
        keras = self.keras
        op = node.operation
        if not isinstance(op, keras.layers.Layer):
            return self.operation(node, ref)
        is_model = isinstance(op, keras.Model)
        if creator != name:
            return {"share": creator, "from": self.call_inputs(node, ref, block=is_model)}
        if is_model:
            return {"block": self.block(op), "from": self.call_inputs(node, ref, block=True)}
        if isinstance(op, keras.layers.Lambda):
            raise ExportError(
                f"layer '{op.name}' is a Lambda: it runs a Python function, which a spec never holds; "
                "rewrite it as a custom layer class, register it with keras.saving.register_keras_serializable(), "
                "and export again"
            )
        cls = type(op)
        merge = _MERGES.get(cls.__name__) if getattr(keras.layers, cls.__name__, None) is cls else None
        if merge is not None:
            out: dict[str, Any] = {"merge": merge}
        else:
            out = {"type": self.type_name(cls, ["layers"], f"layer '{op.name}'")}
        out.update(self.arguments(op, f"layer '{op.name}'"))
        refs = self.call_inputs(node, ref, block=False)
        if merge is not None and not (isinstance(refs, list) and len(refs) >= 2):
            raise ExportError(f"merge layer '{op.name}' is called on {_count(refs)} tensor(s); a merge node takes two or more")
        out["from"] = refs
        return out

    def block(self, model: Any) -> str:
        """The block of a nested model; models with the same definition share one block."""
        function = self.function_of(model, "nested model")
        scope = self.scope(function, model.name, top=False)
        # A nested model stays one (model: true), so that the spec builds the same model back.
        definition = {"model": True, "inputs": scope["inputs"], "nodes": scope["nodes"], "outputs": scope["outputs"]}
        text = _text(definition)
        name = next((n for n, existing in self.blocks.items() if _text(existing) == text), None)
        if name is None:
            name = self.block_names.add(model.name)
            self.blocks[name] = definition
        self.block_of[id(model)] = name
        return name

    def operation(self, node: Any, ref: Any) -> dict[str, Any]:
        """A keras.ops operation applied outside any layer: a merge when one computes it exactly."""
        keras = self.keras
        op = node.operation
        cls = type(op).__name__
        args, kwargs = node.arguments.args, node.arguments.kwargs
        tensors = [a for a in args if isinstance(a, keras.KerasTensor)]
        merge = _OP_MERGES.get(cls) if type(op).__module__.startswith("keras.") else None
        if merge and len(args) == 2 and len(tensors) == 2 and not kwargs:
            a, b = tensors
            same = tuple(a.shape) == tuple(b.shape) and all(
                keras.backend.standardize_dtype(t.dtype) == keras.backend.floatx() for t in tensors
            )
            if same:
                return {"merge": merge, "from": [ref(a), ref(b)]}
            reason = "its inputs differ in shape or are not float32 (a merge layer would broadcast or cast them differently)"
        else:
            reason = "a spec holds layers only"
        what = f"keras.ops.{_snake(cls)}" if type(op).__module__.startswith("keras.") else f"{type(op).__module__}.{cls}"
        raise ExportError(
            f"'{op.name}' is the operation {what} applied to tensors outside any layer; {reason}. "
            "Use a layer instead (a merge node such as keras.layers.Add, or a registered custom layer)"
        )

    def call_inputs(self, node: Any, ref: Any, block: bool) -> Any:
        """The ``from`` of one call: a ref, a list of refs, or a mapping by call argument."""
        keras = self.keras
        op = node.operation
        signature = op._call_signature
        bound = self.bind(node)
        if bound is None:
            raise ExportError(f"layer '{op.name}': its call arguments do not match its call() signature")
        parameters = signature.parameters
        tensor_args: dict[str, Any] = {}
        first_param = next(iter(parameters))
        for arg, value in bound.arguments.items():
            parameter = parameters[arg]
            if _is_mask_argument(arg) and self.automatic_mask(arg, value, bound):
                continue
            if _has_tensors(value, keras):
                if parameter.kind is parameter.VAR_POSITIONAL:
                    raise ExportError(f"layer '{op.name}' takes tensors through *{arg}, which a spec cannot pass")
                tensor_args[arg] = value
                continue
            if arg == "training" and parameter.default is not None and value == parameter.default:
                continue
            default = parameter.default
            if default is not parameter.empty and _equal(value, default):
                continue
            raise ExportError(
                f"layer '{op.name}' is called with {arg}={value!r}; a spec passes only tensors to a layer "
                f"(the call takes the default {arg}={default!r} when built from a spec)"
                if default is not parameter.empty
                else f"layer '{op.name}' is called with {arg}={value!r}; a spec passes only tensors to a layer"
            )
        if list(tensor_args) == [first_param]:
            value = tensor_args[first_param]
            if isinstance(value, keras.KerasTensor):
                return ref(value)
            if isinstance(value, dict):
                if not block:
                    raise ExportError(f"layer '{op.name}' is called on a dict of tensors, which a spec cannot pass")
                names = {str(k): ref(v) for k, v in value.items()}
                return names
            if isinstance(value, (list, tuple)) and all(isinstance(v, keras.KerasTensor) for v in value):
                if len(value) == 1 and not block:
                    raise ExportError(f"layer '{op.name}' is called on a list of one tensor, which a spec cannot pass (one ref passes the tensor itself)")
                refs = [ref(v) for v in value]
                return refs[0] if len(refs) == 1 else refs
            raise ExportError(f"layer '{op.name}' is called on nested lists of tensors, which a spec cannot pass")
        if block:
            raise ExportError(f"nested model '{op.name}' is called with tensors outside its inputs, which a spec cannot pass")
        mapping: dict[str, Any] = {}
        for arg, value in tensor_args.items():
            if isinstance(value, keras.KerasTensor):
                mapping[arg] = ref(value)
            elif isinstance(value, (list, tuple)) and all(isinstance(v, keras.KerasTensor) for v in value) and len(value) >= 2:
                mapping[arg] = [ref(v) for v in value]
            else:
                raise ExportError(f"layer '{op.name}': its call argument '{arg}' is a structure of tensors a spec cannot pass")
        self.check_tensor_order(node, tensor_args)
        return mapping

    def check_tensor_order(self, node: Any, tensor_args: dict[str, Any]) -> None:
        """Refuse a positional call whose tensors Keras would list in another order rebuilt.

        A spec passes named tensors as keywords, which Keras lists by name; the order of
        a call's tensors decides the order of the model's layers, and so of
        ``get_weights()``. Tensors that come from inputs do not matter.
        """
        keras = self.keras
        args, kwargs = node.arguments.args, node.arguments.kwargs
        data = {id(t) for value in tensor_args.values() for t in keras.tree.flatten(value) if isinstance(t, keras.KerasTensor)}

        def producers(tensors: list[Any]) -> list[int]:
            found: list[int] = []
            for tensor in tensors:
                history = getattr(tensor, "_keras_history", None)
                if id(tensor) not in data or history is None or history.operation is None or getattr(history.operation, "_inbound_nodes", None) is None:
                    continue
                origin = history.operation._inbound_nodes[history.node_index]
                if origin.is_input or id(origin) in found:
                    continue
                found.append(id(origin))
            return found

        recorded = [t for t in keras.tree.flatten((args, kwargs)) if isinstance(t, keras.KerasTensor)]
        rebuilt = [t for t in keras.tree.flatten(dict(tensor_args)) if isinstance(t, keras.KerasTensor)]
        if producers(recorded) != producers(rebuilt):
            names = ", ".join(tensor_args)
            raise ExportError(
                f"layer '{node.operation.name}' is called with its tensors ({names}) in an order that a spec's "
                "'from' mapping cannot keep (Keras lists keyword tensors by name), so the rebuilt model would "
                f"list its weights in another order; call it with keywords ({', '.join(f'{a}=...' for a in tensor_args)}) "
                "and export again"
            )

    # -- arguments ------------------------------------------------------------------

    def arguments(self, obj: Any, who: str) -> dict[str, Any]:
        """The constructor arguments of `obj` that differ from a default instance's.

        A default may depend on other arguments (``MaxPooling2D``'s strides default to its
        pool size), so the arguments kept are checked by making an instance from them
        alone: any value it gets wrong is kept too, until the instance equals `obj`.
        Values a layer sets itself when it is built (``MultiHeadAttention``'s
        ``attention_axes``) or that a wrapper sets on the layer it wraps are left out
        when an instance built the same way gets them anyway.
        """
        cls = type(obj)
        config = {k: v for k, v in _config_of(obj).items() if k != "name"}
        required = _required(cls)
        missing = [r for r in required if r not in config]
        if missing:
            raise ExportError(f"{who}: its get_config() lacks the constructor argument(s) {', '.join(missing)}")
        converted = {k: self.value(v, k, f"{who}, argument '{k}'") for k, v in config.items()}
        texts = {k: _text(v) for k, v in converted.items()}

        def differing(other: dict[str, Any] | None, keys: Any) -> set[str]:
            assert other is not None
            return {
                k for k in keys
                if k not in other or _text(self.value(other[k], k, f"{who}, argument '{k}'")) != texts[k]
            }

        chosen = set(required)
        defaults = self.instance_config(cls, {k: config[k] for k in required})
        if defaults is None:
            signature_defaults = _signature_defaults(cls)
            chosen |= {k for k in config if k not in signature_defaults or _default_text(signature_defaults[k]) != texts[k]}
        else:
            chosen |= differing(defaults, config)
            for _ in range(len(config)):
                rebuilt = self.instance_config(cls, {k: config[k] for k in config if k in chosen})
                if rebuilt is None:
                    break
                extra = differing(rebuilt, [k for k in config if k not in chosen])
                if not extra:
                    break
                chosen |= extra
            chosen -= self.set_when_built(obj, config, chosen, required, defaults, differing)
        allowed = self.compiler.constructor_arguments(cls)
        for key in chosen:
            if allowed is not None and key not in allowed:
                raise ExportError(
                    f"{who}: its config holds '{key}' = {config[key]!r}, which is not an argument of {cls.__name__}'s constructor"
                )
        raw = {k: config[k] for k in config if k in chosen}
        out = {k: converted[k] for k in _argument_order(cls, required, [k for k in config if k in chosen])}
        out = self.pruned(cls, raw, out, config, differing)
        return self.simplified(cls, config, out, differing)

    def set_when_built(self, obj: Any, config: dict[str, Any], chosen: set[str], required: list[str], defaults: dict[str, Any], differing: Any) -> set[str]:
        """Arguments that an instance built on `obj`'s input shapes gets without being told."""
        suspects = [k for k in config if k in chosen and k not in required and defaults.get(k) is None and config[k] is not None]
        if not suspects or not getattr(obj, "built", False) or not hasattr(obj, "get_build_config"):
            return set()
        try:
            build_config = obj.get_build_config()
        except Exception:
            return set()
        if not build_config:
            return set()
        dropped: set[str] = set()
        for key in suspects:
            raw = {k: config[k] for k in config if k in chosen and k != key and k not in dropped}
            instance = _make(type(obj), raw, self.keras, self.custom)
            try:
                instance.build_from_config(build_config)
            except Exception:
                continue
            if instance is not None and not differing(_config_of(instance), config):
                dropped.add(key)
        return dropped

    def pruned(self, cls: type, raw: dict[str, Any], out: dict[str, Any], config: dict[str, Any], differing: Any) -> dict[str, Any]:
        """Arguments of wrapped layers that the wrapper sets itself, left out (checked)."""
        for key, value in list(out.items()):
            inner = raw.get(key)
            if not (isinstance(value, dict) and "type" in value and isinstance(inner, dict) and _is_serialized(inner)):
                continue
            if not isinstance(inner.get("config"), dict):
                continue
            for inner_key in [k for k in value if k != "type"]:
                trial_inner = {**inner, "config": {k: v for k, v in inner["config"].items() if k != inner_key}}
                trial = {**raw, key: trial_inner}
                rebuilt = self.instance_config(cls, trial)
                if rebuilt is not None and not differing(rebuilt, config):
                    raw, inner = trial, trial_inner
                    value = {k: v for k, v in value.items() if k != inner_key}
            out[key] = value
        return out

    def simplified(self, cls: type, config: dict[str, Any], out: dict[str, Any], differing: Any) -> dict[str, Any]:
        """``kernel_size: 3`` for ``[3, 3]`` where the layer reads both alike (checked)."""
        simple = {k: _flatten(v)[0] if _uniform_ints(v) else v for k, v in out.items()}
        if simple == out:
            return out
        raw = {k: (simple[k] if simple[k] != out[k] else config[k]) for k in out}
        rebuilt = self.instance_config(cls, raw)
        if rebuilt is not None and not differing(rebuilt, config):
            return simple
        return out

    def instance_config(self, cls: type, config: dict[str, Any]) -> dict[str, Any] | None:
        """The config of an instance made from `config` alone: what a spec giving only it builds."""
        key = (cls, json.dumps(config, sort_keys=True, default=repr))
        if key not in self.defaults:
            instance = _make(cls, config, self.keras, self.custom)
            self.defaults[key] = _config_of(instance) if instance is not None else None
        return self.defaults[key]

    def value(self, value: Any, argument: str, who: str) -> Any:
        """A config value as a spec writes it: serialized Keras objects become ``{type: ...}``."""
        if isinstance(value, dict):
            if _is_serialized(value):
                return self.serialized(value, argument, who)
            if "type" in value:
                raise ExportError(f"{who}: a mapping with a 'type' key would be read as a Keras object")
            return {str(k): self.value(v, str(k), who) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v, argument, who) for v in value]
        return _plain(value, who)

    def serialized(self, value: dict[str, Any], argument: str, who: str) -> Any:
        keras = self.keras
        class_name = value.get("class_name")
        config = value.get("config")
        if isinstance(class_name, str) and class_name.endswith("DTypePolicy") and isinstance(config, dict):
            if class_name not in ("DTypePolicy", "FloatDTypePolicy"):
                raise ExportError(f"{who}: the dtype policy {class_name} cannot be written as a name")
            return config.get("name")
        if class_name == "function":  # an activation function: Keras reads its own by name only
            if isinstance(config, str) and str(value.get("module", "")).startswith("keras"):
                return config
            raise ExportError(
                f"{who}: the function {config!r} is not a Keras activation, and a spec names functions "
                "by Keras's names only; compute it in a custom layer (registered), or use a Keras activation"
            )
        if class_name == "__lambda__":
            raise ExportError(f"{who}: a lambda is code, which a spec never holds")
        if class_name == "__tuple__":
            return [self.value(v, argument, who) for v in value.get("config", {}).get("value", [])]
        try:
            with keras.saving.custom_object_scope(self.custom):
                obj = keras.saving.deserialize_keras_object(value, custom_objects=self.custom, safe_mode=True)
        except Exception as error:
            raise ExportError(f"{who}: Keras cannot rebuild the {class_name} it holds: {_first_lines(error)}") from None
        cls = type(obj)
        if inspect.isfunction(obj) or not hasattr(obj, "get_config"):
            raise ExportError(f"{who}: {class_name} is not a Keras object a spec can write")
        kinds = self.compiler.namespaces_for(argument)
        out: dict[str, Any] = {"type": self.type_name(cls, kinds, who)}
        out.update(self.arguments(obj, f"{who} ({class_name})"))
        return out

    def type_name(self, cls: type, kinds: list[str], who: str) -> str:
        """The name by which `graphspec.build` finds `cls` again; checked by looking it up."""
        keras = self.keras
        from graphspec.resolve import REFUSED_LAYERS

        reason = REFUSED_LAYERS.get(cls.__name__)
        if reason and cls.__module__.startswith("keras."):
            raise ExportError(f"{who} is a {cls.__name__}: it {reason}, which a spec never does")
        given = [name for name, obj in self.custom.items() if obj is cls]
        registered = keras.saving.get_registered_name(cls)
        if cls.__module__.split(".")[0] == "keras":
            candidates = [cls.__name__] + given + [registered]
        else:  # a custom class: the name the caller gave, else its registered 'package>Name'
            candidates = given + [registered, cls.__name__]
        for name in candidates:
            try:
                if self.compiler.lookup(name, kinds, self.custom) is cls:
                    return name
            except LookupError:
                continue
        raise ExportError(
            f"{who} is a {cls.__module__}.{cls.__qualname__}, which is neither a public Keras class nor registered; "
            "register it with @keras.saving.register_keras_serializable() (the spec then names it 'package>Name'), "
            f"or pass custom_objects={{'{cls.__name__}': {cls.__name__}}} to dumps and to build"
        )


# --------------------------------------------------------------------------- helpers


def _make(cls: Any, config: dict[str, Any], keras: Any, custom: Mapping[str, Any]) -> Any:
    """``cls.from_config(config)``, or ``cls(**config)`` where from_config needs every key."""
    with keras.saving.custom_object_scope(dict(custom)):
        for make in (cls.from_config, lambda c: cls(**c)):
            try:
                return make(dict(config))
            except Exception:
                continue
    return None


_LAYER_BASE_ARGUMENTS = ("trainable", "dtype", "autocast", "activity_regularizer")


def _argument_order(cls: type, required: list[str], keys: list[str]) -> list[str]:
    """Required arguments first, then the config's order, the base Layer's arguments last."""
    rest = [k for k in keys if k not in required and k not in _LAYER_BASE_ARGUMENTS]
    return [k for k in required if k in keys] + rest + [k for k in _LAYER_BASE_ARGUMENTS if k in keys]


def _config_of(obj: Any) -> dict[str, Any]:
    config = obj.get_config()
    if not isinstance(config, dict):
        raise ExportError(f"{type(obj).__name__}.get_config() did not return a dict")
    return dict(config)


def _required(cls: Any) -> list[str]:
    """Constructor arguments without a default (those a default instance needs)."""
    try:
        parameters = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in parameters
        if p.name != "self" and p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]


def _signature_defaults(cls: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        if "__init__" not in vars(klass) or klass is object:
            continue
        try:
            parameters = inspect.signature(klass.__init__).parameters.values()
        except (TypeError, ValueError):
            continue
        defaults.update({p.name: p.default for p in parameters if p.default is not p.empty})
    return defaults


def _uniform_ints(value: Any) -> bool:
    """``[3, 3]``, ``[[1, 1], [1, 1]]``, ``[-1]``: a list whose numbers are one integer."""
    if not isinstance(value, list) or not value:
        return False
    flat = _flatten(value)
    return all(type(v) is int for v in flat) and len(set(flat)) == 1


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [x for v in value for x in _flatten(v)]
    return [value]


def _default_text(value: Any) -> str | None:
    try:
        return _text(_plain(value))
    except ExportError:
        return None


def _is_serialized(value: dict[str, Any]) -> bool:
    return "class_name" in value and "config" in value and ("module" in value or "registered_name" in value)


def _plain(value: Any, who: str = "") -> Any:
    """Numbers, strings, booleans and None as plain Python values; numpy arrays as lists."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v, who) for v in value]
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # numpy scalars and arrays
        return _plain(value.tolist(), who)
    raise ExportError(f"{who}: cannot write a {type(value).__name__} ({value!r}) in a spec")


def _has_tensors(value: Any, keras: Any) -> bool:
    if isinstance(value, keras.KerasTensor):
        return True
    if isinstance(value, (list, tuple)):
        return any(_has_tensors(v, keras) for v in value)
    if isinstance(value, dict):
        return any(_has_tensors(v, keras) for v in value.values())
    return False


def _is_mask_argument(name: str) -> bool:
    return name == "mask" or name.endswith("_mask")


def _all_none(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_all_none(v) for v in value)
    if isinstance(value, dict):
        return all(_all_none(v) for v in value.values())
    return value is None


def _same_structure_ids(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_structure_ids(x, y) for x, y in zip(a, b, strict=False))
    return a is b


def _equal(a: Any, b: Any) -> bool:
    try:
        return (bool(a == b) and type(a) is type(b)) or (a is b)
    except Exception:
        return False


def _count(refs: Any) -> int:
    return len(refs) if isinstance(refs, (list, dict)) else 1


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _first_lines(error: Exception) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return " ".join(lines[:2]) or type(error).__name__


def _text(value: Any) -> str:
    return _Writer().flow(value)


# --------------------------------------------------------------------------- YAML


class _Writer:
    """Block style for the file, flow style (one line) per node, exact floats."""

    def document(self, document: dict[str, Any], schema: str | None) -> str:
        lines: list[str] = []
        if schema:
            lines.append(f"# yaml-language-server: $schema={schema}")
        lines.append(f"graphspec: {document['graphspec']}")
        lines.append(f"name: {self.scalar(document['name'])}")
        lines.append("inputs:")
        lines += self.table(document["inputs"], "  ")
        if document.get("blocks"):
            lines.append("blocks:")
            for name, block in document["blocks"].items():
                lines.append(f"  {self.key(name)}:")
                if block.get("model"):
                    lines.append("    model: true")
                lines.append(f"    inputs: {self.flow(block['inputs'])}")
                lines.append("    nodes:")
                lines += self.table(block["nodes"], "      ")
                lines += self.outputs(block["outputs"], "    ")
        lines.append("nodes:")
        lines += self.table(document["nodes"], "  ")
        lines += self.outputs(document["outputs"], "")
        return "\n".join(lines) + "\n"

    def outputs(self, outputs: Any, indent: str) -> list[str]:
        if isinstance(outputs, dict):
            return [f"{indent}outputs:"] + self.table(outputs, indent + "  ")
        return [f"{indent}outputs: {self.flow(outputs)}"]

    def table(self, entries: Mapping[str, Any], indent: str) -> list[str]:
        keys = {name: self.key(name) + ":" for name in entries}
        width = min(max((len(k) for k in keys.values()), default=0), 32)
        return [f"{indent}{keys[name].ljust(width)} {self.flow(value)}" for name, value in entries.items()]

    def flow(self, value: Any) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.key(k)}: {self.flow(v)}" for k, v in value.items()) + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(value)

    def key(self, key: Any) -> str:
        return self.scalar(str(key), escape=False)

    def scalar(self, value: Any, escape: bool = True) -> str:
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float):
            return _float_text(value)
        text = str(value)
        if escape and text.startswith("$"):
            text = "$" + text  # '$$x' is the string '$x'
        if _PLAIN.match(text) and _plain_scalar(text) == text and text.lower() not in _YAML11_WORDS:
            return text
        return json.dumps(text, ensure_ascii=False)


def _float_text(value: float) -> str:
    """The shortest text that reads back as exactly `value`, in YAML 1.2 and 1.1 alike."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        if exponent[0] not in "+-":
            exponent = "+" + exponent
        text = f"{mantissa}e{exponent}"
    return text
