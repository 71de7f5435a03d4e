"""The JSON Schema of a graphspec file, for editors and other tools.

    graphspec schema --update

`json_schema` builds it from the Pydantic models of `graphspec.spec` (the top-level
keys, inputs, blocks, compile, expect) and the layer catalogue
(`graphspec.catalogue`): once a node's ``type`` is known, its own arguments are
offered for completion, with their documentation and defaults, and checked
(``units`` an integer, ``padding`` one of ``valid``/``same``, no unknown argument).
Every value that may hold a param also accepts ``$name`` and ``$(...)``.

The schema declares JSON Schema 2020-12 but uses only keywords that draft-07 tools
(yaml-language-server, which editors use for YAML) understand the same way:
``if``/``then`` per layer type, ``anyOf``, ``enum``, ``pattern``, and ``$ref``
without sibling keywords. No Keras import.

What it does not check, because only the loader can: refs and the graph, params and
their expressions, blocks' own params, and the types of custom layers (any ``type``
string is accepted; the Keras layer names are offered for completion).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from graphspec import catalogue
from graphspec.files import write_atomic
from graphspec.spec import MERGES, NAME, REF, TWO_INPUT_MERGES, Spec

# The schema ships in the package (editors and `schema --check` find it from an install) and
# at the repository's top level (what the examples' `$schema` lines point to); one text.
PACKAGE_SCHEMA = Path(__file__).resolve().parent / "graphspec.schema.json"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "graphspec.schema.json"
REGENERATE = "graphspec schema --update"


def shipped_schemas() -> list[Path]:
    """The schema files this installation keeps: the package's, and the checkout's when there is one."""
    return [PACKAGE_SCHEMA] + ([SCHEMA_PATH] if SCHEMA_PATH.parent.is_dir() else [])

_OBJECT_KINDS = {
    "initializer": "initializers",
    "regularizer": "regularizers",
    "constraint": "constraints",
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{name}"}


PARAM = _ref("Param")
NULL = {"type": "null"}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a whole graphspec file."""
    base = Spec.model_json_schema(ref_template="#/$defs/{model}")
    defs: dict[str, Any] = dict(base.pop("$defs", {}))
    defs.update(_common_defs())
    defs.update(_layer_defs())
    for kind, namespace in _OBJECT_KINDS.items():
        defs.update(_object_defs(kind.capitalize(), namespace))
    for kind, namespace in (("Optimizer", "optimizers"), ("Loss", "losses"), ("Metric", "metrics")):
        defs.update(_object_defs(kind, namespace))
    defs["NodeSpec"] = _node_schema()
    _patch_models(base, defs)
    _share_arguments(defs)
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "graphspec file (language version 1)",
        "description": (
            "A neural-network graph in YAML, compiled into a Keras functional model by graphspec "
            f"(layer catalogue from Keras {catalogue.keras_version()})."
        ),
    }
    schema.update({k: v for k, v in base.items() if k not in ("title", "description")})
    schema["$defs"] = dict(sorted(defs.items()))
    return schema


# -- shared definitions ----------------------------------------------------------------


def _common_defs() -> dict[str, Any]:
    name_pattern = NAME.pattern
    ints_item = {"anyOf": [{"type": "integer"}, NULL, {"type": "array", "items": _ref("IntsItem")}, PARAM]}
    numbers_item = {"anyOf": [{"type": "number"}, NULL, {"type": "array", "items": _ref("NumbersItem")}, PARAM]}
    return {
        "Param": {
            "type": "string",
            "pattern": r"^\$",
            "description": "A param: $name for a value of 'params', or $(expression) for arithmetic on params.",
        },
        "Name": {"type": "string", "pattern": name_pattern},
        "Ref": {
            "type": "string",
            "pattern": REF.pattern,
            "description": "A node or input name, or name.k for one output of a node with several.",
        },
        "From": {
            "description": "The node's inputs: one ref, a list of refs, or a mapping of call-argument names to refs.",
            "anyOf": [
                _ref("Ref"),
                {"type": "array", "items": _ref("Ref"), "minItems": 1},
                {
                    "type": "object",
                    "minProperties": 1,
                    "additionalProperties": {"anyOf": [_ref("Ref"), {"type": "array", "items": _ref("Ref"), "minItems": 1}]},
                },
            ],
        },
        "Repeat": {
            "description": "A chain of this many copies, each with its own weights.",
            "anyOf": [{"type": "integer", "minimum": 1}, PARAM],
        },
        "Outputs": {
            "anyOf": [
                {"type": "array", "items": _ref("Ref"), "minItems": 1},
                {"type": "object", "propertyNames": _ref("Name"), "additionalProperties": _ref("Ref"), "minProperties": 1},
            ]
        },
        "Params": {
            "type": "object",
            "propertyNames": _ref("Name"),
            "description": "Named values, used as $name; overridable at build time.",
        },
        "IntsItem": ints_item,
        "NumbersItem": numbers_item,
        "Activation": {
            "anyOf": [
                {"enum": catalogue.known_names("activations")},
                NULL,
                PARAM,
                _ref("KerasObject"),
            ]
        },
        "KerasObject": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {
                    "anyOf": [
                        {"enum": sorted({n for ns in ("layers", "initializers", "regularizers", "constraints") for n in catalogue.class_names(ns)})},
                        _registered(),
                        PARAM,
                    ]
                }
            },
        },
        "LayerType": {
            "description": "A Keras layer class, or the name of a custom layer the caller registers.",
            "anyOf": [{"enum": catalogue.layer_names()}, {"type": "string"}],
        },
        "Layer": {
            "description": "A layer, written as a mapping such as {type: LSTM, units: 64}.",
            "type": "object",
            "required": ["type"],
            "properties": {"type": _ref("LayerType")},
            "allOf": [_ref("LayerArguments")],
        },
        "Layers": {"anyOf": [_ref("Layer"), {"type": "array", "items": _ref("Layer")}]},
    }


