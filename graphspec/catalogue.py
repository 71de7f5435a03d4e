"""What Keras's layers take, read from the shipped ``catalogue.json``, without Keras.

The catalogue is generated from the installed Keras by ``python -m
graphspec.catalogue_build`` (see that module for what each field means); this module
only reads it, so `graphspec.load` and ``graphspec validate`` can check layer
arguments without importing a deep-learning framework.

The checks are conservative: they flag what Keras certainly refuses (an argument
the constructor does not have, ``units: many``, ``padding: smae``, ``activation:
rellu``, ``{type: HeNormall}``) and let through anything they cannot be sure of,
which Keras then judges at build time.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any, NamedTuple

from graphspec.errors import close_matches, did_you_mean, longer_than, shown

CATALOGUE_PATH = Path(__file__).with_name("catalogue.json")

class Finding(NamedTuple):
    """One mistake in a layer's (or the compile section's) arguments, before it is placed in
    a file: `graphspec.resolve` makes it a `Problem` at the node's path + `sub`."""

    sub: tuple  # the path below the node (or the compile section)
    message: str
    hint: str | None
    code: str

# The namespaces a ``{type: ...}`` value of an argument is looked up in, as in
# graphspec.compiler.namespaces_for.
_OBJECT_TYPES = ("initializer", "regularizer", "constraint")
_NAMESPACE_OF = {"initializer": "initializers", "regularizer": "regularizers", "constraint": "constraints"}
_OTHER_NAMESPACES = ("layers", "initializers", "regularizers", "constraints")

_TYPE_TEXT = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "ints": "an integer or a list of integers",
    "numbers": "a number or a list of numbers",
}


@functools.cache
def catalogue() -> dict[str, Any]:
    """The whole catalogue (loaded once): ``keras_version``, ``layers``, ``names``, ``classes``."""
    with open(CATALOGUE_PATH, encoding="utf-8") as handle:
        return json.load(handle)


def keras_version() -> str:
    """The Keras version the catalogue was generated from."""
    return str(catalogue()["keras_version"])


def layer_names() -> list[str]:
    """Every public layer class name of ``keras.layers``, sorted."""
    return list(catalogue()["layers"])


def layer_info(type_name: str) -> dict[str, Any] | None:
    """The catalogue entry of a Keras layer class (``args``, ``takes_list``, ...), or None."""
    if not isinstance(type_name, str):
        return None
    return catalogue()["layers"].get(type_name)


def is_known_layer(name: str) -> bool:
    """Whether `name` is a public Keras layer class."""
    return layer_info(name) is not None


def close_layers(name: str, n: int = 3) -> list[str]:
    """The Keras layer names closest to `name` (case-insensitively if nothing is close)."""
    return close_matches(name, layer_names(), n)


def takes_list(type_name: str) -> bool:
    """Whether the layer takes a list of tensors as its input (merge layers, Attention, AdditiveAttention)."""
    info = layer_info(type_name)
    return bool(info and info.get("takes_list"))


def several_outputs(type_name: str, args: dict[str, Any] | None = None) -> bool | None:
    """Whether a layer built with `args` returns several tensors (an LSTM with
    ``return_state: true``); None for a layer the catalogue does not know or when a
    deciding argument is still a param."""
    info = layer_info(type_name)
    if info is None:
        return None
    rule = info.get("several_outputs", False)
    if isinstance(rule, bool):
        return rule
    args = args or {}
    for condition in rule:
        value: Any = args
        for part in str(condition["arg"]).split("."):
            if _is_param(value):
                break
            value = value.get(part, _default_of(value, part, type_name)) if isinstance(value, dict) else None
        if _is_param(value):
            return None
        if value == condition["equals"] and type(value) is type(condition["equals"]):
            return True
    return False


def _default_of(mapping: dict[str, Any], part: str, type_name: str) -> Any:
    """The catalogue default of argument `part` of the layer `mapping` describes."""
    owner = mapping.get("type", type_name) if isinstance(mapping.get("type"), str) else type_name
    info = layer_info(owner) or {}
    return info.get("args", {}).get(part, {}).get("default", _MISSING)


_MISSING = object()


def known_names(kind: str) -> list[str]:
    """The strings Keras accepts for `kind`: ``activations``, ``initializers``,
    ``regularizers``, ``constraints``, ``optimizers``, ``losses`` or ``metrics``."""
    return list(catalogue()["names"].get(kind, []))


