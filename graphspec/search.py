"""The ``search:`` section: the space a hyperparameter search explores, beside the params.

Each entry names a top-level param and the values a tuner may give it::

    params: {units: 256, rate: 0.001, activation: tanh, deep: false, units_3: 64}
    search:
      units: {int: [64, 512], step: 64}           # 64, 128, ..., 512
      rate: {float: [1.0e-4, 1.0e-2], log: true}  # log-uniform
      activation: [relu, tanh]                    # a list is a choice
      deep: {choice: [false, true]}
      units_3: {int: [32, 128], when: {deep: true}}  # searched only when deep is true

The checks run at load, so a wrong range is a `SpecError` at its line before any model
is built. A param's default (its value under ``params``) must lie inside its space: that
is the model `graphspec build` makes and the first point a tuner may try. This module
imports neither Keras, KerasTuner nor Optuna; `hypermodel` and `suggest` import the
library they serve when called.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from graphspec.errors import Problem, SpecError, did_you_mean
from graphspec.params import ParamError, Scope, substitute
from graphspec.source import Path, SourceMap
from graphspec.spec import Spec
from graphspec.spec import _describe as describe

if TYPE_CHECKING:
    import keras_tuner

Kind = Literal["choice", "int", "float"]
KINDS: tuple[Kind, ...] = ("choice", "int", "float")
ENTRY_KEYS = ("choice", "int", "float", "step", "log", "when")
FORMS = "{choice: [a, b]}, {int: [low, high]}, {float: [low, high]} or a list of choices"


@dataclass(frozen=True)
class Condition:
    """A dimension is searched only while param `param` takes one of `values`."""

    param: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Dimension:
    """One searched param: a choice list, or an int or float range (step or log scale).

    Attributes:
        name: the param.
        kind: ``choice``, ``int`` or ``float``.
        default: the param's value under ``params`` (inside the space).
        values: the choices (``choice`` only).
        low, high: the bounds, both included (ranges only).
        step: the grid spacing, or None for every value (int: 1) of the range.
        log: sample on a log scale.
        when: conditions on earlier dimensions; all must hold for this one to be searched.
    """

    name: str
    kind: Kind
    default: Any
    values: tuple[Any, ...] = ()
    low: int | float | None = None
    high: int | float | None = None
    step: int | float | None = None
    log: bool = False
    when: tuple[Condition, ...] = ()

    def contains(self, value: Any) -> bool:
        """Whether `value` is a point of this dimension."""
        if self.kind == "choice":
            return any(_same(value, v) for v in self.values)
        if not _is_number(value) or (self.kind == "int" and type(value) is not int):
            return False
        assert self.low is not None and self.high is not None
        if not self.low <= value <= self.high:
            return False
        return self.step is None or _on_grid(value, self.low, self.step)

    def as_data(self) -> dict[str, Any]:
        """The entry as it is written in YAML (plus its default), e.g. for JSON output."""
        data: dict[str, Any] = {"choice": list(self.values)} if self.kind == "choice" else {self.kind: [self.low, self.high]}
        if self.step is not None:
            data["step"] = self.step
        if self.log:
            data["log"] = True
        if self.when:
            data["when"] = {c.param: list(c.values) for c in self.when}
        data["default"] = self.default
        return data


@dataclass(frozen=True)
class SearchSpace:
    """The search space of a spec, in the order of its ``search:`` section."""

    dimensions: tuple[Dimension, ...] = ()
    spec_name: str | None = None
    _by_name: dict[str, Dimension] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._by_name.update({d.name: d for d in self.dimensions})

    def __iter__(self) -> Iterator[Dimension]:
        return iter(self.dimensions)

    def __len__(self) -> int:
        return len(self.dimensions)

    def __getitem__(self, name: str) -> Dimension:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        """The searched params, in order."""
        return [d.name for d in self.dimensions]

    def defaults(self) -> dict[str, Any]:
        """Each searched param's default: the point `graphspec build` makes without overrides."""
        return {d.name: d.default for d in self.dimensions}

    def active(self, dimension: Dimension, values: Mapping[str, Any]) -> bool:
        """Whether `dimension` is searched, given the values sampled so far (active ones only)."""
        return all(c.param in values and any(_same(values[c.param], v) for v in c.values) for c in dimension.when)

    def as_data(self) -> dict[str, dict[str, Any]]:
        """``{param: entry}``, plain data in the form of the YAML section."""
        return {d.name: d.as_data() for d in self.dimensions}