def _registered() -> dict[str, Any]:
    """A name registered with keras.saving.register_keras_serializable: ``package>Name``."""
    return {"type": "string", "pattern": ">"}


def _case_insensitive(words: list[str]) -> str:
    def letters(word: str) -> str:
        return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)

    return "^(?:" + "|".join(letters(w) for w in words) + ")$"


def argument_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """The schema of one argument from its catalogue entry."""
    kind = spec.get("type", "any")
    out: dict[str, Any] = {}
    if spec.get("doc"):
        out["description"] = spec["doc"]
    if "default" in spec:
        out["default"] = spec["default"]
    nullable = bool(spec.get("nullable") or ("default" in spec and spec["default"] is None))
    options: list[dict[str, Any]]
    if kind == "any":
        return out
    if kind == "int":
        options = [{"type": "integer"}, PARAM]
    elif kind == "float":
        options = [{"type": "number"}, PARAM]
    elif kind == "bool":
        options = [{"type": "boolean"}, PARAM]
    elif kind == "ints":
        options = [{"type": "integer"}, {"type": "array", "items": _ref("IntsItem")}, PARAM]
    elif kind == "numbers":
        options = [{"type": "number"}, {"type": "array", "items": _ref("NumbersItem")}, PARAM]
    elif kind == "str":
        if spec.get("choices"):
            options = [{"enum": list(spec["choices"])}, PARAM]
            if spec.get("case_insensitive"):
                options.append({"type": "string", "pattern": _case_insensitive(spec["choices"])})
        elif spec.get("suggestions"):
            options = [{"enum": list(spec["suggestions"])}, {"type": "string"}]
        else:
            options = [{"type": "string"}]
    elif kind == "activation":
        options = [_ref("Activation")]
    elif kind in _OBJECT_KINDS:
        options = [_ref(kind.capitalize())]
    elif kind == "layer":
        options = [_ref("Layers")]
    else:
        return out
    if nullable and kind not in ("activation",) + tuple(_OBJECT_KINDS):
        options.append(NULL)
    out["anyOf"] = options
    return out


def _arguments_schema(info: dict[str, Any], extra: dict[str, Any], name: str) -> dict[str, Any]:
    """``{properties, additionalProperties, required}`` for a class's arguments."""
    properties = dict(extra)
    for arg, spec in info.get("args", {}).items():
        properties[arg] = argument_schema(spec)
    schema: dict[str, Any] = {}
    doc = info.get("doc")
    schema["description"] = f"{name}: {doc}" if doc else name
    schema["properties"] = properties
    if not info.get("open"):
        schema["additionalProperties"] = False
    required = [arg for arg, spec in info.get("args", {}).items() if spec.get("required")]
    if required:
        schema["required"] = required
    return schema