def is_known_name(kind: str, name: str) -> bool:
    """Whether Keras accepts the string `name` as one of `kind` (``he_normal``, ``mse``, ``adam``)."""
    names = catalogue()["names"].get(kind, [])
    if name in names:
        return True
    if kind == "optimizers":  # keras.optimizers.get lowercases the name
        return name.lower() in names
    if kind == "metrics":  # model.compile: "ACC", "Accuracy"... (compile_utils lowercases)
        return name.lower() in ("accuracy", "acc", "crossentropy", "ce")
    return False


def class_names(kind: str) -> list[str]:
    """The class names usable as ``{type: ...}`` in `kind` (``layers``, ``initializers``, ...)."""
    if kind == "layers":
        return layer_names()
    return list(catalogue()["classes"].get(kind, {}))


def class_info(kind: str, name: str) -> dict[str, Any] | None:
    """The catalogue entry of class `name` of namespace `kind`, or None."""
    if kind == "layers":
        return layer_info(name)
    return catalogue()["classes"].get(kind, {}).get(name)


# -- checking ------------------------------------------------------------------------


def check_layer_arguments(type_name: str, args: dict[str, Any], custom: Collection[str] = ()) -> list[Finding]:
    """The arguments of a layer node that Keras would certainly refuse.

    Args:
        type_name: the node's ``type``.
        args: its constructor arguments (the node's keys less ``type``, ``from``,
            ``repeat``), after param substitution; values that are still ``$...``
            strings are never flagged.
        custom: names of the caller's custom objects (layers, initializers...);
            these, and names with ``>`` (registered ``package>Name``), are not
            checked.

    Returns:
        One ``(sub_path, message, hint, code)`` per finding, ``sub_path`` below the
        node (``("units",)``, ``("layer", "unitz")``), the message naming the layer
        type (``"Dense: units must be an integer, found 'many'"``). Codes:
        ``unknown-argument`` (report it at the key), ``missing-argument`` (a
        required argument is absent; the path is the node's, or the nested
        object's), ``wrong-type``, ``bad-choice``, ``unknown-name``,
        ``unknown-type``. Empty for a layer type the catalogue does not know (a
        custom layer): say so elsewhere.
    """
    if not isinstance(type_name, str) or type_name in custom:
        return []
    info = layer_info(type_name)
    if info is None or not isinstance(args, dict):
        return []
    return list(_check_arguments(type_name, info, args, (), set(custom)))


def _check_arguments(type_name: str, info: dict[str, Any], args: dict[str, Any], base: tuple, custom: set[str]) -> Iterable[Finding]:
    described = info.get("args", {})
    missing = [key for key, spec in described.items() if spec.get("required") and key not in args]
    unknown = [str(key) for key in args if key not in described]
    # A misspelt required argument ('unit: 3') is reported once, as the unknown one.
    missing = [key for key in missing if not difflib.get_close_matches(key, unknown, n=1, cutoff=0.6)]
    if missing and not info.get("open"):
        listed = ", ".join(f"'{key}'" for key in missing)
        example = ", ".join(f"{key}: ..." for key in missing)
        yield Finding(base, f"{type_name} needs {listed}", f"add {example}", "missing-argument")
    for key, value in args.items():
        if key == "name" and not base:
            continue  # reported by the spec checks: the node's name is the layer's
        spec = described.get(key)
        if spec is None:
            if info.get("open"):
                continue
            if key in info.get("passed_by_class", ()):
                yield Finding(
                    base + (key,),
                    f"{type_name} sets '{key}' itself; it is not an argument",
                    f"remove '{key}'",
                    "unknown-argument",
                )
                continue
            choices = sorted(k for k in described if k != "name")
            yield Finding(base + (key,), f"{type_name} has no argument '{key}'", did_you_mean(str(key), choices, "arguments"), "unknown-argument")
            continue
        if key == "dtype" and isinstance(value, str) and not _is_param(value):
            wrong = check_dtype(value, policy=True)
            if wrong:
                yield Finding(base + (key,), f"{type_name}: {wrong[0]}", wrong[1], "bad-choice")
            continue
        yield from _check_value(type_name, str(key), spec, value, base + (key,), custom)


