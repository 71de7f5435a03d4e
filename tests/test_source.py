"""source.py: YAML to plain data with line and column of every value, loaded safely."""

from __future__ import annotations

import pytest

from graphspec import Limits, SpecError
from graphspec.source import parse_yaml


def test_positions_of_values_and_keys() -> None:
    doc = parse_yaml("nodes:\n  h_1: {type: Dense, units: 5}\n", "f.yaml")
    assert doc.data == {"nodes": {"h_1": {"type": "Dense", "units": 5}}}
    value = doc.source.values[("nodes", "h_1", "units")]
    key = doc.source.keys[("nodes", "h_1", "units")]
    assert (value.line, value.column) == (2, 29)
    assert (key.line, key.column) == (2, 22)
    # A path that is not in the file is located at its nearest ancestor.
    assert doc.source.locate(("nodes", "h_1", "missing")) == doc.source.values[("nodes", "h_1")]


@pytest.mark.parametrize(
    "text, value",
    [
        ("1e-3", 0.001),
        ("1.5", 1.5),
        ("10_000", 10000),
        ("0x10", 16),
        ("-.inf", float("-inf")),
        ("on", "on"),  # YAML 1.2: not a boolean
        ("yes", "yes"),
        ("true", True),
        ("null", None),
        ("~", None),
        ("'12'", "12"),
        ("$hidden", "$hidden"),
    ],
)
def test_scalars_follow_yaml_1_2(text: str, value: object) -> None:
    assert parse_yaml(f"a: {text}").data["a"] == value


def test_python_tag_is_refused_and_not_run(tmp_path) -> None:
    marker = tmp_path / "ran"
    text = f"a: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(SpecError) as error:
        parse_yaml(text, "x.yaml")
    assert error.value.problems[0].code == "yaml-tag"
    assert str(error.value).startswith("x.yaml:1:4:")
    assert not marker.exists()


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(SpecError) as error:
        parse_yaml("a: 1\nb: 2\na: 3\n", "d.yaml")
    assert str(error.value).startswith("d.yaml:3:1: error: duplicate key 'a' (first at line 1)")


def test_billion_laughs_fails_fast() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    with pytest.raises(SpecError) as error:
        parse_yaml("\n".join(lines), "laughs.yaml")
    assert error.value.problems[0].code == "limit"
    assert "more than 2,000,000 values" in error.value.problems[0].message  # counted, never expanded


def test_limits_can_be_raised() -> None:
    text = "a: " + "[" * 70 + "]" * 70
    with pytest.raises(SpecError):
        parse_yaml(text)
    assert parse_yaml(text, limits=Limits(max_depth=100)).data["a"] is not None


@pytest.mark.parametrize("text, start", [("", "f.yaml:1:1: error: the file is empty"), ("- a\n- b\n", "f.yaml:1:1: error: a spec must be a mapping"), ("a: [1, 2\n", "f.yaml:1:4: error: YAML syntax error: the '[' opened here is not closed (the parser gave up at line 2)")])
def test_not_a_spec(text: str, start: str) -> None:
    with pytest.raises(SpecError) as error:
        parse_yaml(text, "f.yaml")
    assert str(error.value).startswith(start)
