"""Regenerates ``graphspec/catalogue.json`` from the installed Keras.

    python -m graphspec.catalogue_build            # writes graphspec/catalogue.json
    python -m graphspec.catalogue_build --check    # exit 1 when the file is stale

This is the only place the catalogue is made; `graphspec.catalogue` reads the JSON
it writes without importing Keras.

For every public layer class of ``keras.layers`` (and every public class of the
initializers, regularizers, constraints, optimizers, losses and metrics namespaces)
the catalogue records its constructor arguments, found as `graphspec.compiler`
finds them (the ``__init__`` signatures along the MRO, following ``**kwargs`` up to
the Keras base class), less those a subclass always passes to its base itself
(``rank`` of ``Conv2D``, ``cell`` of ``LSTM``: giving them is a Keras error).

Each argument has a default (``default``, or ``required``, or ``default_unjsonable``),
the first sentence of its docstring (``doc``) and a type, inferred from the default, the name, the docstring and the source, and
deliberately loose: where the evidence is not clear the type is ``any``, because a
catalogue that rejects what Keras accepts is worse than one that lets Keras report
the mistake at build time. Types (``"type"``):

- ``int``, ``float`` (ints accepted), ``bool``, ``str``;
- ``ints``: an int or a (nested) list of ints (``kernel_size: 3``, ``[3, 3]``,
  ``padding: [[1, 1], [2, 2]]``); ``numbers``: the same with floats;
- ``activation``, ``initializer``, ``regularizer``, ``constraint``: a name Keras knows
  (``relu``, ``he_normal``, ``l2``) or a ``{type: Class, ...}`` mapping of that
  namespace;
- ``layer``: a ``{type: Layer, ...}`` mapping (or a list of them), for wrappers;
- ``any``: not checked.

``choices`` (strings) are enforced; they come only from the Keras source (the value
checked with ``not in`` a fixed collection, or ``validate_string_arg``), or from the
standard ``padding`` and ``data_format`` rules. ``suggestions`` are the values a
docstring names where the source does not pin them down: offered for completion,
never enforced. ``case_insensitive``: Keras lowercases the value. ``nullable``:
``null`` is accepted (the default is ``null``, or Keras or its docstring says so).
"""

from __future__ import annotations

import argparse
import ast
import functools
import inspect
import json
import math
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from graphspec.files import write_atomic

CATALOGUE_PATH = Path(__file__).with_name("catalogue.json")

NAMESPACES = ("activations", "initializers", "regularizers", "constraints", "optimizers", "losses", "metrics")
CLASS_NAMESPACES = ("initializers", "regularizers", "constraints", "optimizers", "losses", "metrics")

# Where the **kwargs walk stops, as in graphspec.compiler.constructor_arguments.
_STOP_CLASSES = ("Layer", "Operation", "Initializer", "Regularizer", "Constraint", "Optimizer", "Loss", "Metric")

# Sizes, strides, shapes and axes: an int or a (nested) list of ints, whatever one
# layer's docstring says (Keras normalises them with standardize_tuple or takes
# sequences).
_INTS_ARGUMENTS = {
    "kernel_size",
    "strides",
    "dilation_rate",
    "pool_size",
    "size",
    "cropping",
    "output_padding",
    "target_shape",
    "dims",
    "output_size",
    "noise_shape",
    "shared_axes",
    "axis",
    "axes",
    "attention_axes",
    "tile_grid_size",
}

# Counts whose docstrings say "Number of ..." or "Size of ...": integers.
_INT_ARGUMENTS = {
    "units",
    "filters",
    "num_heads",
    "num_query_heads",
    "num_key_value_heads",
    "head_dim",
    "key_dim",
    "value_dim",
    "input_dim",
    "output_dim",
    "n",
    "num_bins",
}

_LAYER_ARGUMENTS = {"layer", "backward_layer", "cell", "cells", "layers"}

# Arguments whose values are not plain data in any layer.
_ANY_ARGUMENTS = {
    "dtype",  # a dtype name or a DTypePolicy; policy names are free-form ("mixed_float16")
    "use_cudnn",  # "auto", True or False
    "bounding_box_format",
}

# Corrections for one class (or "*": every class) where the rules above would be too
# strict, each checked against the Keras source.
_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    # Rescaling casts scale and offset to tensors: per-channel lists work.
    ("Rescaling", "scale"): {"type": "numbers"},
    ("Rescaling", "offset"): {"type": "numbers"},
    # Documented as an integer, used as a float (alpha / rank).
    ("*", "lora_alpha"): {"type": "float", "nullable": True},
}

