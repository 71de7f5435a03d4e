"""Diagnostics: every problem `graphspec.loads` finds in an open file and in the block
libraries it imports, each at the span of the key or value it names.

The editor's unsaved text of every open file is what the pipeline reads: while
`check` runs, `graphspec.imports.read_text` answers from the open buffers first (see
`buffers`), so a library edited but not saved is checked as shown.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from graphspec import imports as _imports
from graphspec.api import loads
from graphspec.errors import CODES, Problem, SpecError
from graphspec.lsp.document import Span, SpecText, looks_like_library, refs_of
from graphspec.report import errors_doc_url
from graphspec.source import collector_paused

_SUGGESTION = re.compile(r"did you mean ((?:'[^']*'(?: or )?)+)\?")
_LIBRARY_CHECK = ".graphspec-lsp-library-check.yaml"  # the spec that imports a lone library


@dataclass(frozen=True)
class Finding:
    """A problem ready to be shown: where (file and span), how bad, what, and the fix."""

    file: str
    span: Span
    severity: str
    code: str
    message: str
    hint: str | None = None
    path: tuple[str | int, ...] = ()  # the problem's document path, () when unknown

    @property
    def number(self) -> str | None:
        """The stable number of the code (``GS201``), None for the editor's own warnings."""
        return CODES[self.code][0] if self.code in CODES else None

    @property
    def docs(self) -> str:
        """The section of docs/errors.md that lists the code."""
        return errors_doc_url(self.number)

    @property
    def suggestions(self) -> list[str]:
        """The names a did-you-mean hint offers, best first."""
        match = _SUGGESTION.search(self.hint or "")
        return re.findall(r"'([^']*)'", match.group(1)) if match else []


@dataclass
class Result:
    """One check of one file: findings by file (the file itself and its libraries)."""

    file: str
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    read: set[str] = field(default_factory=set)  # the libraries it imported (real paths)


# -- the open buffers ----------------------------------------------------------------

_BUFFERS: dict[str, str] = {}  # real path -> text of each file open in the editor
_READS = threading.local()
_original_read_text = _imports.read_text


def _read_text(target: FilePath, shown: str, limits: Any) -> str:
    """`graphspec.imports.read_text`, answering from the editor's buffers first."""
    real = os.path.realpath(target)
    reads = getattr(_READS, "files", None)
    if reads is not None:
        reads.add(real)
    if real in _BUFFERS:
        return _BUFFERS[real]
    return _original_read_text(target, shown, limits)


def set_buffer(file: str, text: str | None) -> None:
    """The editor's text of `file` (None: closed, read it from disk again)."""
    real = os.path.realpath(file)
    if text is None:
        _BUFFERS.pop(real, None)
    else:
        _BUFFERS[real] = text


@contextlib.contextmanager
def buffers() -> Iterator[set[str]]:
    """Imports read the open buffers while inside; yields the set of files read."""
    _imports.read_text = _read_text  # type: ignore[assignment]
    _READS.files = set()
    try:
        yield _READS.files
    finally:
        _READS.files = None
        _imports.read_text = _original_read_text  # type: ignore[assignment]


def file_text(file: str) -> str | None:
    """The text of `file`: its buffer if open, else the disk's; None if unreadable."""
    real = os.path.realpath(file)
    if real in _BUFFERS:
        return _BUFFERS[real]
    try:
        with open(file, encoding="utf-8-sig") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


# -- checking ------------------------------------------------------------------------


def check(file: str, text: str, parsed: SpecText | None = None, texts: Callable[[str], str | None] = file_text) -> Result:
    """Every problem in `text` (the file `file`) and in the libraries it imports.

    Args:
        file: the file's absolute path (imports are relative to it).
        text: its text as the editor has it.
        parsed: `text` as a `SpecText` (whose spans are reused), if the caller has it.
        texts: the text of another file, to locate problems found there.
    """
    parsed = parsed or SpecText(file, text)
    problems: list[Problem] = []
    result = Result(file)
    with buffers() as read, collector_paused():
        if looks_like_library(text):
            problems = _check_library(file)
        else:
            try:
                spec = loads(text, file=file)
                problems = list(spec.warnings)
            except SpecError as error:
                problems = list(error.problems)
    result.read = {r for r in read if r != os.path.realpath(file)}
    sources: dict[str, SpecText] = {os.path.realpath(file): parsed}
    for problem in problems:
        where = os.path.realpath(problem.file) if problem.file != "<string>" else os.path.realpath(file)
        if where not in sources:
            other = texts(problem.file)
            sources[where] = SpecText(problem.file, other if other is not None else "")
        shown_file = file if where == os.path.realpath(file) else problem.file
        span = sources[where].span_at(max(problem.line, 1), max(problem.column, 1))
        result.findings.setdefault(shown_file, []).append(
            Finding(shown_file, span, problem.severity, problem.code, problem.text, problem.hint, problem.path)
        )
    return result


def _check_library(file: str) -> list[Problem]:
    """A block library on its own: the problems of a spec that imports it and nothing else."""
    folder = FilePath(file).parent
    wrapper = folder / _LIBRARY_CHECK
    text = (
        "graphspec: 1\n"
        f"imports: ['{FilePath(file).name.replace(chr(39), chr(39) * 2)}']\n"
        "inputs: {x: {shape: [1]}}\nnodes: {y: {type: Identity, from: x}}\noutputs: [y]\n"
    )
    try:
        spec = loads(text, file=str(wrapper))
        problems = list(spec.warnings)
    except SpecError as error:
        problems = list(error.problems)
    return [p for p in problems if FilePath(p.file).name != _LIBRARY_CHECK]


def uses(value: Any) -> list[str]:
    """The node names a ``from`` value reads."""
    return [ref.split(".")[0] for ref, _ in refs_of(value) if isinstance(ref, str)]
