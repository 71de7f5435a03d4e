"""Golden error messages: each ``tests/cases/NAME.yaml`` beside ``NAME.err``, the exact text.

A case is loaded (no Keras) and, when loading passes, built; the `SpecError` text must
match the golden file. A ``warn_*`` case builds, and its warnings' text must match. Regenerate after an intended change of wording with
``GRAPHSPEC_UPDATE_GOLDEN=1 pytest tests/test_cases.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import graphspec

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.stem for p in CASES.glob("*.yaml") if not p.stem.startswith("lib_"))


def error_text(name: str) -> str:
    """The SpecError's text; for a ``warn_*`` case, which loads, its warnings with carets."""
    if name.startswith("warn_"):
        spec = graphspec.load(f"{name}.yaml")
        graphspec.build(spec)  # a warning case builds
        assert spec.warnings, f"{name}.yaml gives no warning"
        return "\n".join(p.format(context=True) for p in spec.warnings) + "\n"
    try:
        spec = graphspec.load(f"{name}.yaml")
        graphspec.build(spec)
    except graphspec.SpecError as error:
        assert error.problems, "a SpecError always holds problems"
        for problem in error.problems:
            assert problem.line > 0 and problem.column > 0, problem
        return str(error) + "\n"
    pytest.fail(f"{name}.yaml raised no SpecError")


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)
    actual = error_text(name)
    golden = CASES / f"{name}.err"
    if os.environ.get("GRAPHSPEC_UPDATE_GOLDEN") or not golden.exists():
        golden.write_text(actual)
        if not os.environ.get("GRAPHSPEC_UPDATE_GOLDEN"):
            pytest.fail(f"wrote the missing golden file {golden.name}; review it and rerun")
    assert actual == golden.read_text()
    first = actual.splitlines()[0]
    assert first.startswith(f"{name}.yaml:"), first