_JSON_TYPES = (str, int, float, bool, type(None))
_QUOTED = re.compile(r'"([A-Za-z0-9_\-]+)`?"')
_SEQUENCE_WORDS = re.compile(r"\b(tuple|list|sequence|iterable|dict|dictionary|array|tensor|callable|instance|object)s?\b")
_INT_WORDS = re.compile(r"^(optional[.,]? )?(a |an |the )?(positive |non-negative |strictly positive )?(int|integer)\b")
_FLOAT_WORDS = re.compile(r"^(optional[.,]? )?(a |the )?(positive |non-negative |small )?float\b")
_BOOL_WORDS = re.compile(r"^(optional[.,]? )?(a |the )?(bool|boolean)\b")
_OTHER_TYPE_WORDS = re.compile(r"^(optional[.,]? )?(a |an |the )?(positive |single )?(int|integer|float|string|str|tuple|list|dict|callable|number)\b")


# -- constructors ------------------------------------------------------------------


def constructor_parameters(cls: type) -> tuple[list[inspect.Parameter] | None, set[str]]:
    """The keyword parameters of `cls`'s constructor, following ``**kwargs`` up the MRO,
    and the names a subclass passes to its base itself (not for the caller to give).

    The same walk as `graphspec.compiler.constructor_arguments`, keeping each
    parameter of the most derived class that declares it. The list is None when it
    cannot be told (a class outside Keras that takes ``**kwargs``).
    """
    found: dict[str, inspect.Parameter] = {}
    internal: set[str] = set()
    pending_positional = 0
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        try:
            parameters = list(inspect.signature(klass.__init__).parameters.values())
        except (TypeError, ValueError):
            return None, internal
        positional = [p for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD and p.name != "self"]
        internal |= {p.name for p in positional[:pending_positional]} - set(found)
        for p in parameters:
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                found.setdefault(p.name, p)
        keywords, pending_positional = _passed_to_base(klass)
        internal |= keywords - set(found)
        if not any(p.kind is p.VAR_KEYWORD for p in parameters) or klass.__name__ in _STOP_CLASSES:
            return [p for name, p in found.items() if name not in internal], internal
    if cls.__module__.split(".")[0] != "keras":
        return None, internal
    return [p for name, p in found.items() if name not in internal], internal


def _passed_to_base(klass: type) -> tuple[set[str], int]:
    """(keyword names, number of positional arguments) `klass.__init__` gives ``super().__init__``."""
    tree = _parse(vars(klass)["__init__"])
    if tree is None:
        return set(), 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__init__":
            target = node.func.value
            is_super = isinstance(target, ast.Call) and isinstance(target.func, ast.Name) and target.func.id == "super"
            if not is_super:
                continue
            keywords = {k.arg for k in node.keywords if k.arg is not None}
            positional = sum(1 for a in node.args if not isinstance(a, ast.Starred))
            return keywords, positional
    return set(), 0


@functools.cache
def _source(obj: Any) -> str | None:
    """`inspect.getsource`, once per object: each call parses the object's whole module
    (every layer asks again for the sources of its base classes)."""
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return None


def _parse(obj: Any) -> ast.AST | None:
    source = _source(obj)
    try:
        return ast.parse(textwrap.dedent(source)) if source is not None else None
    except SyntaxError:
        return None


def docstring_arguments(cls: type) -> dict[str, str]:
    """Argument name -> its description, from the ``Args:`` sections along the MRO."""
    found: dict[str, str] = {}
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != "keras":
            continue
        for name, text in _parse_args_section(klass.__doc__ or "").items():
            found.setdefault(name, text)
        init = vars(klass).get("__init__")
        if init is not None and init.__doc__:
            for name, text in _parse_args_section(init.__doc__).items():
                found.setdefault(name, text)
    return found


def _parse_args_section(doc: str) -> dict[str, str]:
    lines = doc.expandtabs().splitlines()
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        header = re.match(r"^(\s*)(Args|Arguments):\s*$", lines[i])
        i += 1
        if not header:
            continue
        base = len(header.group(1))
        current: str | None = None
        item_indent: int | None = None
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            indent = len(line) - len(line.lstrip())
            if indent <= base:
                break
            match = re.match(r"^\s*\**([A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?:(\s+.*)?$", line)
            if match and (item_indent is None or indent == item_indent):
                item_indent = indent
                current = match.group(1)
                out[current] = (out.get(current, "") + " " + (match.group(3) or "")).strip()
            elif current is not None:
                out[current] = (out[current] + " " + line.strip()).strip()
            i += 1
    return out