def search_space(source: Spec | str | os.PathLike[str]) -> SearchSpace:
    """The ``search:`` section of a spec as data (empty when it has none).

    Args:
        source: a `Spec` from `graphspec.load`, or a spec file's path.

    Raises:
        SpecError: the spec, or its search section, has mistakes (only for a path; a
            loaded `Spec` was checked already).

    Example:
        >>> space = graphspec.search_space("examples/fashion_mnist/mlp_search.yaml")  # doctest: +SKIP
        >>> space["units_1"].low, space["units_1"].high, space["units_1"].step
        (64, 512, 64)
    """
    if not isinstance(source, Spec):
        from graphspec.api import load

        source = load(source)
    space, problems = parse_search(source)
    if problems:
        raise SpecError(problems)
    return space


def check_search(spec: Spec) -> list[Problem]:
    """The problems of a spec's ``search:`` section, each at its line (run by `load`)."""
    return parse_search(spec)[1]


def parse_search(spec: Spec) -> tuple[SearchSpace, list[Problem]]:
    """The search section -> a `SearchSpace` of its well-formed entries, and the problems."""
    source = spec.source
    defaults = _param_values(spec)
    problems: list[Problem] = []
    dimensions: list[Dimension] = []
    order = list(spec.search)
    for name, entry in spec.search.items():
        path: Path = ("search", name)
        if name not in spec.params:
            problems.append(
                source.problem(
                    path,
                    f"search: '{name}' is not a param of this spec",
                    key=True,
                    hint=did_you_mean(str(name), spec.params, "params") or "declare it under 'params' with its default",
                    code="unknown-param",
                )
            )
            continue
        dimension, found = _dimension(str(name), entry, path, source, defaults.get(name, _UNKNOWN))
        problems += found
        if dimension is None:
            continue
        when, found = _conditions(dimension, entry, path, source, {d.name: d for d in dimensions}, order)
        problems += found
        dimensions.append(Dimension(**{**dimension.__dict__, "when": when}))
    return SearchSpace(tuple(dimensions), spec.name), problems


class _Unknown:
    """A default that could not be computed (its expression has an error reported elsewhere)."""


_UNKNOWN = _Unknown()


def _param_values(spec: Spec) -> dict[str, Any]:
    """The top-level params' default values, expressions computed, as `resolve` does."""
    values: dict[str, Any] = {}
    scope = Scope(values)
    for name, raw in spec.params.items():
        try:
            values[name] = substitute(raw, scope)
        except ParamError:
            values[name] = _UNKNOWN
    return values


def _dimension(name: str, entry: Any, path: Path, source: SourceMap, default: Any) -> tuple[Dimension | None, list[Problem]]:
    who = f"search '{name}'"
    values_path: Path = path + ("choice",)
    if isinstance(entry, list):
        entry, values_path = {"choice": entry}, path
    elif not isinstance(entry, dict):
        return None, [source.problem(path, f"{who}: expected {FORMS}, found {_describe(entry)}", code="bad-search")]
    problems = []
    for key in entry:
        if key not in ENTRY_KEYS:
            problems.append(
                source.problem(path + (key,), f"{who}: unknown key '{key}'", key=True, hint=did_you_mean(str(key), ENTRY_KEYS, "keys"), code="unknown-key")
            )
    kinds = [k for k in KINDS if k in entry]
    if len(kinds) != 1:
        found = "none" if not kinds else " and ".join(f"'{k}'" for k in kinds)
        problems.append(source.problem(path, f"{who} needs exactly one of 'choice', 'int', 'float', found {found}", hint=f"write {FORMS}", code="bad-search"))
        return None, problems
    if kinds[0] == "choice":
        dimension, found = _choice(name, entry, path, values_path, source)
    else:
        dimension, found = _range(name, kinds[0], entry, path, source)
    problems += found
    if dimension is None or problems:
        return None, problems
    if not isinstance(default, _Unknown) and not dimension.contains(default):
        problems.append(
            source.problem(
                ("params", name),
                f"param '{name}': its default {_describe(default)} is outside its search space ({_space_text(dimension)})",
                hint="make the default one of the values searched: graphspec build makes the default, and a tuner may start from it",
                code="search-default",
            )
        )
        return None, problems
    return Dimension(**{**dimension.__dict__, "default": default}), problems


