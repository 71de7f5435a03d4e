"""docs/architecture.md matches the code: every function it names exists, and `check`
runs the stages in the order its table lists them."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

from graphspec import api

DOC = (Path(__file__).parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
STAGES = ["read", "validate", "link", "analyze", "expand", "lower"]


def _resolve(dotted: str) -> object:
    """The object a dotted name such as ``graphspec.source.parse_yaml`` names."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ImportError(dotted)


def _table() -> dict[str, list[str]]:
    """stage -> the dotted names in its row's function column."""
    rows = {}
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in STAGES:
            rows[cells[0]] = re.findall(r"`(graphspec(?:\.\w+)+)`", cells[1])
    return rows


def test_every_dotted_name_in_the_doc_exists() -> None:
    names = sorted(set(re.findall(r"`(graphspec(?:\.\w+)+)`", DOC)))
    assert len(names) >= 15
    for name in names:
        assert _resolve(name) is not None, name


def test_the_table_has_the_six_stages_in_order() -> None:
    table = _table()
    assert list(table) == STAGES
    assert all(table[stage] for stage in STAGES)


def test_check_calls_the_stages_in_the_order_of_the_table() -> None:
    """The first function of each row up to expand is called in `check`'s body, in order;
    lower's is called by `build_checked`."""
    table = _table()

    def called(function: object) -> list[str]:
        tree = ast.parse(inspect.getsource(function).lstrip())  # type: ignore[arg-type]
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
        return [n.func.id for n in sorted(calls, key=lambda n: (n.lineno, n.col_offset))]  # type: ignore[attr-defined]

    in_check = called(api.check)
    first = [table[stage][0].rsplit(".", 1)[1] for stage in STAGES[:-1]]
    positions = [in_check.index(name) for name in first]
    assert positions == sorted(positions), first
    for stage, name in zip(STAGES[:-1], first, strict=True):
        assert getattr(api, name) is _resolve(table[stage][0]), stage  # the very function the doc names
    assert "compile_model" in called(api.build_checked)
    assert table["lower"][0] == "graphspec.compiler.compile_model"