# -- what the source checks ------------------------------------------------------------


class _Unknown(Exception):
    pass


def source_choices(cls: type, name: str) -> list[Any] | None:
    """The values Keras's source checks `name` against, or None when it does not.

    Only constructors are read. Recognised: ``if name not in <collection>`` (also ``self.name``/``self._name``),
    ``validate_string_arg(name, allowable_strings=..., allow_none=...)``, with the
    collection a literal, a local, a module constant or a class attribute; values the
    source renames before checking (``if output_mode == "binary": output_mode = ...``)
    are added. A value may also be None (``allow_none``) or a bool.
    """
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != "keras":
            continue
        init = vars(klass).get("__init__")
        tree = _parse(init) if init is not None else None
        if tree is None:
            continue
        module = sys.modules.get(klass.__module__)
        for function in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "__init__"):
            found = _checked_values(function, name, klass, module)
            if found is not None:
                return found + [v for v in _renamed_values(function, name) if v not in found]
    return None


def _is_arg(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.Name):
        return node.id == name
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and node.attr in (name, "_" + name)
    )


def _checked_values(function: ast.FunctionDef, name: str, klass: type, module: Any) -> list[Any] | None:
    for node in ast.walk(function):
        try:
            if _is_not_in(node, name):
                return list(_evaluate(node.comparators[0], function, klass, module))  # type: ignore[attr-defined]
            if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) and len(node.values) == 2:
                # `if x is not None and x not in (...)`: None is accepted too.
                guard, check = node.values
                if _is_not_none(guard, name) and _is_not_in(check, name):
                    return list(_evaluate(check.comparators[0], function, klass, module)) + [None]  # type: ignore[attr-defined]
            if isinstance(node, ast.Call) and _callee(node) == "validate_string_arg" and node.args and _is_arg(node.args[0], name):
                keywords = {k.arg: k.value for k in node.keywords}
                if keywords.get("allow_callables") is not None and _evaluate(keywords["allow_callables"], function, klass, module):
                    return None  # a callable is accepted too: not a closed set
                values = list(_evaluate(keywords.get("allowable_strings", node.args[1] if len(node.args) > 1 else None), function, klass, module))
                if keywords.get("allow_none") is not None and _evaluate(keywords["allow_none"], function, klass, module):
                    values.append(None)
                return values
        except _Unknown:
            continue
    return None


def _is_not_in(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Compare)
        and _is_arg(node.left, name)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.NotIn)
    )


def _is_not_none(node: ast.AST, name: str) -> bool:
    return (
        isinstance(node, ast.Compare)
        and _is_arg(node.left, name)
        and len(node.ops) == 1
        and isinstance(node.ops[0], ast.IsNot)
        and isinstance(node.comparators[0], ast.Constant)
        and node.comparators[0].value is None
    )


def _callee(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _evaluate(node: ast.AST | None, function: ast.FunctionDef, klass: type, module: Any) -> Any:
    """A constant expression of Keras's source, or _Unknown."""
    if node is None:
        raise _Unknown()
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [_evaluate(e, function, klass, module) for e in node.elts]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        value = getattr(klass, node.attr, _Unknown)
        return _plain(value)
    if isinstance(node, ast.Name):
        for statement in ast.walk(function):
            if isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == node.id for t in statement.targets):
                return _evaluate(statement.value, function, klass, module)
        if module is not None and hasattr(module, node.id):
            return _plain(getattr(module, node.id))
    raise _Unknown()


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, _JSON_TYPES) for v in value):
        return sorted(value, key=repr) if isinstance(value, (set, frozenset)) else list(value)
    if isinstance(value, _JSON_TYPES):
        return value
    raise _Unknown()


def _renamed_values(function: ast.FunctionDef, name: str) -> list[Any]:
    """``if name == "binary": name = "multi_hot"``: "binary" is accepted too."""
    out = []
    for node in ast.walk(function):
        if not isinstance(node, ast.If):
            continue
        test = node.test
        if (
            isinstance(test, ast.Compare)
            and _is_arg(test.left, name)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)
            and isinstance(test.comparators[0], ast.Constant)
            and any(isinstance(s, ast.Assign) and any(_is_arg(t, name) for t in s.targets) for s in node.body)
        ):
            out.append(test.comparators[0].value)
    return out