def _check_value(owner: str, key: str, spec: dict[str, Any], value: Any, path: tuple, custom: set[str]) -> Iterable[Finding]:
    kind = spec.get("type", "any")
    if kind == "any" or _has_param(value):
        return
    if value is None:
        if spec.get("nullable") or ("default" in spec and spec["default"] is None) or kind in ("activation",) + _OBJECT_TYPES:
            return
        yield Finding(path, f"{owner}: {key} must be {_TYPE_TEXT.get(kind, 'given')}, found nothing (null)", _default_hint(spec), "wrong-type")
        return
    if kind in ("int", "float", "bool", "ints", "numbers"):
        if not _fits(kind, value):
            yield Finding(path, f"{owner}: {key} must be {_TYPE_TEXT[kind]}, found {_describe(value)}", _type_hint(kind, value), "wrong-type")
        return
    if kind == "str":
        yield from _check_string(owner, key, spec, value, path)
        return
    if kind == "activation":
        yield from _check_object(owner, key, value, path, custom, "activations", list(_OTHER_NAMESPACES), "activation")
        return
    if kind in _OBJECT_TYPES:
        namespace = _NAMESPACE_OF[kind]
        yield from _check_object(owner, key, value, path, custom, namespace, [namespace], kind)
        return
    if kind == "layer":
        yield from _check_layer_value(owner, key, value, path, custom)


def _check_string(owner: str, key: str, spec: dict[str, Any], value: Any, path: tuple) -> Iterable[Finding]:
    if not isinstance(value, str):
        choices = spec.get("choices")
        expected = "one of " + ", ".join(f"'{c}'" for c in choices) if choices else "a string"
        yield Finding(path, f"{owner}: {key} must be {expected}, found {_describe(value)}", None, "wrong-type")
        return
    choices = spec.get("choices")
    if not choices:
        return
    candidate = value.lower() if spec.get("case_insensitive") else value
    pool = [c.lower() for c in choices] if spec.get("case_insensitive") else choices
    if candidate in pool:
        return
    listed = ", ".join(f"'{c}'" for c in choices)
    hint = did_you_mean(value, choices, "values")
    if spec.get("nullable"):
        listed += " or null"
    yield Finding(path, f"{owner}: {key} must be one of {listed}, found '{value}'", hint, "bad-choice")


def _check_object(
    owner: str, key: str, value: Any, path: tuple, custom: set[str], names_kind: str, namespaces: list[str], what: str
) -> Iterable[Finding]:
    """An activation, initializer, regularizer or constraint: a known name or a ``{type: ...}`` mapping."""
    if isinstance(value, str):
        if value in custom or ">" in value or is_known_name(names_kind, value):
            return
        if names_kind != "activations" and any(value in class_names(ns) for ns in namespaces):
            return  # a class name as a string ("HeNormal"): Keras deserializes it
        yield Finding(path, f"{owner}: unknown {what} '{value}'", did_you_mean(value, known_names(names_kind), f"{what}s"), "unknown-name")
        return
    if isinstance(value, dict) and "type" in value:
        yield from _check_typed(owner, key, value, path, custom, namespaces, what)
        return
    if isinstance(value, (bool, int, float, dict)):  # a mapping without 'type' is no Keras object either
        yield Finding(path, f"{owner}: {key} must be the name of {_article(what)} or a {{type: ...}} mapping, found {_describe(value)}", None, "wrong-type")


def _check_typed(owner: str, key: str, value: dict[str, Any], path: tuple, custom: set[str], namespaces: list[str], what: str) -> Iterable[Finding]:
    type_name = value["type"]
    if _is_param(type_name):
        return
    if not isinstance(type_name, str):
        yield Finding(path + ("type",), f"{owner}: {key}: 'type' must name a Keras class, found {_describe(type_name)}", None, "wrong-type")
        return
    if type_name in custom or ">" in type_name:
        return
    for namespace in namespaces:
        info = class_info(namespace, type_name)
        if info is not None:
            args = {k: v for k, v in value.items() if k != "type"}
            yield from _check_arguments(type_name, info, args, path, custom)
            return
    known = [n for ns in namespaces for n in class_names(ns) if n[:1].isupper()]
    noun = f"{what} type" if len(namespaces) == 1 else "Keras object type"
    yield Finding(path + ("type",), f"{owner}: {key}: unknown {noun} '{type_name}'", _custom_hint(did_you_mean(type_name, known, f"{what}s")), "unknown-type")


