"""Params: ``$name`` substitution and ``$(expr)`` arithmetic, evaluated without `eval`.

An expression is parsed by Python's `ast` and walked by an allow-list evaluator:
numbers, param names, ``+ - * / // % **``, parentheses and unary minus. Anything
else (calls, attributes, subscripts, comparisons) is refused, and powers and results
are bounded so that ``$(10 ** 10 ** 10)`` is an error, not a hang.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphspec.errors import did_you_mean, shown

MAX_EXPRESSION_CHARS = 500
MAX_RESULT = 10**15
MAX_EXPONENT = 64


class ParamError(Exception):
    """A param or expression that cannot be resolved; the caller locates it."""

    def __init__(self, message: str, hint: str | None = None, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code
        self.path: tuple[str | int, ...] = ()  # below the value given to `substitute`


@dataclass
class Scope:
    """Param values visible at one place: a block's own params, then its parent's."""

    values: Mapping[str, Any]
    parent: Scope | None = None
    label: str = "params"
    _names: list[str] = field(default_factory=list, repr=False)

    def lookup(self, name: str) -> Any:
        """The value of param `name`, searching outwards."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.values:
                return scope.values[name]
            scope = scope.parent
        raise ParamError(
            f"unknown param '{name}'",
            hint=did_you_mean(name, self.iter_names(), "params") or "define it under 'params'",
            code="unknown-param",
        )

    def names(self) -> list[str]:
        """Every name visible from this scope."""
        return list(self.iter_names())

    def iter_names(self) -> Iterator[str]:
        """Every name visible from this scope, lazily (a spent suggestion budget reads none)."""
        scope: Scope | None = self
        while scope is not None:
            yield from scope.values
            scope = scope.parent


def is_param(value: Any) -> bool:
    """True for a string that `substitute` would change."""
    return isinstance(value, str) and value.startswith("$")


def substitute(value: Any, scope: Scope) -> Any:
    """`value` with ``$name`` and ``$(expr)`` replaced; ``$$x`` becomes the string ``$x``.

    Only whole values are substituted: ``"conv_$n"`` is refused rather than guessed at.

    Example:
        >>> substitute({"units": "$(h * 2)"}, Scope({"h": 250}))
        {'units': 500}
    """
    try:
        return _substitute(value, scope)
    except RecursionError:  # only with Limits.max_depth raised past what Python's stack holds
        raise ParamError("the value is nested too deeply for Python's recursion limit", hint="flatten it, or lower graphspec.Limits(max_depth=...)", code="limit") from None


def _substitute(value: Any, scope: Scope) -> Any:
    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        done = {}
        for key, item in items:
            try:
                done[key] = _substitute(item, scope)
            except ParamError as error:
                error.path = (key,) + error.path
                raise
        return done if isinstance(value, dict) else list(done.values())
    if not isinstance(value, str) or not value.startswith("$"):
        return value
    if value.startswith("$$"):
        return value[1:]
    if value.startswith("$(") and value.endswith(")"):
        return evaluate(value[2:-1], scope)
    name = value[1:]
    if name.isidentifier():
        return scope.lookup(name)
    raise ParamError(
        f"'{value}' is neither '$name' nor '$(expression)'",
        hint="write '$name' for a param, '$(a * 2)' for arithmetic, or '$$' for a literal '$'",
        code="bad-param",
    )


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def evaluate(expression: str, scope: Scope) -> int | float:
    """The value of an arithmetic expression over params and numbers.

    Example:
        >>> evaluate("(base * 2) // 3", Scope({"base": 32}))
        21
    """
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ParamError(f"expression longer than {MAX_EXPRESSION_CHARS} characters", code="bad-expression")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError) as error:
        raise ParamError(
            f"'$({expression})' is not an arithmetic expression ({error.msg if isinstance(error, SyntaxError) else error})",
            hint="use numbers, params, + - * / // % **, parentheses and unary minus",
            code="bad-expression",
        ) from None
    except RecursionError:
        raise ParamError(f"expression '$({expression[:40]}...)' is nested too deeply", code="bad-expression") from None
    return _eval(tree.body, scope, expression)


def _bounded(value: Any, text: str) -> int | float:
    if isinstance(value, complex) or (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_RESULT:
        raise ParamError(f"'$({text[:60]})' gives {shown(value, 40)}, outside the range of a model size (10**15)", code="bad-expression")
    return value


def _eval(node: ast.AST, scope: Scope, text: str) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return _bounded(node.value, text)
    if isinstance(node, ast.Name):
        value = scope.lookup(node.id)
        if type(value) not in (int, float):
            raise ParamError(
                f"param '{node.id}' is {shown(value)}, not a number, in '$({text})'",
                hint="arithmetic takes numeric params only",
                code="bad-expression",
            )
        return _bounded(value, text)  # an override from Python may be any number
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_eval(node.operand, scope, text))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _eval(node.left, scope, text), _eval(node.right, scope, text)
        if isinstance(node.op, ast.Pow) and (abs(right) > MAX_EXPONENT or abs(left) > MAX_RESULT):
            raise ParamError(
                f"'$({text})': power too large ({left} ** {right})",
                hint=f"exponents are limited to {MAX_EXPONENT}",
                code="bad-expression",
            )
        try:
            result = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise ParamError(f"'$({text})' divides by zero", code="bad-expression") from None
        except (OverflowError, ValueError) as error:
            raise ParamError(f"'$({text})': {error}", code="bad-expression") from None
        return _bounded(result, text)
    written = ast.unparse(node) if hasattr(ast, "unparse") else type(node).__name__
    raise ParamError(
        f"'{written}' is not allowed in '$({text})'",
        hint="only numbers, params, + - * / // % **, parentheses and unary minus",
        code="bad-expression",
    )
