"""Golden error messages: each ``tests/cases/NAME.yaml`` beside ``NAME.err``, the exact text.

A case is built from its path, which reports what `load` finds and what Keras finds in
every node that does not depend on a broken one; the `SpecError` text (after the
warnings `load` gives, when it loads) must match the golden file, and every problem
`load` (``graphspec validate``) reports must be among those `build` reports, once.
Regenerate after an intended change of wording with
``GRAPHSPEC_UPDATE_GOLDEN=1 pytest tests/test_cases.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import graphspec

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.stem for p in CASES.glob("*.yaml") if not p.stem.startswith("lib_"))


def case_text(name: str) -> str:
    """The warnings `load` gives and the problems `build` reports, as printed."""
    path = f"{name}.yaml"
    try:
        spec = graphspec.load(path)
        warnings = spec.warnings
        loaded: list[graphspec.Problem] = []
    except graphspec.SpecError as error:
        warnings, loaded = [], error.problems
    text = "".join(w.format(context=True) + "\n" for w in warnings)
    try:
        graphspec.build(path)
    except graphspec.SpecError as error:
        assert error.problems, "a SpecError always holds problems"
        for problem in error.problems:
            assert problem.line > 0 and problem.column > 0, problem
        built = error.problems
        assert len(set(built)) == len(built), "a problem reported twice"
        assert [p for p in loaded if p not in built] == [], "build dropped what validate reports"
        return text + str(error) + "\n"
    if warnings and not loaded:
        return text
    pytest.fail(f"{name}.yaml raised no SpecError and gave no warning")


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    actual = case_text(name)
    golden = CASES / f"{name}.err"
    if os.environ.get("GRAPHSPEC_UPDATE_GOLDEN") or not golden.exists():
        golden.write_text(actual)
        if not os.environ.get("GRAPHSPEC_UPDATE_GOLDEN"):
            pytest.fail(f"wrote the missing golden file {golden.name}; review it and rerun")
    assert actual == golden.read_text()
    first = actual.splitlines()[0]
    assert first.startswith(f"{name}.yaml:"), first
