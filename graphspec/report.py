"""Problems written out for people and tools: text, JSON, GitHub annotations, SARIF.

Each writer turns a list of `Problem`s into the text to print, so the CLI only picks
one (`FORMATS[name]`). The machine formats must survive any file name: a comma, colon
or percent sign in a path is escaped the way the reading side unescapes it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path, PurePath
from typing import Any
from urllib.parse import quote

import graphspec
from graphspec.errors import CODES, Problem, printable

HOMEPAGE = "https://github.com/graphspec/graphspec"
ERRORS_PAGE = f"{HOMEPAGE}/blob/main/docs/errors.md"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def format_text(problems: Sequence[Problem]) -> str:
    """One ``file:line:col: severity: message; hint [code]`` line per problem."""
    return "".join(f"{problem.format()}\n" for problem in problems)


def format_json(problems: Sequence[Problem]) -> str:
    """A JSON list of the problems' fields, plus the code's stable number (``GS201``) and group.

    ``path`` is the document path of the offending value as a list of keys and indexes
    (``["nodes", "y", "from"]``, empty when unknown), ``node`` the node's name or null,
    ``instances`` the block instances it happens in (each a list of instance names);
    ``message`` leaves the instances out (the text format appends them).
    """
    fields = ("file", "line", "column", "severity", "code", "message", "hint", "node")
    rows = [
        {
            **{k: getattr(p, k) for k in fields},
            "path": list(p.path),
            "instances": [list(i) for i in p.instances],
            "number": _number(p.code),
            "category": p.category,
        }
        for p in problems
    ]
    return json.dumps(rows, indent=2) + "\n"


def format_github(problems: Sequence[Problem]) -> str:
    """GitHub Actions workflow commands: ``::error file=F,line=L,col=C,title=T::message``.

    The runner splits the properties on ``,`` and ends them at the first ``::``, so
    property values escape ``:`` and ``,`` as well as ``%``, CR and LF (``%3A``, ``%2C``,
    ``%25``, ``%0D``, ``%0A``); the message escapes ``%``, CR and LF. Line and column are
    left out when unknown (0), which annotates the whole file. The runner drops a leading
    ``=`` from a value, so a file named ``=x.yaml`` goes out as an absolute path, which the
    runner makes relative to the workspace again.
    """
    lines = []
    for problem in problems:
        properties = {"file": os.path.abspath(problem.file) if problem.file.startswith("=") else problem.file}
        if problem.line > 0:
            properties["line"] = str(problem.line)
            if problem.column > 0:
                properties["col"] = str(problem.column)
        properties["title"] = _title(problem.code)
        encoded = ",".join(f"{key}={_github_property(value)}" for key, value in properties.items())
        lines.append(f"::{problem.severity} {encoded}::{_github_message(_message(problem))}\n")
    return "".join(lines)


def format_sarif(problems: Sequence[Problem]) -> str:
    """A SARIF 2.1.0 log with one run, for code-scanning uploads (github/codeql-action/upload-sarif).

    Every code in `CODES` is a rule (id ``GS201``, with its fix as help), so a result's
    ``ruleIndex`` is stable. File names become relative URIs, percent-encoded; run the
    command from the repository root so that they resolve against the checkout.
    """
    names = list(CODES)
    results = []
    for problem in problems:
        result: dict[str, Any] = {
            "ruleId": _number(problem.code) or problem.code,
            "level": problem.severity,
            "message": {"text": _message(problem)},
            "locations": [{"physicalLocation": _physical_location(problem)}],
        }
        if problem.code in CODES:
            result["ruleIndex"] = names.index(problem.code)
        properties = {"path": list(problem.path), "node": problem.node, "instances": [list(i) for i in problem.instances]}
        result["properties"] = {k: v for k, v in properties.items() if v}
        if not result["properties"]:
            del result["properties"]
        results.append(result)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "graphspec",
                        "version": graphspec.__version__,
                        "semanticVersion": graphspec.__version__,
                        "informationUri": HOMEPAGE,
                        "rules": [_sarif_rule(name) for name in names],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


FORMATS: dict[str, Callable[[Sequence[Problem]], str]] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
    "sarif": format_sarif,
}


def _number(code: str) -> str | None:
    return CODES[code][0] if code in CODES else None


def _title(code: str) -> str:
    return f"{CODES[code][0]} {code}" if code in CODES else code


def _message(problem: Problem) -> str:
    return problem.text + (f"; {problem.hint}" if problem.hint else "")


def _keep_line_breaks(text: str) -> str:
    """`printable`, except CR and LF, which the workflow-command escapes carry."""
    return "".join(c if c in "\r\n" else printable(c) for c in text)


def _github_message(text: str) -> str:
    text = _keep_line_breaks(text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _github_property(text: str) -> str:
    text = _github_message(text)
    return text.replace(":", "%3A").replace(",", "%2C")


def _sarif_rule(name: str) -> dict[str, Any]:
    number, meaning, fix = CODES[name]
    warning = meaning.startswith("warning: ")
    description = meaning.removeprefix("warning: ")
    return {
        "id": number,
        "name": name,
        "shortDescription": {"text": description},
        "helpUri": errors_doc_url(number),
        "help": {"text": f"{fix[:1].upper()}{fix[1:]}.", "markdown": f"**Fix:** {fix}."},
        "defaultConfiguration": {"level": "warning" if warning else "error"},
    }


# The heading of docs/errors.md each hundred of codes is listed under.
_ERRORS_SECTIONS = {
    "0": "reading-the-file",
    "1": "the-documents-structure",
    "2": "the-graph",
    "3": "params",
    "4": "blocks-and-imports",
    "5": "layers-and-keras",
    "6": "search-spaces",
    "9": "graphspec-itself",
}


def errors_doc_url(number: str | None) -> str:
    """The section of docs/errors.md that lists a code (``GS201``), for links in tools."""
    return f"{ERRORS_PAGE}#{_ERRORS_SECTIONS.get((number or '')[2:3], 'error-codes')}"


def _physical_location(problem: Problem) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(problem.file)}}
    if problem.line > 0:
        region = {"startLine": problem.line}
        if problem.column > 0:
            region["startColumn"] = problem.column
        location["region"] = region
    return location


def artifact_uri(file: str) -> str:
    """The SARIF URI of a file as the user named it: relative (to the working directory,
    percent-encoded: ``my models/a,b.yaml`` -> ``my%20models/a%2Cb.yaml``), or ``file://``
    for an absolute path outside the working directory."""
    path = PurePath(file)
    if path.is_absolute():
        try:
            path = Path(file).relative_to(Path.cwd())
        except ValueError:
            return Path(file).as_uri()
    return quote(path.as_posix(), safe="/")
