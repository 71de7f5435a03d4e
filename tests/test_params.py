"""params.py: $name and $(expr) substitution, and the allow-list evaluator."""

from __future__ import annotations

import pytest

from graphspec.params import ParamError, Scope, evaluate, substitute


def test_substitution_keeps_types() -> None:
    scope = Scope({"hidden": 500, "act": "relu", "shape": [28, 28]})
    assert substitute({"units": "$hidden", "activation": "$act", "s": "$shape"}, scope) == {
        "units": 500,
        "activation": "relu",
        "s": [28, 28],
    }


def test_literal_dollar() -> None:
    assert substitute("$$5", Scope({})) == "$5"


@pytest.mark.parametrize(
    "expression, value",
    [("base * 2", 64), ("(base + 1) // 2", 16), ("-base", -32), ("base / 4", 8.0), ("2 ** 10", 1024), ("base % 5", 2), ("1e-3 * 2", 0.002)],
)
def test_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression, Scope({"base": 32})) == value


def test_inner_scope_sees_outer() -> None:
    outer = Scope({"base": 8, "filters": 1})
    inner = Scope({"filters": 64}, parent=outer)
    assert substitute("$(filters + base)", inner) == 72


@pytest.mark.parametrize(
    "expression, words",
    [
        ("__import__('os').system('true')", "not allowed"),
        ("base.real", "not allowed"),
        ("[1, 2]", "not allowed"),
        ("10 ** 10 ** 10", "power too large"),
        ("1 / 0", "divides by zero"),
        ("base +", "not an arithmetic expression"),
        ("basee * 2", "unknown param 'basee'"),
        ("name * 2", "not a number"),
    ],
)
def test_refused_expressions(expression: str, words: str) -> None:
    with pytest.raises(ParamError) as error:
        evaluate(expression, Scope({"base": 32, "name": "x"}))
    assert words in error.value.message


def test_unknown_param_suggests_closest() -> None:
    with pytest.raises(ParamError) as error:
        substitute({"a": ["$hiden"]}, Scope({"hidden": 1}))
    assert error.value.hint == "did you mean 'hidden'?"
    assert error.value.path == ("a", 0)