def _lowercased(source: str, name: str) -> bool:
    return bool(re.search(rf"(?<![\w.]){re.escape(name)}\.lower\(\)|str\({re.escape(name)}\)\.lower\(\)", source))


# -- defaults and types --------------------------------------------------------------


def json_value(value: Any) -> tuple[bool, Any]:
    """(True, the JSON form) of a default, or (False, None) when it has none."""
    if isinstance(value, float) and not math.isfinite(value):
        return False, None
    if isinstance(value, _JSON_TYPES):
        return True, value
    if isinstance(value, (list, tuple)):
        items = [json_value(v) for v in value]
        if all(ok for ok, _ in items):
            return True, [v for _, v in items]
        return False, None
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        pairs = {k: json_value(v) for k, v in value.items()}
        if all(ok for ok, _ in pairs.values()):
            return True, {k: v for k, (_, v) in pairs.items()}
    return False, None


def _quoted(doc: str) -> list[str]:
    """The double-quoted words of a description, in order, without repeats."""
    out: list[str] = []
    for word in _QUOTED.findall(doc):
        if word not in out:
            out.append(word)
    return out


def _mentions_none(doc: str) -> bool:
    return bool(re.search(r"`None`|\bNone\b", doc))


def infer_type(cls: type, name: str, default: Any, has_default: bool, doc: str, source: str) -> dict[str, Any]:
    """The type entry of one layer argument (without its default)."""
    for key in ((cls.__name__, name), ("*", name)):
        if key in _OVERRIDES:
            return dict(_OVERRIDES[key])
    entry = _base_type(name, default, has_default, doc)
    if entry["type"] == "any" and isinstance(default, str) and name not in _ANY_ARGUMENTS and source_choices(cls, name) is not None:
        entry = {"type": "str"}  # the source pins the strings down, whatever else the docstring says
    if entry["type"] == "str":
        entry.update(_string_choices(cls, name, default, doc, source))
    if entry["type"] not in ("any", "activation", "initializer", "regularizer", "constraint") and (
        (has_default and default is None) or (_mentions_none(doc) and entry.get("choices") is None)
    ):
        entry["nullable"] = True
    return entry


def _base_type(name: str, default: Any, has_default: bool, doc: str) -> dict[str, Any]:
    lowered = doc.lower()
    first = lowered.strip()
    if name in _ANY_ARGUMENTS:
        return {"type": "any"}
    if name in _LAYER_ARGUMENTS:
        return {"type": "layer"}
    if name == "activation" or name.endswith("_activation"):
        return {"type": "activation"}
    for suffix in ("initializer", "regularizer", "constraint"):
        if name.endswith("_" + suffix) or name == suffix:
            return {"type": suffix}
    if name == "factor" or name.endswith("_factor"):
        return {"type": "any"}  # image preprocessing: a number or a (low, high) pair (_set_factor)
    if name == "seed":
        return {"type": "int"}  # an int, or a SeedGenerator (not writable in YAML)
    if name in _INTS_ARGUMENTS or (name == "padding" and has_default and not isinstance(default, str)):
        return {"type": "ints"}
    if name in _INT_ARGUMENTS:
        return {"type": "int"}
    if name == "data_format" or (name == "padding" and isinstance(default, str)):
        return {"type": "str"}
    if isinstance(default, bool):
        if _OTHER_TYPE_WORDS.match(first) and not _BOOL_WORDS.match(first):
            return {"type": "any"}
        return {"type": "bool"}
    if isinstance(default, str):
        if _SEQUENCE_WORDS.search(lowered) or (_OTHER_TYPE_WORDS.match(first) and not re.match(r"^(optional[.,]? )?(a |the )?(string|str)\b", first)):
            return {"type": "any"}
        return {"type": "str"}
    if isinstance(default, int):
        if not doc or _SEQUENCE_WORDS.search(lowered) or re.search(r"\b(float|string)\b", lowered):
            return {"type": "any"}
        return {"type": "int"}
    if isinstance(default, float):
        if _SEQUENCE_WORDS.search(lowered) or re.search(r"\b(string|int)\b", lowered):
            return {"type": "any"}
        return {"type": "float"}
    if isinstance(default, tuple) and default and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in default):
        return {"type": "numbers"}
    if not has_default or default is None:
        # No default to go by: only what the docstring states outright.
        if _SEQUENCE_WORDS.search(lowered) or re.search(r"\bstring\b", lowered):
            return {"type": "any"}
        if _INT_WORDS.match(first) and "float" not in lowered:
            return {"type": "int"}
        if _FLOAT_WORDS.match(first):
            return {"type": "float"}
        if _BOOL_WORDS.match(first):
            return {"type": "bool"}
    return {"type": "any"}