def _choice(name: str, entry: dict[str, Any], path: Path, values_path: Path, source: SourceMap) -> tuple[Dimension | None, list[Problem]]:
    who = f"search '{name}'"
    values = entry["choice"]
    for key in ("step", "log"):
        if key in entry:
            return None, [source.problem(path + (key,), f"{who}: '{key}' applies to int and float ranges, not to a choice", key=True, hint=f"remove '{key}'", code="bad-search")]
    if not isinstance(values, list):
        return None, [source.problem(values_path, f"{who}: 'choice' takes a list of values, found {_describe(values)}", hint="write e.g. 'choice: [relu, tanh]'", code="bad-search")]
    if not values:
        return None, [source.problem(values_path, f"{who}: the choice list is empty", hint="list at least one value", code="bad-range")]
    problems = []
    seen: set[tuple[str, Any]] = set()  # (kind, value): one lookup per choice, as _same compares them
    for index, value in enumerate(values):
        if not isinstance(value, (str, int, float, bool)):
            problems.append(source.problem(values_path + (index,), f"{who}: a choice is a string, number or boolean, found {_describe(value)}", hint="tuners choose among scalars; for shapes, search the numbers they are made of", code="bad-search"))
        elif _choice_key(value) in seen:
            problems.append(source.problem(values_path + (index,), f"{who}: {_describe(value)} is listed twice", hint="remove the copy", code="bad-search"))
        else:
            seen.add(_choice_key(value))
    if problems:
        return None, problems
    kinds = {_scalar_kind(v) for v in values}
    if len(kinds) > 1:
        return None, [source.problem(values_path, f"{who}: the choices mix {' and '.join(sorted(kinds))}", hint="KerasTuner needs choices of one type: write them all as strings, all as numbers, or all as booleans", code="bad-search")]
    if kinds == {"numbers"} and not all(type(v) is int for v in values):
        values = [float(v) for v in values]
    return Dimension(name, "choice", None, values=tuple(values)), []