def _share_arguments(defs: dict[str, Any]) -> None:
    """Argument schemas written alike in several classes (``kernel_initializer`` of
    every convolution) become one ``Arg_...`` definition each, referenced."""
    prefixes = ("Layer_", "Initializer_", "Regularizer_", "Constraint_", "Optimizer_", "Loss_", "Metric_")
    owners = [d for name, d in defs.items() if name.startswith(prefixes)]
    uses: dict[tuple[str, str], int] = {}
    for schema in owners:
        for arg, sub in schema.get("properties", {}).items():
            text = json.dumps(sub, sort_keys=True)
            if len(text) > 40:
                uses[(arg, text)] = uses.get((arg, text), 0) + 1
    names: dict[tuple[str, str], str] = {}
    variants: dict[str, int] = {}
    for arg, text in sorted(k for k, count in uses.items() if count > 1):
        variants[arg] = variants.get(arg, 0) + 1
        name = f"Arg_{arg}" + (f"_{variants[arg]}" if variants[arg] > 1 else "")
        names[(arg, text)] = name
        defs[name] = json.loads(text)
    for schema in owners:
        properties = schema.get("properties", {})
        for arg, sub in properties.items():
            name = names.get((arg, json.dumps(sub, sort_keys=True)))
            if name:
                properties[arg] = _ref(name)


def _if_type(key: str, name: str, then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": {key: {"const": name}}, "required": [key]}, "then": then}


# -- layers ----------------------------------------------------------------------------


def _layer_defs() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    branches = []
    node_keys = {"type": True, "from": _ref("From"), "repeat": _ref("Repeat")}
    names = catalogue.layer_names()
    for name in names:
        info = catalogue.layer_info(name) or {}
        # An alias (Convolution2D) shares its class's definition (Conv2D).
        target = info.get("class", name) if info.get("class") in names else name
        if target == name:
            defs[f"Layer_{name}"] = _arguments_schema(info, node_keys, name)
        branches.append(_if_type("type", name, _ref(f"Layer_{target}")))
    defs["LayerArguments"] = {
        "description": "Each Keras layer's own arguments, once 'type' names it.",
        "allOf": branches,
    }
    return defs


def _object_defs(kind: str, namespace: str) -> dict[str, Any]:
    """``Initializer`` (a name, a {type: ...} mapping...), ``InitializerObject``, and one
    ``Initializer_HeNormal`` per class; the same for the other namespaces."""
    defs: dict[str, Any] = {}
    branches = []
    classes = catalogue.class_names(namespace)
    for name in classes:
        info = catalogue.class_info(namespace, name) or {}
        defs[f"{kind}_{name}"] = _arguments_schema(info, {"type": True}, name)
        branches.append(_if_type("type", name, _ref(f"{kind}_{name}")))
    defs[f"{kind}Object"] = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": {"anyOf": [{"enum": classes}, _registered(), PARAM]}},
        "allOf": branches,
    }
    names = sorted(set(catalogue.known_names(namespace)))
    if namespace in _OBJECT_KINDS.values():
        # Strings Keras resolves itself (initializers.get also takes class names) and
        # names registered with Keras.
        names = sorted(set(names) | {n for n in classes if n[:1].isupper()})
        defs[kind] = {"anyOf": [{"enum": names}, _registered(), PARAM, NULL, _ref(f"{kind}Object")]}
    else:
        # compile: Keras's names are offered; any string is let through (custom objects).
        defs[kind] = {"anyOf": [{"enum": names}, {"type": "string"}, NULL, _ref(f"{kind}Object")]}
    return defs


# -- nodes -------------------------------------------------------------------------------


def _node_schema() -> dict[str, Any]:
    branches: list[dict[str, Any]] = [_ref("LayerArguments")]
    for merge in MERGES:
        info = catalogue.layer_info(merge.capitalize()) or {}
        size: dict[str, Any] = {"minItems": 2, "maxItems": 2} if merge in TWO_INPUT_MERGES else {"minItems": 2}
        keys = {"merge": True, "from": {"type": "array", "items": _ref("Ref"), **size}}
        branches.append(_if_type("merge", merge, _arguments_schema(info, keys, merge)))
    branches.append(
        {
            "if": {"required": ["share"]},
            "then": {
                "description": "share: calls another node's layer (or block model) again; no arguments.",
                "properties": {"share": True, "from": _ref("From")},
                "additionalProperties": False,
            },
        }
    )
    return {
        "description": "A node: a layer (type), merge, share or block, with 'from' and its arguments.",
        "type": "object",
        "properties": {
            "type": _ref("LayerType"),
            "merge": {"description": "A merge of two or more inputs.", "enum": list(MERGES)},
            "share": {"description": "Calls the layer of this node again (the same weights).", "allOf": [_ref("Name")]},
            "block": {"description": "An instance of a block defined under 'blocks'; other keys are its params.", "allOf": [_ref("Name")]},
            "from": _ref("From"),
            "repeat": _ref("Repeat"),
        },
        "required": ["from"],
        "oneOf": [{"required": [key]} for key in ("type", "merge", "share", "block")],
        "allOf": branches,
    }


