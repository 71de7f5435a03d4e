"""search.py: the search section round-trips through search_space, KerasTuner and Optuna."""

from __future__ import annotations

import numpy as np
import pytest

import graphspec
from graphspec.search import Condition, Dimension

SPEC = """
name: digits
params:
  width: 32          # int, step
  depth_units: 16    # int, log scale
  rate: 0.01         # float, log scale
  dropout: 0.2       # float, step
  activation: relu   # choice (list shorthand)
  extra: false       # choice
  extra_units: 8     # int, searched only when extra is true
inputs: {x: {shape: [64]}}
nodes:
  h: {type: Dense, units: $width, activation: $activation, from: x}
  d: {type: Dropout, rate: $dropout, from: h}
  g: {type: Dense, units: $depth_units, activation: $activation, from: d}
  y: {type: Dense, units: 10, activation: softmax, from: g}
outputs: [y]
compile:
  optimizer: {type: Adam, learning_rate: $rate}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
search:
  width: {int: [16, 64], step: 16}
  depth_units: {int: [8, 32], log: true}
  rate: {float: [1.0e-3, 1.0e-1], log: true}
  dropout: {float: [0.0, 0.4], step: 0.1}
  activation: [relu, tanh]
  extra: {choice: [false, true]}
  extra_units: {int: [4, 16], when: {extra: true}}
"""

EXPECTED = (
    Dimension("width", "int", 32, low=16, high=64, step=16),
    Dimension("depth_units", "int", 16, low=8, high=32, log=True),
    Dimension("rate", "float", 0.01, low=1e-3, high=1e-1, log=True),
    Dimension("dropout", "float", 0.2, low=0.0, high=0.4, step=0.1),
    Dimension("activation", "choice", "relu", values=("relu", "tanh")),
    Dimension("extra", "choice", False, values=(False, True)),
    Dimension("extra_units", "int", 8, low=4, high=16, when=(Condition("extra", (True,)),)),
)


@pytest.fixture(scope="module")
def spec() -> graphspec.Spec:
    return graphspec.loads(SPEC, file="digits.yaml")


def test_search_space_as_data(spec: graphspec.Spec) -> None:
    space = graphspec.search_space(spec)
    assert space.dimensions == EXPECTED
    assert space.names == [d.name for d in EXPECTED]
    assert space.defaults() == {"width": 32, "depth_units": 16, "rate": 0.01, "dropout": 0.2, "activation": "relu", "extra": False, "extra_units": 8}
    assert space.as_data()["extra_units"] == {"int": [4, 16], "when": {"extra": [True]}, "default": 8}
    assert space.as_data()["width"] == {"int": [16, 64], "step": 16, "default": 32}
    assert space.active(space["extra_units"], {"extra": True})
    assert not space.active(space["extra_units"], {"extra": False})
    assert space["dropout"].contains(0.30000000000000004) and not space["dropout"].contains(0.25)
    assert not space["width"].contains(True)


def test_search_space_of_a_path_and_of_no_section(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SPEC)
    assert graphspec.search_space(path).dimensions == EXPECTED
    assert len(graphspec.search_space(graphspec.loads("inputs: {x: {shape: [2]}}\nnodes: {y: {type: Dense, units: 1, from: x}}\noutputs: [y]"))) == 0


def test_keras_tuner_hyperparameters_mirror_the_space(spec: graphspec.Spec) -> None:
    keras_tuner = pytest.importorskip("keras_tuner")
    hypermodel = graphspec.hypermodel(spec)
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)  # first call: every param at its default
    assert model.get_layer("h").units == 32 and model.get_layer("g").units == 16
    assert model.optimizer is not None and float(model.optimizer.learning_rate) == pytest.approx(0.01)
    config = {h.name: h.get_config() for h in hp.space}
    assert {k: config["width"][k] for k in ("min_value", "max_value", "step", "sampling")} == {"min_value": 16, "max_value": 64, "step": 16, "sampling": "linear"}
    assert config["depth_units"]["sampling"] == "log"
    assert {k: config["rate"][k] for k in ("min_value", "max_value", "sampling")} == {"min_value": 1e-3, "max_value": 1e-1, "sampling": "log"}
    assert config["dropout"]["step"] == 0.1
    assert config["activation"]["values"] == ["relu", "tanh"]
    assert config["extra"]["values"] == [False, True]
    assert config["extra_units"]["conditions"] == [{"class_name": "Parent", "config": {"name": "extra", "values": [True]}}]
    hp.values.update({"width": 48, "activation": "tanh", "extra": True, "extra_units": 12})
    model = hypermodel.build(hp)
    assert model.get_layer("h").units == 48
    assert model.get_layer("h").get_config()["activation"] == "tanh"


