"""Params overrides files: ``name: value`` lines, read by ``--params-file``, written by ``tune``.

The file is read like a spec (safe YAML 1.2 scalars, no tags, line and column in every
message), so ``1e-3`` is a float and ``off`` a string, as they are in ``params:``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path as FilePath
from typing import Any

from graphspec.errors import SpecError
from graphspec.imports import read_text
from graphspec.source import Limits, _plain_scalar, parse_yaml
from graphspec.spec import NAME


def read_overrides(path: str | os.PathLike[str], limits: Limits | None = None) -> dict[str, Any]:
    """``{param: value}`` from an overrides file.

    Raises:
        SpecError: the file cannot be read (code ``io``), is not YAML, or is not a mapping
            of param names to values.

    Example:
        >>> read_overrides("best.yaml")  # doctest: +SKIP
        {'units_1': 384, 'learning_rate': 0.0021}
    """
    shown = os.fspath(path)
    limits = limits or Limits()
    document = parse_yaml(read_text(FilePath(shown), shown, limits), shown, limits)
    problems = []
    for name, value in document.data.items():
        if not isinstance(name, str) or not NAME.match(name):
            problems.append(document.source.problem((name,), f"'{name}' is not a param name", key=True, hint="an overrides file maps param names to values: 'units: 256'", code="bad-name"))
        elif isinstance(value, dict):
            problems.append(document.source.problem((name,), f"param '{name}': an override is a value or a list, found a mapping", hint="write 'name: value' lines; a params file has no sections", code="wrong-type"))
    if problems:
        raise SpecError(problems)
    return dict(document.data)


def format_overrides(params: Mapping[str, Any], comments: Sequence[str] = ()) -> str:
    """The text of an overrides file: comment lines, then one ``name: value`` line per param.

    Every value reads back as the same value (`read_overrides`), which a test checks.
    """
    lines = [f"# {line}".rstrip() for line in comments]
    lines += [f"{name}: {format_value(value)}" for name, value in params.items()]
    return "\n".join(lines) + "\n"


def format_value(value: Any) -> str:
    """A scalar or list as YAML that graphspec reads back as the same value (``--param`` too)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        return text if _plain_scalar(text) == value else f"{value:.17g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    text = str(value)
    plain = text and _plain_scalar(text) == text and text.strip() == text and not any(c in text for c in ":#[]{},&*!|>'\"%@`") and text[0] not in "-?$~"
    return text if plain else json.dumps(text)