def _patch_models(base: dict[str, Any], defs: dict[str, Any]) -> None:
    """Tighten the Pydantic schemas where the language says more than the models."""
    properties = base["properties"]
    properties["params"] = _ref("Params")
    properties["outputs"] = _ref("Outputs")
    for key in ("inputs", "nodes", "blocks"):
        properties[key]["propertyNames"] = _ref("Name")
    inputs = defs["InputSpec"]["properties"]
    inputs["shape"] = {
        "description": "The input's shape without the batch dimension; null for a dimension of any size.",
        "anyOf": [{"type": "array", "items": {"anyOf": [{"type": "integer", "minimum": 0}, NULL, PARAM]}}, PARAM],
    }
    inputs["dtype"] = {
        "description": "The input's dtype; float32 unless given.",
        "anyOf": [{"enum": list(catalogue.DTYPES)}, PARAM, NULL],
    }
    block = defs["BlockSpec"]["properties"]
    block["params"] = {
        "description": "The block's params and their defaults; a param given as null must be passed by every block node.",
        "type": "object",
        "propertyNames": _ref("Name"),
    }
    block["inputs"] = {"type": "array", "items": _ref("Name"), "minItems": 1}
    block["nodes"]["propertyNames"] = _ref("Name")
    block["outputs"] = _ref("Outputs")
    block["model"] = {
        "description": "true: each block node is one nested keras.Model (shared as a unit); false (default): its layers join the enclosing model, named instance_node.",
        "type": "boolean",
        "default": False,
    }
    compile_ = defs["CompileSpec"]["properties"]
    loss_value = _ref("Loss")
    compile_["optimizer"] = {"description": "An optimizer name or {type: Adam, learning_rate: 0.001}.", "anyOf": [_ref("Optimizer"), PARAM]}
    compile_["loss"] = {
        "description": "A loss, a list of losses, or a mapping of output names to losses.",
        "anyOf": [loss_value, {"type": "array", "items": loss_value}, _by_output(loss_value)],
    }
    metric_list = {"type": "array", "items": {"anyOf": [_ref("Metric"), {"type": "array", "items": _ref("Metric")}]}}
    metrics = {
        "description": "A list of metrics, or a mapping of output names to metrics.",
        "anyOf": [metric_list, _by_output({"anyOf": [_ref("Metric"), {"type": "array", "items": _ref("Metric")}]}), NULL],
    }
    compile_["metrics"] = metrics
    compile_["weighted_metrics"] = metrics
    for key in ("run_eagerly", "auto_scale_loss"):
        compile_[key] = {"anyOf": [{"type": "boolean"}, PARAM, NULL], "default": None}
    compile_["jit_compile"] = {"description": "true, false or auto (XLA when the backend supports it).", "anyOf": [{"type": "boolean"}, {"const": "auto"}, PARAM, NULL], "default": None}
    compile_["steps_per_execution"] = {"anyOf": [{"type": "integer", "minimum": 1}, PARAM, NULL], "default": None}


def _by_output(value: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "not": {"required": ["type"]}, "additionalProperties": value}


# -- command line ------------------------------------------------------------------------


def dumps(schema: dict[str, Any]) -> str:
    """The text written to the schema file: indent 1, a final newline."""
    return json.dumps(schema, indent=1, ensure_ascii=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="graphspec schema", description="Write the JSON Schema of graphspec files.")
    parser.add_argument("-o", "--output", type=Path, help="the file to write (default: standard output)")
    parser.add_argument("--update", action="store_true", help="rewrite the shipped schema files")
    parser.add_argument("--check", action="store_true", help="exit 1 when --output (default: the shipped files) differs from the schema")
    parser.add_argument("--path", action="store_true", help="print where the installed schema file is (for an editor's $schema)")
    options = parser.parse_args(argv)
    if options.path:
        print(PACKAGE_SCHEMA)
        return 0
    text = dumps(json_schema())
    targets = [options.output] if options.output else shipped_schemas()
    if options.check:
        stale = [t for t in targets if not t.exists() or t.read_text(encoding="utf-8") != text]
        for target in stale:
            print(f"{target} is {'stale' if target.exists() else 'missing'}; run: {REGENERATE}", file=sys.stderr)
        return 1 if stale else 0
    if not (options.update or options.output):
        sys.stdout.write(text)
        return 0
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
