"""Problems found in a spec, located in its YAML, and the one exception that carries them.

Stages collect `Problem`s and keep going where they can, so that one run reports
every mistake; a stage then raises one `SpecError` holding all of them.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """One mistake (or warning) in a spec, at a line and column of a file.

    Attributes:
        message: what is wrong, naming the node (``node 'y': unknown ref 'u2'``).
        file: the file name as given by the caller (``<string>`` for `loads`).
        line: 1-based line of the offending YAML value (0 when unknown).
        column: 1-based column.
        hint: how to fix it, one sentence.
        code: a stable kind name (``unknown-ref``), listed in docs/errors.md.
        severity: ``error`` or ``warning``.
        source_line: the text of the offending line, for the caret display.
    """

    message: str
    file: str = "<string>"
    line: int = 0
    column: int = 0
    hint: str | None = None
    code: str = "invalid"
    severity: Severity = "error"
    source_line: str | None = field(default=None, compare=False)

    def format(self, context: bool = False) -> str:
        """``file:line:col: severity: message hint [code]``, optionally with a caret line."""
        text = f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"
        if self.hint:
            text += f"; {self.hint}"
        text += f" [{self.code}]"
        if context and self.source_line is not None and self.line > 0:
            caret = " " * max(self.column - 1, 0) + "^"
            text += f"\n    {self.source_line.rstrip()}\n    {caret}"
        return text

    def __str__(self) -> str:
        return self.format()


class SpecError(Exception):
    """Every mistake in a spec, reported at once.

    ``str(error)`` is one ``file:line:col: ...`` line per problem, each followed by the
    offending YAML line and a caret under the column.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(
            _unique(problems), key=lambda p: (p.file, p.line, p.column, p.message)
        )
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return "\n".join(p.format(context=True) for p in self.problems)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out


def did_you_mean(word: str, choices: Iterable[str], what: str = "") -> str | None:
    """A hint naming the closest of `choices` to `word`, or listing a few of them."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n=3)]
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    if choices and len(choices) <= 12:
        return f"known {what or 'names'}: " + ", ".join(choices)
    return None