def _range(name: str, kind: Kind, entry: dict[str, Any], path: Path, source: SourceMap) -> tuple[Dimension | None, list[Problem]]:
    who = f"search '{name}'"
    bounds = entry[kind]
    if not (isinstance(bounds, list) and len(bounds) == 2):
        return None, [source.problem(path + (kind,), f"{who}: '{kind}' takes [low, high], found {_describe(bounds)}", hint=f"write e.g. '{kind}: {'[32, 256]' if kind == 'int' else '[0.0, 0.5]'}'", code="bad-search")]
    problems = []
    for index, bound in enumerate(bounds):
        if kind == "int" and type(bound) is not int:
            hint = "write whole numbers, or search a float range" if _is_number(bound) else "write whole numbers"
            problems.append(source.problem(path + (kind, index), f"{who}: an int range's bounds are integers, found {_describe(bound)}", hint=hint, code="bad-search"))
        elif kind == "float" and not _is_number(bound):
            problems.append(source.problem(path + (kind, index), f"{who}: a float range's bounds are numbers, found {_describe(bound)}", hint="write e.g. '1.0e-4'", code="bad-search"))
        elif isinstance(bound, float) and not math.isfinite(bound):
            problems.append(source.problem(path + (kind, index), f"{who}: bound {bound!r} is not finite", hint="write a finite number", code="bad-range"))
    log = entry.get("log", False)
    if not isinstance(log, bool):
        problems.append(source.problem(path + ("log",), f"{who}: 'log' is true or false, found {_describe(log)}", code="bad-search"))
    step = entry.get("step")
    if step is not None:
        if (kind == "int" and type(step) is not int) or (kind == "float" and not _is_number(step)):
            problems.append(source.problem(path + ("step",), f"{who}: the step of {'an int' if kind == 'int' else 'a float'} range is {'an integer' if kind == 'int' else 'a number'}, found {_describe(step)}", code="bad-search"))
        elif log is True:
            problems.append(source.problem(path + ("step",), f"{who}: 'step' and 'log: true' do not go together", key=True, hint="drop one: a log scale has no even step (Optuna refuses both); for powers of two write a choice", code="bad-search"))
    if problems:
        return None, problems
    low, high = bounds
    if kind == "float":
        low, high = float(low), float(high)
        step = float(step) if step is not None else None
    if low > high:
        return None, [source.problem(path + (kind,), f"{who}: the range [{low}, {high}] is empty: low is above high", hint=f"write [{high}, {low}]", code="bad-range")]
    if log and low <= 0:
        return None, [source.problem(path + (kind, 0), f"{who}: a log scale needs a positive low bound, found {low}", hint="start the range above 0, e.g. 1.0e-5", code="bad-range")]
    if step is not None:
        if step <= 0:
            return None, [source.problem(path + ("step",), f"{who}: the step must be positive, found {step}", code="bad-range")]
        if not _on_grid(high, low, step):
            count = int((high - low) // step)
            fixed = low + count * step
            return None, [source.problem(path + ("step",), f"{who}: step {step} does not reach high {high} from low {low}", hint=f"make high {_round(fixed)} or {_round(fixed + step)}, or change the step", code="bad-range")]
    return Dimension(name, kind, None, low=low, high=high, step=step, log=bool(log)), []


def _conditions(
    dimension: Dimension,
    entry: Any,
    path: Path,
    source: SourceMap,
    earlier: Mapping[str, Dimension],
    order: list[str],
) -> tuple[tuple[Condition, ...], list[Problem]]:
    who = f"search '{dimension.name}'"
    when = entry.get("when") if isinstance(entry, dict) else None
    if when is None:
        return (), []
    if not isinstance(when, dict) or not when:
        return (), [source.problem(path + ("when",), f"{who}: 'when' maps earlier searched params to a value or list of values, found {_describe(when)}", hint="write e.g. 'when: {deep: true}'", code="bad-condition")]
    conditions = []
    problems = []
    for param, wanted in when.items():
        where = path + ("when", param)
        parent = earlier.get(param)
        if parent is None:
            if param == dimension.name:
                message, hint = f"{who}: a condition on itself", "name an earlier searched param"
            elif param in order:
                message, hint = f"{who}: the condition on '{param}' names a param searched later", f"move '{param}' above '{dimension.name}' in 'search'"
            else:
                message = f"{who}: the condition names '{param}', which is not searched"
                hint = did_you_mean(str(param), earlier, "searched params") or "a condition is on an earlier entry of 'search'"
            problems.append(source.problem(where, message, key=True, hint=hint, code="bad-condition"))
            continue
        if parent.kind == "float":
            problems.append(source.problem(where, f"{who}: a condition on float '{param}' would hold for single points only", key=True, hint="condition on a choice or int param", code="bad-condition"))
            continue
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            problems.append(source.problem(where, f"{who}: the condition on '{param}' lists no values", hint="list the values for which it is searched", code="bad-condition"))
            continue
        if parent.kind == "choice":  # a set of the choices: a long list of values checks in linear time
            keys = {_choice_key(v) for v in parent.values}
            impossible = [v for v in values if _choice_key(v) not in keys]
        else:
            impossible = [v for v in values if not parent.contains(v)]
        if impossible:
            problems.append(
                source.problem(
                    where,
                    f"{who}: '{param}' never takes {_describe(impossible[0])} ({_space_text(parent)})",
                    hint="condition on values the param is searched over",
                    code="bad-condition",
                )
            )
            continue
        conditions.append(Condition(str(param), tuple(values)))
    return tuple(conditions), problems


def all_conditions(space: SearchSpace, dimension: Dimension) -> list[Condition]:
    """The conditions of `dimension` and of the dimensions they name, outermost first."""
    found: list[Condition] = []
    for condition in dimension.when:
        for inherited in all_conditions(space, space[condition.param]):
            if inherited not in found:
                found.append(inherited)
        if condition not in found:
            found.append(condition)
    return found


# -- samplers ---------------------------------------------------------------------------


def sample_keras_tuner(space: SearchSpace, hp: keras_tuner.HyperParameters) -> dict[str, Any]:
    """Register `space` with KerasTuner's `hp` and return the values of the active params.

    Conditions become KerasTuner conditional scopes, so its oracles know which params
    matter; an inactive param is left out of the result (the spec's default applies).
    """
    values: dict[str, Any] = {}
    for dimension in space:
        with ExitStack() as scopes:
            for condition in all_conditions(space, dimension):
                scopes.enter_context(hp.conditional_scope(condition.param, list(condition.values)))
            value = _register(hp, dimension)
        if space.active(dimension, values) and value is not None:
            values[dimension.name] = value
    return values


def _register(hp: keras_tuner.HyperParameters, dimension: Dimension) -> Any:
    if dimension.kind == "choice":
        return hp.Choice(dimension.name, list(dimension.values), default=dimension.default)
    sampling = "log" if dimension.log else "linear"
    if dimension.kind == "int":
        return hp.Int(dimension.name, dimension.low, dimension.high, step=dimension.step, sampling=sampling, default=dimension.default)
    return hp.Float(dimension.name, dimension.low, dimension.high, step=dimension.step, sampling=sampling, default=float(dimension.default))


def suggest(trial: Any, space: SearchSpace | Spec | str | os.PathLike[str]) -> dict[str, Any]:
    """Sample a spec's search space from an Optuna trial: ``{param: value}`` for `build`.

    Inactive params (their ``when`` does not hold) are not suggested, so Optuna's
    samplers see the conditional space as it is; the spec's defaults apply to them.

    Example:
        >>> def objective(trial):  # doctest: +SKIP
        ...     model = graphspec.build(path, params=graphspec.suggest(trial, path))
        ...     return model.fit(...).history["val_accuracy"][-1]
    """
    if not isinstance(space, SearchSpace):
        space = search_space(space)
    values: dict[str, Any] = {}
    for dimension in space:
        if not space.active(dimension, values):
            continue
        if dimension.kind == "choice":
            values[dimension.name] = trial.suggest_categorical(dimension.name, list(dimension.values))
        elif dimension.kind == "int":
            values[dimension.name] = trial.suggest_int(dimension.name, dimension.low, dimension.high, step=dimension.step or 1, log=dimension.log)
        else:
            values[dimension.name] = trial.suggest_float(dimension.name, dimension.low, dimension.high, step=dimension.step, log=dimension.log)
    return values


def hypermodel(
    source: Spec | str | os.PathLike[str],
    *,
    params: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
) -> keras_tuner.HyperModel:
    """A `keras_tuner.HyperModel` whose ``build(hp)`` samples the spec's search space and builds it.

    Args:
        source: a spec file's path, or a `Spec` from `graphspec.load`.
        params: fixed overrides of params that are not searched.
        custom_objects: custom layers, as for `graphspec.build`.

    Returns:
        A HyperModel named after the spec; its models are compiled with the spec's ``compile``.

    Raises:
        SpecError: the spec has mistakes, no ``search`` section or no ``compile`` section.

    Example:
        >>> tuner = keras_tuner.RandomSearch(graphspec.hypermodel(path), objective="val_accuracy", max_trials=10)  # doctest: +SKIP
    """
    import keras_tuner

    from graphspec.api import build, load

    spec = source if isinstance(source, Spec) else load(source, params=params)
    space = search_space(spec)
    _check_tunable(spec, space)
    fixed = {k: v for k, v in (params or {}).items() if k not in space}

    class SpecHyperModel(keras_tuner.HyperModel):
        """Builds the spec with the params KerasTuner samples."""

        space: SearchSpace

        def build(self, hp: keras_tuner.HyperParameters) -> Any:
            return build(spec, params={**fixed, **sample_keras_tuner(space, hp)}, custom_objects=custom_objects)

    model = SpecHyperModel(name=spec.name or "model")
    model.space = space
    return model


def _check_tunable(spec: Spec, space: SearchSpace) -> None:
    """A tuner needs a space to search and a compiled model to train."""
    problems = []
    if not space.dimensions:
        problems.append(spec.source.problem((), f"spec '{spec.name}' has no 'search' section", hint="add 'search:' with a range for one or more params (docs/search.md)", code="missing-key"))
    if spec.compile is None:
        problems.append(spec.source.problem((), f"spec '{spec.name}' has no 'compile' section; a tuner trains the models it builds", hint="add 'compile: {optimizer: adam, loss: ..., metrics: [...]}'", code="missing-key"))
    if problems:
        raise SpecError(problems)


# -- small helpers ------------------------------------------------------------------------

Number = int | float


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _scalar_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "booleans"
    if isinstance(value, str):
        return "strings"
    return "numbers"


def _choice_key(value: Any) -> tuple[str, Any]:
    """A set key under which values are equal when `_same` says so (``True`` is not ``1``; ``64`` is ``64.0``)."""
    return (_scalar_kind(value), value) if isinstance(value, (str, int, float, bool)) else ("other", id(value))


def _same(a: Any, b: Any) -> bool:
    """Equal values of compatible types (``True`` is not ``1``; ``64`` is ``64.0``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b and (_is_number(a) == _is_number(b))


def _on_grid(value: Number, low: Number, step: Number) -> bool:
    if isinstance(value, int) and isinstance(low, int) and isinstance(step, int):
        return (value - low) % step == 0
    steps = (value - low) / step
    return abs(steps - round(steps)) <= 1e-9 * max(1.0, abs(steps))


def _round(value: Number) -> Number:
    return round(value, 12) if isinstance(value, float) else value


def _space_text(dimension: Dimension) -> str:
    if dimension.kind == "choice":
        return "one of " + ", ".join(_describe(v) for v in dimension.values)
    text = f"{dimension.kind} from {dimension.low} to {dimension.high}"
    if dimension.step is not None:
        text += f" in steps of {dimension.step}"
    return text + (", log scale" if dimension.log else "")


def _describe(value: Any) -> str:
    """As the spec's messages show values, with YAML's words for booleans and null."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "null" if value is None else describe(value)