def _check_layer_value(owner: str, key: str, value: Any, path: tuple, custom: set[str]) -> Iterable[Finding]:
    """A wrapper's ``layer``: a ``{type: Layer, ...}`` mapping, or a list of them (an RNN's cells)."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, (dict, str, bool, int, float)):
                yield from _check_layer_value(owner, key, item, path + (i,), custom)
        return
    if isinstance(value, dict) and "type" in value:
        type_name = value["type"]
        if _is_param(type_name) or (isinstance(type_name, str) and (type_name in custom or ">" in type_name)):
            return
        if not isinstance(type_name, str):
            yield Finding(path + ("type",), f"{owner}: {key}: 'type' must name a Keras layer, found {_describe(type_name)}", None, "wrong-type")
            return
        info = layer_info(type_name)
        if info is None:
            yield Finding(
                path + ("type",),
                f"{owner}: {key}: unknown layer type '{type_name}'",
                _custom_hint(did_you_mean(type_name, layer_names(), "layers")),
                "unknown-type",
            )
            return
        yield from _check_arguments(type_name, info, {k: v for k, v in value.items() if k != "type"}, path, custom)
        return
    yield Finding(path, f"{owner}: {key} must be a layer, written as a mapping such as {{type: LSTM, units: 64}}, found {_describe(value)}", None, "wrong-type")


# -- values --------------------------------------------------------------------------


def _is_param(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("$")


def _has_param(value: Any) -> bool:
    """Whether `value` is, or directly is a list holding, a param still to substitute."""
    if _is_param(value):
        return True
    if isinstance(value, list):
        return any(_has_param(v) for v in value)
    return False


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _fits(kind: str, value: Any) -> bool:
    if kind == "int":
        return _is_int(value)
    if kind == "float":
        return _is_number(value)
    if kind == "bool":
        return isinstance(value, bool)
    item = _is_int if kind == "ints" else _is_number
    return item(value) or _nested(value, item)


def _nested(value: Any, item: Any) -> bool:
    if not isinstance(value, list):
        return False
    return all(v is None or item(v) or _nested(v, item) for v in value)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if not value or longer_than(value, 40) else repr(value).replace("None", "null")
    if value is None:
        return "nothing (null)"
    return shown(value)


def describe(value: Any) -> str:
    """A value as a spec writes it, for messages: true, nothing (null), 'text', a mapping."""
    return _describe(value)


def _type_hint(kind: str, value: Any) -> str | None:
    if kind in ("int", "ints") and isinstance(value, float) and value.is_integer():
        return "write an integer; in $(...) use '//' for integer division"
    if kind == "bool" and isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "true", "false"):
        return "write true or false, unquoted"
    if kind in ("int", "float") and isinstance(value, str):
        return "write a number, unquoted" if _looks_numeric(value) else None
    return None


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _default_hint(spec: dict[str, Any]) -> str | None:
    if "default" in spec:
        return f"remove it to get the default, {json.dumps(spec['default'])}"
    return None


def _article(what: str) -> str:
    return ("an " if what[:1] in "aeiou" else "a ") + what


def _custom_hint(hint: str | None) -> str:
    extra = "(a custom one must be passed in custom_objects= or registered with Keras)"
    return f"{hint} {extra}" if hint else extra


# -- dtypes, serialized objects and model.compile ------------------------------------------

#: The dtype names Keras documents (keras.src.backend.common.dtypes.ALLOWED_DTYPES);
#: tests/test_catalogue.py keeps them in step with the installed Keras.
DTYPES = (
    "float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
    "int64", "bfloat16", "bool", "string", "float8_e4m3fn", "float8_e5m2", "complex64", "complex128",
)
#: Names Keras would read as another dtype without a word (``int`` -> int64): refused, with the choices.
_DTYPE_ALIASES = {"int": ("int32", "int64"), "float": ("float32", "float64"), "double": ("float64",), "half": ("float16",), "str": ("string",), "uint": ("uint8", "uint32")}
_POLICIES = ("mixed_float16", "mixed_bfloat16")
_SERIALIZED_KEYS = ("class_name", "config", "module", "registered_name")


def check_dtype(value: Any, policy: bool = False) -> tuple[str, str | None] | None:
    """(message, hint) when `value` is not a dtype name Keras documents; None when it is.

    `policy`: a layer's ``dtype``, which also takes the mixed-precision policies and the
    quantization policies (``int8_from_float32``).
    """
    if not isinstance(value, str):
        return f"dtype must be a dtype name such as 'float32', found {_describe(value)}", None
    if value in DTYPES or (policy and (value in _POLICIES or "_from_" in value)):
        return None
    if value in _DTYPE_ALIASES:
        choices = " or ".join(f"'{c}'" for c in _DTYPE_ALIASES[value])
        if value == "int":
            return "dtype 'int' is not a dtype name (Keras would read it as int64 without a word)", f"write {choices} to say which"
        return f"unknown dtype '{value}'", f"write {choices}"
    return f"unknown dtype '{value}'", did_you_mean(value, DTYPES + (_POLICIES if policy else ()), "dtypes")


def serialized_objects(value: Any, path: tuple = ()) -> Iterable[tuple]:
    """The paths of mappings in Keras's serialized form (``{class_name: ..., config: ...}``) in `value`.

    A spec writes objects as ``{type: ...}``; the serialized form would reach Keras's
    deserializer (and, with unsafe deserialization enabled in the process, code).
    """
    if isinstance(value, dict):
        if "type" not in value and any(key in value for key in _SERIALIZED_KEYS):
            yield path
            return
        for key, item in value.items():
            yield from serialized_objects(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from serialized_objects(item, (*path, index))


def serialized_finding(path: tuple) -> Finding:
    """The finding for a serialized-form mapping at `path` (see `serialized_objects`)."""
    return Finding(
        path,
        "a mapping with 'class_name', 'module' or 'config' (Keras's serialized form) is not accepted",
        "write the object as {type: ClassName, argument: value}",
        "refused",
    )


_COMPILE_KINDS = {"optimizer": ("optimizers", "optimizer"), "loss": ("losses", "loss"), "metrics": ("metrics", "metric"), "weighted_metrics": ("metrics", "metric")}


def check_compile_arguments(values: dict[str, Any], custom: Collection[str] = ()) -> list[Finding]:
    """The arguments of ``model.compile`` that Keras would refuse, or read other than written.

    Names of optimizers, losses and metrics are checked against the catalogue (with
    "did you mean"); booleans must be true or false (``jit_compile`` also takes
    ``auto``), counts must be positive integers, loss weights numbers. Paths are below
    ``compile``.
    """
    custom = set(custom)
    findings: list[Finding] = [serialized_finding(path) for path in serialized_objects(values)]
    if findings:
        return findings
    for key, value in values.items():
        path = (key,)
        if value is None or _has_param(value):
            continue
        if key in ("run_eagerly", "auto_scale_loss"):
            if not isinstance(value, bool):
                findings.append(Finding(path, f"{key} must be true or false, found {_describe(value)}", bool_hint(value), "wrong-type"))
        elif key == "jit_compile":
            if not isinstance(value, bool) and value != "auto":
                findings.append(Finding(path, f"jit_compile must be true, false or 'auto', found {_describe(value)}", bool_hint(value), "wrong-type"))
        elif key == "steps_per_execution":
            if not (_is_int(value) and value >= 1):
                findings.append(Finding(path, f"steps_per_execution must be a positive integer, found {_describe(value)}", None, "wrong-type"))
        elif key == "loss_weights":
            findings += _check_loss_weights(value, path)
        elif key in _COMPILE_KINDS:
            findings += _check_compile_objects(key, value, path, custom, by_output=True)
    return findings


def _check_loss_weights(value: Any, path: tuple) -> list[Finding]:
    if _is_number(value) or _has_param(value):
        return []
    if isinstance(value, (list, dict)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return [finding for key, item in items for finding in _check_loss_weights(item, (*path, key)) if not isinstance(item, (list, dict))]
    return [Finding(path, f"loss_weights must be numbers, found {_describe(value)}", None, "wrong-type")]


def _check_compile_objects(key: str, value: Any, path: tuple, custom: set[str], by_output: bool) -> list[Finding]:
    """An optimizer, loss or metric: a name, a {type: ...} mapping, or (loss, metrics) lists and mappings by output."""
    kind, what = _COMPILE_KINDS[key]
    if _has_param(value) or value is None:
        return []
    if isinstance(value, str):
        if value in custom or ">" in value or is_known_name(kind, value):
            return []
        return [Finding(path, f"unknown {what} '{value}'", did_you_mean(value, known_names(kind), f"{what}es" if what == "loss" else f"{what}s"), "unknown-name")]
    if isinstance(value, dict) and "type" in value:
        return [Finding(sub, message.removeprefix(": "), hint, code) for sub, message, hint, code in _check_typed("", key, value, path, custom, [kind], what)]
    if key != "optimizer" and isinstance(value, list):
        return [f for i, item in enumerate(value) for f in _check_compile_objects(key, item, (*path, i), custom, by_output and key != "loss")]
    if key != "optimizer" and by_output and isinstance(value, dict):
        return [f for name, item in value.items() for f in _check_compile_objects(key, item, (*path, name), custom, False)]
    expected = {"optimizer": "the name of an optimizer or a {type: ...} mapping"}.get(key, f"the name of a {what}, a {{type: ...}} mapping, or a list or mapping of them")
    return [Finding(path, f"{key} must be {expected}, found {_describe(value)}", None, "wrong-type")]


def bool_hint(value: Any) -> str:
    """How to write a boolean, for a value that is not one."""
    if isinstance(value, str) and value.lower() in ("yes", "no", "on", "off", "true", "false", "y", "n"):
        return "write true or false, unquoted; 'yes', 'no', 'on' and 'off' are strings"
    return "write true or false"
