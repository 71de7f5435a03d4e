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


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected what they deselect
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The other-backend tests last, their child processes started now.

    tests/test_backends.py builds and trains every example in one child process per
    backend (the backend is fixed when Keras is imported); started at collection, they
    run beside the rest of the suite on the second core, and their tests, run last,
    mostly collect results.
    """
    backend_tests = [item for item in items if item.nodeid.startswith("tests/test_backends.py::test_example_on_backend")]
    if not backend_tests:
        return
    items[:] = [item for item in items if item not in backend_tests] + backend_tests
    module = backend_tests[0].module
    module._start_children()
    config.add_cleanup(module._stop_children)
