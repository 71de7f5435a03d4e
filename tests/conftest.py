"""Checks that hold in every test: each problem graphspec raises has a registered code.

A misspelt code (in the catalogue's findings, say) would print without its GS number;
any test that reaches it fails here, whichever stage made the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pytest

from graphspec import errors


@pytest.fixture(autouse=True)
def registered_codes_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = errors.SpecError.__init__

    def checked(self: errors.SpecError, problems: Iterable[errors.Problem]) -> None:
        problems = list(problems)
        unregistered = sorted({p.code for p in problems} - set(errors.CODES))
        assert not unregistered, f"problems with unregistered codes {unregistered}: add them to graphspec.errors.CODES and docs/errors.md"
        real(self, problems)

    monkeypatch.setattr(errors.SpecError, "__init__", checked)
    yield