def test_optuna_distributions_mirror_the_space(spec: graphspec.Spec) -> None:
    optuna = pytest.importorskip("optuna")
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.enqueue_trial({"extra": True})
    trial = study.ask()
    values = graphspec.suggest(trial, spec)
    assert trial.distributions == {
        "width": IntDistribution(16, 64, step=16),
        "depth_units": IntDistribution(8, 32, log=True),
        "rate": FloatDistribution(1e-3, 1e-1, log=True),
        "dropout": FloatDistribution(0.0, 0.4, step=0.1),
        "activation": CategoricalDistribution(("relu", "tanh")),
        "extra": CategoricalDistribution((False, True)),
        "extra_units": IntDistribution(4, 16),
    }
    space = graphspec.search_space(spec)
    assert all(space[name].contains(value) for name, value in values.items())
    fixed = optuna.trial.FixedTrial({**space.defaults(), "extra": False})
    assert "extra_units" not in graphspec.suggest(fixed, spec)  # inactive: the default applies


def _digits():
    datasets = pytest.importorskip("sklearn.datasets")
    x, y = datasets.load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return (x[:1200], y[:1200]), (x[1200:], y[1200:])


@pytest.mark.slow
def test_keras_tuner_three_trials_on_digits(spec: graphspec.Spec, tmp_path) -> None:
    keras_tuner = pytest.importorskip("keras_tuner")
    pytest.importorskip("keras").utils.set_random_seed(0)  # initial weights too: the accuracy asserted below must not depend on luck
    (x, y), (xv, yv) = _digits()
    tuner = keras_tuner.RandomSearch(graphspec.hypermodel(spec), objective="val_accuracy", max_trials=3, seed=1, directory=str(tmp_path), project_name="digits")
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=128, verbose=0)
    assert len(tuner.oracle.trials) == 3
    best = tuner.get_best_hyperparameters(1)[0].values
    params = {k: v for k, v in best.items() if k in graphspec.search_space(spec)}
    model = graphspec.build(spec, params={k: v for k, v in params.items() if k != "extra_units" or best.get("extra")})
    history = model.fit(x, y, validation_data=(xv, yv), epochs=6, batch_size=128, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.5  # ten classes: chance is 0.1


@pytest.mark.slow
def test_optuna_three_trials_on_digits(spec: graphspec.Spec) -> None:
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("keras").utils.set_random_seed(0)
    (x, y), (xv, yv) = _digits()

    def objective(trial) -> float:
        model = graphspec.build(spec, params=graphspec.suggest(trial, spec))
        history = model.fit(x, y, validation_data=(xv, yv), epochs=2, batch_size=128, verbose=0)
        return history.history["val_accuracy"][-1]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=1))
    study.optimize(objective, n_trials=3)
    assert len(study.trials) == 3
    model = graphspec.build(spec, params=study.best_params)
    assert model.get_layer("h").units == study.best_params["width"]
    accuracy = model.fit(x, y, validation_data=(xv, yv), epochs=6, batch_size=128, verbose=0).history["val_accuracy"][-1]
    assert accuracy > 0.5 and np.isfinite(study.best_value)


def test_hypermodel_needs_search_and_compile() -> None:
    pytest.importorskip("keras_tuner")
    bare = graphspec.loads("inputs: {x: {shape: [2]}}\nnodes: {y: {type: Dense, units: 1, from: x}}\noutputs: [y]", file="bare.yaml")
    with pytest.raises(graphspec.SpecError) as caught:
        graphspec.hypermodel(bare)
    messages = [p.message for p in caught.value.problems]
    assert messages == ["spec 'bare' has no 'compile' section; a tuner trains the models it builds", "spec 'bare' has no 'search' section"]
    assert all(p.code == "missing-key" for p in caught.value.problems)
