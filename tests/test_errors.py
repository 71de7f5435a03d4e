"""errors.py: every problem kind has a registered, documented code, and a golden case that shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphspec.errors import CODES, Problem, SpecError

ROOT = Path(__file__).parent.parent
CASES = ROOT / "tests" / "cases"

# Codes no spec file can reach with today's Keras: the last-resort paths when Keras itself
# refuses an assembled model or its compile call. tests/test_compiler.py reaches them by
# making Keras refuse (test_keras_refusing_the_model_or_its_compile_is_located).
# internal-error is a bug in graphspec by definition: tests/test_attacks.py reaches it by
# making a stage fail (test_validate_goes_on_after_an_internal_error).
WITHOUT_CASE = {"bad-model", "bad-compile", "internal-error"}


def golden_text() -> str:
    return "".join(path.read_text() for path in sorted(CASES.glob("*.err")))


def test_every_code_is_documented_once() -> None:
    docs = (ROOT / "docs" / "errors.md").read_text()
    for name, (number, _, _) in CODES.items():
        assert f"| {number} | `{name}` |" in docs, f"docs/errors.md lacks {number} {name}"
    numbers = [number for number, _, _ in CODES.values()]
    assert len(numbers) == len(set(numbers))
    documented = set(re.findall(r"^\| (GS\d{3}) \| `([a-z-]+)` \|", docs, re.M))
    assert documented == {(number, name) for name, (number, _, _) in CODES.items()}


@pytest.mark.parametrize("name", sorted(CODES))
def test_every_code_has_a_golden_case(name: str) -> None:
    shown = f"[{CODES[name][0]} {name}]"
    if name in WITHOUT_CASE:
        assert shown not in golden_text(), f"{name} has a golden case now: remove it from WITHOUT_CASE"
        return
    assert shown in golden_text(), f"no tests/cases/*.err shows {shown}: add a case"


def test_golden_cases_show_only_registered_codes() -> None:
    problems = re.findall(r"^\S+\.yaml:\d+:\d+: (?:error|warning): .*$", golden_text(), re.M)
    assert len(problems) > 100, "the golden files show problems"
    for line in problems:
        match = re.search(r" \[(GS\d{3}) ([a-z-]+)\]$", line)
        assert match, f"a problem without a numbered code: {line}"
        assert CODES.get(match.group(2), ("",))[0] == match.group(1), line


def test_an_unregistered_code_fails_every_test_that_raises_it() -> None:
    """tests/conftest.py checks each SpecError a test makes."""
    with pytest.raises(AssertionError, match=r"unregistered codes \['unknwon-ref'\]"):
        SpecError([Problem("node 'u': unknown ref 'zz'", code="unknwon-ref")])


def test_format_and_caret() -> None:
    problem = Problem("node 'u': unknown ref 'zz'", file="b.yaml", line=3, column=5, hint="did you mean 'z'?", code="unknown-ref", source_line="  u: {from: zz}")
    assert str(problem) == "b.yaml:3:5: error: node 'u': unknown ref 'zz'; did you mean 'z'? [GS201 unknown-ref]"
    assert str(SpecError([problem])).splitlines()[1:] == ["      u: {from: zz}", "        ^"]


def test_problems_are_sorted_and_unique() -> None:
    a = Problem("a", file="f", line=2, column=1, code="unknown-ref")
    b = Problem("b", file="f", line=1, column=1, code="unknown-ref")
    assert SpecError([a, b, a]).problems == [b, a]


def test_messages_speak_the_spec_language() -> None:
    """No Pydantic wording or internal class name reaches a message (the slip_* cases are structural mistakes)."""
    text = golden_text().lower()
    for words in ("input should be", "valid dictionary", "instance of", "nodespec", "inputspec", "blockspec", "compilespec", "expectspec", "pydantic", "field required"):
        assert words not in text, words
    assert len(list(CASES.glob("slip_*.err"))) >= 6
