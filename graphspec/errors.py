"""Problems found in a spec, located in its YAML, and the one exception that carries them.

Stages collect `Problem`s and keep going where they can, so that one run reports
every mistake; a stage then raises one `SpecError` holding all of them.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

Severity = Literal["error", "warning"]

# Every kind of problem: name -> (stable number, what it means, how to fix it).
# docs/errors.md lists them with an example each; tests keep the three in step.
CODES: dict[str, tuple[str, str, str]] = {
    # Reading the file
    "io": ("GS001", "the file cannot be read, or is not UTF-8 text", "check the path; save the file as UTF-8"),
    "yaml-syntax": ("GS002", "YAML syntax error", "fix indentation, colons and brackets at or before the line"),
    "not-a-mapping": ("GS003", "the file is empty or not a mapping of keys", "start from the example in the README"),
    "duplicate-key": ("GS004", "a key appears twice in one mapping (YAML would silently keep the last)", "remove or rename one"),
    "yaml-tag": ("GS005", "an explicit YAML tag (!!python/..., !!binary, !custom)", "remove the tag: specs are plain data"),
    "yaml-merge-key": ("GS006", "a merge key '<<'", "write the keys out, or use a block"),
    "yaml-key": ("GS007", "a mapping key that is a list or mapping", "use plain names as keys"),
    "limit": ("GS008", "the file exceeds a resource limit (size, depth, alias expansion, integer range, node count, block depth, imports)", "shrink it, or raise graphspec.Limits for trusted files"),
    # The document's structure
    "unknown-key": ("GS101", "a key the language does not have", "use the suggested key"),
    "missing-key": ("GS102", "a required key is missing or empty (inputs, nodes, outputs, from)", "add it"),
    "wrong-type": ("GS103", "a value of the wrong type", "write a value of the type named"),
    "bad-name": ("GS104", "a name that is not an identifier", "use letters, digits and '_', not starting with a digit"),
    "duplicate-name": ("GS105", "two things with the same name (an input and a node, a repeat copy and a node)", "rename one"),
    "version": ("GS106", "a language version other than 1", "write 'graphspec: 1'"),
    "node-kind": ("GS107", "a node with none, or several, of type/merge/share/block", "give the node exactly one"),
    "unknown-merge": ("GS108", "a merge that is not one of the eight", "use concatenate, add, subtract, multiply, average, maximum, minimum or dot"),
    "merge-inputs": ("GS109", "a merge with too few (or, for subtract and dot, not exactly two) inputs", "list the refs to merge"),
    "share-arguments": ("GS110", "arguments on a share node", "remove them: a share uses the shared node's layer"),
    "repeat": ("GS111", "a repeat that is not a positive integer, or on a node that cannot repeat", "write 'repeat: N' on a layer or block node with one input"),
    # The graph
    "unknown-ref": ("GS201", "a ref to no node or input", "use the suggested name"),
    "bad-ref": ("GS202", "a 'from' that is not a ref, list or mapping of refs", "write 'from: x', 'from: [a, b]' or 'from: {query: q}'"),
    "unknown-output": ("GS203", "'name.k' selects an output the node does not have", "use an existing index or block output name"),
    "cycle": ("GS204", "nodes that feed back into themselves", "break one 'from' of the cycle"),
    "bad-share": ("GS205", "a share of something without a layer of its own", "share a layer or block node"),
    "unused-node": ("GS206", "warning: a node no output uses", "remove it or add it to outputs"),
    "too-many-inputs": ("GS207", "a layer that takes one tensor given several", "merge them first: {merge: concatenate, from: [...]}"),
    "unused-input": ("GS208", "warning: an input no output uses (the model still demands it)", "remove it"),
    "unused-block-output": ("GS209", "warning: an output of a block node that no ref uses (a flat block does not create the layers only it needs)", "use it, or remove the output from the block"),
    "unknown-output-name": ("GS210", "a compile loss, loss_weights or metrics mapping names no output of the model", "use an output's name: a mapping key of outputs, or a listed ref with '.' as '_'"),
    # Params
    "unknown-param": ("GS301", "a param that is not defined (or an override of none)", "use the suggested name, or define it under params"),
    "bad-param": ("GS302", "a '$' value that is neither $name nor $(expression)", "write $name, $(expression), or $$ for a literal $"),
    "bad-expression": ("GS303", "an expression that is not plain arithmetic, or out of bounds", "use numbers, params, + - * / // % **, parentheses"),
    "missing-param": ("GS304", "a block param without default not passed by the block node", "pass it as an argument of the block node"),
    # Blocks and imports
    "unknown-block": ("GS401", "a block node naming no block", "define the block or import its library"),
    "block-inputs": ("GS402", "a block node's 'from' does not match the block's inputs", "list one ref per block input, or map them by name"),
    "recursive-block": ("GS403", "a block that uses itself, directly or through others", "break the loop"),
    "import-outside": ("GS404", "an import that leaves the importing file's directory tree", "move the library, or allow_imports_outside=True"),
    "import-missing": ("GS405", "an import that cannot be read", "check the path, relative to the importing file"),
    "import-cycle": ("GS406", "libraries that import each other", "break the cycle"),
    "import-clash": ("GS407", "two blocks of the same name from different files", "rename one"),
    # Layers and Keras
    "unknown-type": ("GS501", "a layer or object type that Keras does not have and the caller did not register", "use the suggested name, or pass custom_objects"),
    "unknown-argument": ("GS502", "an argument the layer's constructor does not take", "use the suggested argument"),
    "bad-argument": ("GS503", "an argument value Keras rejects", "see the message for the value Keras expects"),
    "refused": ("GS504", "a layer whose arguments are code (Lambda, TFSMLayer, ...)", "write a custom layer and pass it in custom_objects"),
    "bad-choice": ("GS505", "a value outside the choices Keras allows (padding: smae)", "use one of the listed values"),
    "unknown-name": ("GS506", "an activation, initializer or similar name Keras does not know", "use the suggested name"),
    "shape": ("GS507", "Keras cannot apply the layer to tensors of these shapes", "check the shapes on the node's inputs"),
    "bad-shape": ("GS508", "an input shape that is not a list of positive integers or null", "write e.g. shape: [28, 28, 1]"),
    "bad-input": ("GS509", "an input Keras rejects (dtype, options)", "see the message"),
    "bad-model": ("GS510", "Keras cannot assemble the model from these outputs", "see the message"),
    "bad-compile": ("GS511", "a compile section Keras rejects", "see the message"),
    "expectation": ("GS512", "the built model differs from its 'expect' section", "update 'expect' if the change is intended"),
    "missing-argument": ("GS513", "a required constructor argument is missing (Dense without units)", "add it"),
    # Search spaces (docs/search.md)
    "bad-search": ("GS601", "a search entry that is not a choice list, an int range or a float range", "write {choice: [a, b]}, {int: [low, high]} or {float: [low, high]}"),
    "bad-range": ("GS602", "a search range with no values: low above high, an empty choice, a step that is not positive or misses high, a log scale from 0 or below", "fix the bounds or the step as the message says"),
    "search-default": ("GS603", "a param whose default lies outside its search space", "make the default one of the values searched"),
    "bad-condition": ("GS604", "a 'when' condition on a param that is not searched earlier, or on a value it never takes", "condition on an earlier choice or int param, with values it takes"),
    # graphspec itself
    "internal-error": ("GS900", "graphspec failed on this file with an unexpected exception (a bug)", "please report it with the file; the other files are still checked"),
}

# What one message shows at most: a `SpecError` holding many problems, or a value or
# source line of a megabyte, costs time and memory in proportion to what is shown, not
# to what the spec holds.
MAX_MESSAGE_CHARS = 500  # of a problem's message and of its hint
MAX_LINE_CHARS = 160  # of the source line under a message: a window around the column
MAX_PROBLEMS_SHOWN = 100  # in ``str(SpecError)``; ``SpecError.problems`` holds them all
MAX_VALUE_CHARS = 60  # of a value quoted in a message (`shown`)



@dataclass(frozen=True)
class Problem:
    """One mistake (or warning) in a spec, at a line and column of a file.

    Attributes:
        message: what is wrong, naming the node (``node 'y': unknown ref 'u2'``).
        file: the file name as given by the caller (``<string>`` for `loads`).
        line: 1-based line of the offending YAML value (0 when unknown).
        column: 1-based column.
        hint: how to fix it, one sentence.
        code: a stable kind name (``unknown-ref``), one of `CODES`; shown with its number.
            Required, by keyword: every problem says what kind it is.
        severity: ``error`` or ``warning``.
        source_line: the text of the offending line, for the caret display.
        path: the document path of the offending value (``("nodes", "y", "from")``),
            ``()`` when unknown.
        node: the name of the node it is about, or None.
        instances: the block instances it happens in, each a path of instance names
            (``("enc", "block_1")``); shown after the message, ``(in enc > block_1)``.
    """

    message: str
    file: str = "<string>"
    line: int = 0
    column: int = 0
    hint: str | None = None
    code: str = field(kw_only=True)
    severity: Severity = "error"
    source_line: str | None = field(default=None, compare=False)
    path: tuple[str | int, ...] = ()
    node: str | None = None
    instances: tuple[tuple[str, ...], ...] = ()

    @property
    def category(self) -> str:
        """The kind's group, from its GS number: ``file``, ``structure``, ``graph``, ``params``,
        ``blocks``, ``imports``, ``keras``, ``search`` or ``internal`` (``unknown`` for a code not in `CODES`)."""
        return category(self.code)

    @property
    def text(self) -> str:
        """The message with the block instances it happens in: ``... (in enc, dec)``."""
        named = [" > ".join(i) for i in self.instances if i]
        if not named:
            return self.message
        shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
        return f"{self.message} (in {shown})"

    def __post_init__(self) -> None:
        # A message quotes names and values from the spec: bounded here, once, whatever
        # the stage that wrote it (a 1 MB `type:` gives a message of 500 characters).
        object.__setattr__(self, "message", clip(self.message, MAX_MESSAGE_CHARS))
        if self.hint is not None:
            object.__setattr__(self, "hint", clip(self.hint, MAX_MESSAGE_CHARS))

    def format(self, context: bool = False) -> str:
        """``file:line:col: severity: message hint [code]``, optionally with a caret line."""
        text = f"{printable(self.file)}:{self.line}:{self.column}: {self.severity}: {printable(self.text)}"
        if self.hint:
            text += f"; {printable(self.hint)}"
        text += f" [{CODES[self.code][0]} {self.code}]" if self.code in CODES else f" [{self.code}]"
        if context and self.source_line is not None and self.line > 0:
            line, column = window(self.source_line.rstrip(), self.column)
            caret = " " * max(column - 1, 0) + "^"
            text += f"\n    {line}\n    {caret}"
        return text

    def __str__(self) -> str:
        return self.format()


# Groups of problem kinds by GS number, low end inclusive: (first, last, group).
CATEGORIES: tuple[tuple[int, int, str], ...] = (
    (1, 99, "file"),
    (101, 199, "structure"),
    (201, 299, "graph"),
    (301, 399, "params"),
    (401, 403, "blocks"),
    (404, 499, "imports"),
    (501, 599, "keras"),
    (601, 699, "search"),
    (900, 999, "internal"),
)


def category(code: str) -> str:
    """The group of a problem kind, from its GS number (``GS405`` -> ``imports``);
    ``unknown`` for a code not in `CODES`."""
    if code not in CODES:
        return "unknown"
    number = int(CODES[code][0][2:])
    return next((group for first, last, group in CATEGORIES if first <= number <= last), "unknown")


def printable(text: str) -> str:
    """`text` with control characters escaped (``\\x1b``), so a spec cannot drive the terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def clip(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters, keeping its start and end."""
    if len(text) <= limit:
        return text
    tail = min(limit // 5, 80)
    return f"{text[: limit - tail]}...({len(text):,} characters)...{text[-tail:]}"


def window(line: str, column: int) -> tuple[str, int]:
    """The printable part of a source line around `column`, and the column within it.

    A line of a megabyte shows ``MAX_LINE_CHARS`` around the column, marked ``...`` where cut.
    """
    half = MAX_LINE_CHARS // 2
    start = max(0, min(column - 1 - half, len(line) - MAX_LINE_CHARS))
    end = start + MAX_LINE_CHARS
    before = printable(line[start : column - 1]) if column - 1 > start else ""
    shown = ("..." if start else "") + before
    caret_column = len(shown) + 1
    shown += printable(line[max(column - 1, start) : end]) + ("..." if end < len(line) else "")
    return shown, caret_column


def shown(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value as a message quotes it (``repr``), cut to `limit` characters.

    Integers too long to print (Python refuses ``str`` of more than 4,300 digits) and long
    strings are described instead of copied whole.
    """
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        if value.bit_length() > 200:  # about 60 decimal digits
            return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
        return clip(repr(value), limit)
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return repr(value[: limit - 10])[:-1] + f"...' ({len(value):,} characters)"
    if isinstance(value, (list, tuple, dict)) and longer_than(value, limit):
        kind = type(value).__name__
        return f"a {'mapping' if kind == 'dict' else kind} of {len(value):,} items"
    try:
        return clip(repr(value), limit)
    except ValueError:  # a huge integer inside a container
        return f"a {type(value).__name__}"


def longer_than(value: Any, limit: int) -> bool:
    """Whether `value`'s repr would be longer than about `limit`, found without building it."""
    budget = [limit]

    def walk(item: Any) -> bool:
        budget[0] -= 2
        if budget[0] < 0:
            return True
        if isinstance(item, dict):
            return any(walk(k) or walk(v) for k, v in item.items())
        if isinstance(item, (list, tuple)):
            return any(walk(v) for v in item)
        if isinstance(item, str):
            budget[0] -= len(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            budget[0] -= item.bit_length() // 3
        else:
            budget[0] -= 8
        return budget[0] < 0

    return walk(value)


class SpecError(Exception):
    """Every mistake in a spec, reported at once.

    ``str(error)`` is one ``file:line:col: ...`` line per problem, each followed by the
    offending YAML line and a caret under the column.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = sorted(
            _unique(problems), key=lambda p: (p.file, p.line, p.column, p.text)
        )
        super().__init__(self.__str__())

    def __str__(self) -> str:
        shown_problems = [p.format(context=True) for p in self.problems[:MAX_PROBLEMS_SHOWN]]
        more = len(self.problems) - MAX_PROBLEMS_SHOWN
        if more > 0:
            shown_problems.append(f"... and {more:,} more problems (SpecError.problems holds them all)")
        return "\n".join(shown_problems)


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out


# "Did you mean": each suggestion compares the word with every choice, so a spec with as
# many mistakes as names would cost time quadratic in its size. One budget per `load`,
# `loads`, `build` or `plot` (or per call outside them): suggestions are given while it
# lasts, later mistakes are reported without one. It counts suggestions and the choices
# they compare (difflib's ratio costs up to tens of microseconds each), so the time all
# suggestions of one call take is bounded whatever the number of names.
MAX_SUGGESTIONS = 20
MAX_SUGGESTION_COMPARISONS = 20_000
MAX_SUGGESTED_WORD = 100  # a longer word is no misspelling of a name; no suggestion
_suggestions_left: ContextVar[list[int] | None] = ContextVar("graphspec_suggestions_left", default=None)


@contextlib.contextmanager
def suggestion_budget(count: int = MAX_SUGGESTIONS, comparisons: int = MAX_SUGGESTION_COMPARISONS) -> Iterator[None]:
    """Give at most `count` suggestions, comparing at most `comparisons` choices, inside; a budget already open is kept."""
    if _suggestions_left.get() is not None:
        yield
        return
    token = _suggestions_left.set([count, comparisons])
    try:
        yield
    finally:
        _suggestions_left.reset(token)


def budgeted(function: Callable[P, R]) -> Callable[P, R]:
    """`function` run inside a `suggestion_budget` (the pipeline's entry points)."""

    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with suggestion_budget():
            return function(*args, **kwargs)

    return run


def close_matches(word: str, choices: Iterable[str], n: int = 3) -> list[str]:
    """The `choices` closest to `word` (case-insensitively if none is close): the one suggestion function.

    Empty when the budget of `suggestion_budget` is spent, or `word` is too long to be a name.
    """
    left = _suggestions_left.get()
    if (left is not None and left[0] <= 0) or len(word) > MAX_SUGGESTED_WORD:
        return []
    names = sorted({c for c in choices if isinstance(c, str) and len(c) <= MAX_SUGGESTED_WORD * 2})
    if left is not None:
        if left[1] < len(names):
            left[0] = 0  # too many names for what is left: spent (or each later call would sort them again)
            return []
        left[0] -= 1
        left[1] -= len(names)
    close = difflib.get_close_matches(word, names, n=n, cutoff=0.6)
    if not close and (left is None or left[1] >= len(names)):
        if left is not None:
            left[1] -= len(names)
        lowered = {c.lower(): c for c in names}
        close = [lowered[m] for m in difflib.get_close_matches(word.lower(), lowered, n=n)]
    return close


def did_you_mean(word: str, choices: Iterable[str], what: str = "") -> str | None:
    """A hint naming the closest of `choices` to `word`, or listing them when there are few.

    `choices` may be lazy: once the suggestion budget is spent, at most 13 of them are read.
    """
    left = _suggestions_left.get()
    if (left is None or left[0] > 0) and len(word) <= MAX_SUGGESTED_WORD:
        choices = list(choices)
        close = close_matches(word, choices)
        if close:
            return "did you mean " + " or ".join(f"'{clip(c, MAX_VALUE_CHARS)}'" for c in close) + "?"
        few = choices[:13]
    else:
        few = list(itertools.islice(iter(choices), 13))
    if few and len(few) <= 12:
        return f"known {what or 'names'}: " + ", ".join(clip(str(c), MAX_VALUE_CHARS) for c in sorted(set(map(str, few))))
    return None