def _string_choices(cls: type, name: str, default: Any, doc: str, source: str) -> dict[str, Any]:
    """Enforced ``choices`` (from the source or the standard rules) or ``suggestions``."""
    out: dict[str, Any] = {}
    values = source_choices(cls, name)
    if name == "data_format" and values is None:
        # backend.standardize_data_format: None or one of these, case-insensitive.
        values = ["channels_last", "channels_first", None]
        out["case_insensitive"] = True
    elif name == "padding" and values is None and isinstance(default, str):
        # argument_validation.standardize_padding, or the backend pooling ops.
        values = ["valid", "same"]
        if re.search(r"allow_causal\s*=\s*True", source) or (
            re.search(r"allow_causal\s*=\s*rank\s*==\s*1", source) and "1D" in cls.__name__
        ) or ('"causal"' in doc and "1D" in cls.__name__):
            values.append("causal")
        if "case-insensitive" in doc.lower() or "standardize_padding(padding" in source or _lowercased(source, name):
            out["case_insensitive"] = True
    elif values is not None and _lowercased(source, name):
        out["case_insensitive"] = True
    if values is not None:
        strings = [v for v in values if isinstance(v, str)]
        if not strings or any(not isinstance(v, (str, type(None))) for v in values) or (isinstance(default, str) and default not in strings):
            return {"type": "any"}
        out["choices"] = strings
        if None in values:
            out["nullable"] = True
        return out
    suggestions = [w for w in _quoted(doc) if w not in ("None", "True", "False")]
    if isinstance(default, str) and default not in suggestions and suggestions:
        suggestions.insert(0, default)
    if len(suggestions) >= 2:
        out["suggestions"] = suggestions
    return out


def _loose_type(name: str, default: Any, has_default: bool) -> dict[str, Any]:
    """Types for the arguments of initializers, optimizers, losses...: the plain cases only."""
    for suffix in ("initializer", "regularizer", "constraint"):
        if name.endswith("_" + suffix):
            return {"type": suffix}
    if isinstance(default, bool):
        return {"type": "bool"}
    if isinstance(default, float) and name != "learning_rate":
        return {"type": "float", **({"nullable": True} if default is None else {})}
    return {"type": "any"}


# -- classes -------------------------------------------------------------------------


def describe_class(cls: type, kind: str) -> dict[str, Any]:
    """The catalogue entry of one class: its arguments, or ``open`` when unknown."""
    parameters, internal = constructor_parameters(cls)
    entry: dict[str, Any] = {"class": cls.__name__}
    if parameters is None:
        entry["open"] = True
        entry["args"] = {}
        return entry
    docs = docstring_arguments(cls)
    source = _source_text(cls) if kind == "layers" else ""
    summary = _summary((cls.__doc__ or "").strip().split("\n\n")[0])
    if summary:
        entry["doc"] = summary
    args: dict[str, Any] = {}
    for p in parameters:
        if p.name == "name":
            continue
        has_default = p.default is not inspect.Parameter.empty
        default = p.default if has_default else None
        if kind == "layers":
            info = infer_type(cls, p.name, default, has_default, docs.get(p.name, ""), source)
        else:
            info = _loose_type(p.name, default, has_default)
        if has_default:
            ok, value = json_value(p.default)
            if ok:
                info["default"] = value
            else:
                info["default_unjsonable"] = True
        else:
            info["required"] = True
        doc = _summary(docs.get(p.name, ""))
        if doc:
            info["doc"] = doc
        args[p.name] = info
    entry["args"] = args
    if internal - {"name"}:
        entry["passed_by_class"] = sorted(internal - {"name"})
    return entry


