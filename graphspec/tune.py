"""``graphspec tune``: search a spec's ``search:`` space with KerasTuner or Optuna.

The data come from a function the user names on the command line (``MODULE:FUNCTION``,
their own code, like ``export``'s ``module:attribute``); the spec never names code. The
function takes no arguments and returns ``(train, validation)``, each either ``(x, y)``
or something ``model.fit`` takes as ``x`` (a ``tf.data.Dataset``, a PyDataset).

Every trial builds the spec with the sampled params (`graphspec.build`, compiled with the
spec's ``compile``), trains it for ``epochs`` and is scored by the best epoch's value of
the objective on the validation data. The result is the trials, in order, and the best
params: `graphspec.overrides.format_overrides` writes them for ``build --params-file``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, TextIO

from graphspec.search import SearchSpace, hypermodel, suggest
from graphspec.spec import Spec

TUNERS = {
    "random": "KerasTuner RandomSearch",
    "bayesian": "KerasTuner BayesianOptimization",
    "hyperband": "KerasTuner Hyperband",
    "tpe": "Optuna TPE",
}


class TuneError(Exception):
    """The search cannot run: the data function, the objective or the tuner is wrong."""


@dataclass
class Trial:
    """One trial: the params it tried, its score (None when it failed) and its duration."""

    number: int
    params: dict[str, Any]
    score: float | None
    seconds: float


@dataclass
class TuneResult:
    """All trials in the order they ran, and which objective and direction scored them."""

    objective: str
    direction: str
    tuner: str
    trials: list[Trial] = field(default_factory=list)

    @property
    def best(self) -> Trial:
        """The trial with the best score."""
        scored = [t for t in self.trials if t.score is not None]
        if not scored:
            raise TuneError("no trial finished; see the errors above")
        pick = max if self.direction == "max" else min
        return pick(scored, key=lambda t: t.score)  # type: ignore[arg-type,return-value]


def load_data(source: str) -> tuple[Any, Any]:
    """Call ``MODULE:FUNCTION`` (a module name, or a ``.py`` path) -> ``(train, validation)``."""
    module_name, sep, function_name = source.rpartition(":")
    if not sep or not module_name or not function_name:
        raise TuneError(f"--data '{source}' is not MODULE:FUNCTION (e.g. mydata:load or data/load.py:load)")
    module = _import(module_name)
    function = getattr(module, function_name, None)
    if not callable(function):
        raise TuneError(f"--data: module '{module_name}' has no function '{function_name}'")
    try:
        data = function()
    except Exception as error:
        raise TuneError(f"--data: {source}() failed: {type(error).__name__}: {error}") from error
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TuneError(f"--data: {source}() must return (train, validation), each (x, y) or a dataset; it returned {type(data).__name__}")
    return data[0], data[1]


def _import(name: str) -> Any:
    if name.endswith(".py") or os.sep in name or "/" in name:
        path = FilePath(name)
        if not path.is_file():
            raise TuneError(f"--data: no such file: {name}")
        module_spec = importlib.util.spec_from_file_location(f"graphspec_tune_data_{path.stem}", path)
        if module_spec is None or module_spec.loader is None:
            raise TuneError(f"--data: cannot import {name}")
        module = importlib.util.module_from_spec(module_spec)
        sys.path.insert(0, str(path.resolve().parent))  # so that it can import its neighbours
        try:
            module_spec.loader.exec_module(module)
        finally:
            sys.path.remove(str(path.resolve().parent))
        return module
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise TuneError(f"--data: cannot import module '{name}': {error}") from error


def direction_of(objective: str) -> str:
    """``min`` for losses and errors, ``max`` for the rest (accuracy, AUC), as KerasTuner infers."""
    return "min" if any(word in objective for word in ("loss", "error")) else "max"


def tune(
    spec: Spec,
    data: tuple[Any, Any],
    *,
    tuner: str = "random",
    trials: int = 10,
    objective: str = "val_accuracy",
    direction: str | None = None,
    epochs: int = 3,
    batch_size: int | None = None,
    directory: str = ".graphspec-tune",
    params: Mapping[str, Any] | None = None,
    seed: int = 1,
    resume: bool = False,
    progress: TextIO | None = None,
) -> TuneResult:
    """Run a search over the spec's space; each trial trains for `epochs` and is scored on validation.

    Args:
        spec: a loaded spec with ``search`` and ``compile`` sections.
        data: ``(train, validation)`` as `load_data` returns it.
        tuner: ``random``, ``bayesian``, ``hyperband`` (KerasTuner) or ``tpe`` (Optuna).
        trials: how many models to train (Hyperband decides its own count from `epochs`).
        objective: a metric of ``model.fit``'s history, ``val_`` ones for validation.
        direction: ``max`` or ``min``; by default ``min`` for losses, else ``max``.
        directory: where KerasTuner keeps its trials (one folder per spec name).
        params: fixed overrides of params the search does not cover.
        resume: continue KerasTuner's earlier search in `directory` instead of starting anew.
        progress: where one line per trial is printed.
    """
    if tuner not in TUNERS:
        raise TuneError(f"unknown tuner '{tuner}'; use one of {', '.join(TUNERS)}")
    direction = direction or direction_of(objective)
    model_builder = hypermodel(spec, params=params)  # checks the spec has search and compile
    space: SearchSpace = model_builder.space  # type: ignore[attr-defined]
    train, validation = data
    fit: dict[str, Any] = {"epochs": epochs, "validation_data": validation, "verbose": 0}
    if batch_size is not None:
        fit["batch_size"] = batch_size
    fit_args = tuple(train) if isinstance(train, (tuple, list)) else (train,)
    import keras

    keras.utils.set_random_seed(seed)
    result = TuneResult(objective, direction, TUNERS[tuner])
    report = _Reporter(result, trials if tuner != "hyperband" else None, progress)
    if tuner == "tpe":
        _optuna(spec, space, params or {}, fit_args, fit, objective, direction, trials, seed, report)
    else:
        _keras_tuner(model_builder, space, tuner, fit_args, fit, objective, direction, trials, epochs, seed, directory, spec.name or "model", resume, report)
    return result


class _Reporter:
    """Records each trial and prints one line for it."""

    def __init__(self, result: TuneResult, total: int | None, stream: TextIO | None) -> None:
        self.result, self.total, self.stream = result, total, stream

    def add(self, params: dict[str, Any], score: float | None, seconds: float) -> None:
        trial = Trial(len(self.result.trials) + 1, params, score, seconds)
        self.result.trials.append(trial)
        if self.stream is None:
            return
        of = f"/{self.total}" if self.total else ""
        shown = " ".join(f"{k}={_short(v)}" for k, v in params.items())
        outcome = f"{self.result.objective} {score:.4f}" if score is not None else "failed"
        best = self.result.best.score if any(t.score is not None for t in self.result.trials) else None
        mark = " (best so far)" if score is not None and score == best else ""
        print(f"trial {trial.number}{of}: {shown} -> {outcome}{mark} [{seconds:.1f} s]", file=self.stream, flush=True)


def _score(history: Mapping[str, list[float]], objective: str, direction: str) -> float:
    if objective not in history:
        raise TuneError(f"objective '{objective}' is not among the metrics training reports ({', '.join(sorted(history))})")
    values = history[objective]
    return float(max(values) if direction == "max" else min(values))


def _optuna(spec: Spec, space: SearchSpace, fixed: Mapping[str, Any], fit_args: tuple[Any, ...], fit: dict[str, Any], objective: str, direction: str, trials: int, seed: int, report: _Reporter) -> None:
    import optuna

    from graphspec.api import build

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize" if direction == "max" else "minimize", sampler=optuna.samplers.TPESampler(seed=seed))

    def run(trial: optuna.Trial) -> float:
        values = suggest(trial, space)
        started = time.perf_counter()
        try:
            model = build(spec, params={**fixed, **values})
            score = _score(model.fit(*fit_args, **fit).history, objective, direction)
        except Exception:
            report.add(values, None, time.perf_counter() - started)
            raise
        report.add(values, score, time.perf_counter() - started)
        return score

    study.optimize(run, n_trials=trials, catch=(ValueError, RuntimeError))


def _keras_tuner(model_builder: Any, space: SearchSpace, kind: str, fit_args: tuple[Any, ...], fit: dict[str, Any], objective: str, direction: str, trials: int, epochs: int, seed: int, directory: str, project: str, resume: bool, report: _Reporter) -> None:
    import keras_tuner

    classes: dict[str, Callable[..., Any]] = {"random": keras_tuner.RandomSearch, "bayesian": keras_tuner.BayesianOptimization, "hyperband": keras_tuner.Hyperband}
    base = classes[kind]
    started: dict[str, float] = {}

    class Reporting(base):  # type: ignore[misc,valid-type]
        def on_trial_begin(self, trial: Any) -> None:
            started[trial.trial_id] = time.perf_counter()
            super().on_trial_begin(trial)

        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            done = self.oracle.get_trial(trial.trial_id)
            values = _active(space, done.hyperparameters)
            report.add(values, done.score if done.status == "COMPLETED" else None, time.perf_counter() - started.get(trial.trial_id, time.perf_counter()))

    options: dict[str, Any] = {
        "objective": keras_tuner.Objective(objective, direction),
        "seed": seed,
        "directory": directory,
        "project_name": project,
        "overwrite": not resume,
    }
    if kind == "hyperband":
        options["max_epochs"] = epochs
        fit = {k: v for k, v in fit.items() if k != "epochs"}
    else:
        options["max_trials"] = trials
    tuner = Reporting(model_builder, **options)
    try:
        tuner.search(*fit_args, **fit)
    except keras_tuner.errors.FatalError as error:
        raise TuneError(f"the search stopped: {error}") from error
    except RuntimeError as error:  # too many failed trials
        raise TuneError(f"the search stopped: {str(error).splitlines()[0]}") from error


def _active(space: SearchSpace, hp: Any) -> dict[str, Any]:
    """The searched params a finished KerasTuner trial used (inactive ones left out)."""
    values: dict[str, Any] = {}
    for dimension in space:
        if space.active(dimension, values) and dimension.name in hp.values:
            values[dimension.name] = hp.values[dimension.name]
    return values


def trials_table(result: TuneResult, space: SearchSpace) -> str:
    """The trials as a Markdown table, the best one in bold."""
    best = result.best
    names = space.names
    header = ["trial", *names, result.objective, "seconds"]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---:" for _ in header) + " |"]
    for trial in result.trials:
        score = f"{trial.score:.4f}" if trial.score is not None else "failed"
        if trial is best:
            score = f"**{score}**"
        cells = [str(trial.number), *(_short(trial.params[n]) if n in trial.params else "-" for n in names), score, f"{trial.seconds:.1f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
