"""errors.py: every problem kind has a registered, documented code."""

from __future__ import annotations

import re
from pathlib import Path

from graphspec.errors import CODES, Problem, SpecError

ROOT = Path(__file__).parent.parent


def test_every_code_used_is_registered_and_documented() -> None:
    used = set()
    for path in (ROOT / "graphspec").glob("*.py"):
        used |= set(re.findall(r'code="([a-z-]+)"', path.read_text()))
        used |= set(re.findall(r'"(unknown-type|refused)"\)?$', path.read_text(), re.M))
    assert used - set(CODES) == set()
    docs = (ROOT / "docs" / "errors.md").read_text()
    for name, (number, _, _) in CODES.items():
        assert f"| {number} | `{name}` |" in docs, f"docs/errors.md lacks {number} {name}"
    numbers = [number for number, _, _ in CODES.values()]
    assert len(numbers) == len(set(numbers))


def test_format_and_caret() -> None:
    problem = Problem("node 'u': unknown ref 'zz'", file="b.yaml", line=3, column=5, hint="did you mean 'z'?", code="unknown-ref", source_line="  u: {from: zz}")
    assert str(problem) == "b.yaml:3:5: error: node 'u': unknown ref 'zz'; did you mean 'z'? [GS201 unknown-ref]"
    assert str(SpecError([problem])).splitlines()[1:] == ["      u: {from: zz}", "        ^"]


def test_problems_are_sorted_and_unique() -> None:
    a = Problem("a", file="f", line=2, column=1)
    b = Problem("b", file="f", line=1, column=1)
    assert SpecError([a, b, a]).problems == [b, a]