def _summary(text: str, limit: int = 200) -> str:
    """The first sentence of a description, on one line, at most `limit` characters."""
    text = " ".join(text.split())
    for match in re.finditer(r"(?<=[a-z0-9)`\]])\.(\s|$)", text):
        if not re.search(r"\b(e\.g|i\.e|etc|vs)$", text[: match.start()]):
            text = text[: match.start() + 1]
            break
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _source_text(cls: type) -> str:
    parts = []
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != "keras":
            continue
        source = _source(klass)
        if source is not None:
            parts.append(source)
    return "\n".join(parts)


def _takes_list(cls: type) -> bool:
    """Merge layers, Attention and AdditiveAttention take a list of tensors as their input."""
    return any(k.__name__ == "Merge" for k in cls.__mro__) or cls.__name__ in ("Attention", "AdditiveAttention")


def _several_outputs(cls: type, args: dict[str, Any]) -> Any:
    """When the layer returns several tensors: never (False), always (True), or a list of
    ``{arg, equals}`` conditions any one of which makes it so (``layer.return_state``:
    an argument of the wrapped layer)."""
    if cls.__name__ == "Bidirectional":
        # merge_mode None returns [forward, backward]; return_state adds the states.
        return [{"arg": "merge_mode", "equals": None}, {"arg": "layer.return_state", "equals": True}]
    if cls.__name__.endswith("Cell") or cls.__name__ == "StackedRNNCells":
        return True  # a cell returns (output, new_states)
    if "return_state" in args:
        return [{"arg": "return_state", "equals": True}]
    return False


# -- names ---------------------------------------------------------------------------


def _names(kind: str) -> list[str]:
    """The strings Keras accepts as `kind` (``relu``, ``he_normal``, ``l2``, ``mse``, ``adam``)."""
    import importlib

    import keras

    module = getattr(keras, kind)
    candidates = {n for n in dir(module) if not n.startswith("_")}
    try:
        private = importlib.import_module(f"keras.src.{kind}")
        candidates |= {n for n in getattr(private, "ALL_OBJECTS_DICT", {}) if isinstance(n, str)}
    except ImportError:  # pragma: no cover - another Keras layout
        pass
    accepted = []
    for name in sorted(candidates):
        if name in ("get", "serialize", "deserialize"):
            continue
        try:
            found = module.get(name)
        except ImportError:
            # Keras knows the name; making the object needs an optional package (STFT
            # needs scipy). The catalogue lists what Keras offers, whatever is installed.
            found = True
        except Exception:
            continue
        if found is not None:
            accepted.append(name)
    if kind == "metrics":
        # model.compile resolves these itself (keras/src/trainers/compile_utils.py).
        accepted += ["accuracy", "acc", "crossentropy", "ce"]
    return sorted(set(accepted))


def _classes(kind: str) -> dict[str, Any]:
    import keras

    module = getattr(keras, kind)
    out = {}
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if name.startswith("_") or not inspect.isclass(obj):
            continue
        out[name] = describe_class(obj, kind)
    return out


def describe_keras() -> dict[str, Any]:
    """The catalogue of the installed Keras, as written to ``catalogue.json``."""
    import keras

    layers: dict[str, Any] = {}
    for name in sorted(dir(keras.layers)):
        obj = getattr(keras.layers, name)
        if name.startswith("_") or not (inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)):
            continue
        entry = describe_class(obj, "layers")
        entry["takes_list"] = _takes_list(obj)
        entry["several_outputs"] = _several_outputs(obj, entry["args"])
        layers[name] = entry
    return {
        "keras_version": keras.__version__,
        "layers": layers,
        "names": {kind: _names(kind) for kind in NAMESPACES},
        "classes": {kind: _classes(kind) for kind in CLASS_NAMESPACES},
    }


def dumps(catalogue: dict[str, Any]) -> str:
    """The stable text of a catalogue: sorted keys, indent 1, a final newline."""
    return json.dumps(catalogue, sort_keys=True, indent=1, ensure_ascii=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m graphspec.catalogue_build", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=CATALOGUE_PATH)
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from the installed Keras")
    options = parser.parse_args(argv)
    text = dumps(describe_keras())
    if options.check:
        current = options.output.read_text(encoding="utf-8") if options.output.exists() else ""
        if current != text:
            print(f"{options.output} is stale; run: python -m graphspec.catalogue_build", file=sys.stderr)
            return 1
        return 0
    write_atomic(options.output, text)
    data = json.loads(text)
    count = sum(len(v["args"]) for v in data["layers"].values())
    print(f"wrote {options.output}: {len(data['layers'])} layers, {count} layer arguments, Keras {data['keras_version']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
