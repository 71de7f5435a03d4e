"""tune.py and overrides.py: `graphspec tune` writes an overrides file that builds; --params-file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

import graphspec
from graphspec import cli
from graphspec.overrides import format_overrides, read_overrides

ROOT = Path(__file__).parent.parent

SPEC = """
name: digits_mlp
params: {width: 32, rate: 0.01, activation: relu}
inputs: {x: {shape: [64]}}
nodes:
  h: {type: Dense, units: $width, activation: $activation, from: x}
  y: {type: Dense, units: 10, activation: softmax, from: h}
outputs: [y]
compile:
  optimizer: {type: Adam, learning_rate: $rate}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy]
search:
  width: {int: [16, 64], step: 16}
  rate: {float: [1.0e-3, 1.0e-1], log: true}
  activation: [relu, tanh]
"""

DATA = """
from sklearn.datasets import load_digits

def load():
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    return (x[:1200], y[:1200]), (x[1200:], y[1200:])
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_overrides_round_trip(tmp_path: Path) -> None:
    values = {"units": 256, "rate": 1e-05, "drop": 0.1, "big": 1e300, "flag": False, "mode": "on", "act": "relu", "odd": "a: b", "num": "12", "shape": [28, 28, 1], "none": None}
    path = tmp_path / "best.yaml"
    path.write_text(format_overrides(values, ["a comment"]))
    assert path.read_text().startswith("# a comment\nunits: 256\n")
    read = read_overrides(path)
    assert read == values and [type(v) for v in read.values()] == [type(v) for v in values.values()]


def test_overrides_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("units: 64\nnested: {a: 1}\n")
    with pytest.raises(graphspec.SpecError) as caught:
        read_overrides(path)
    assert str(caught.value).splitlines()[0] == f"{path}:2:9: error: param 'nested': an override is a value or a list, found a mapping; write 'name: value' lines; a params file has no sections [GS103 wrong-type]"
    path.write_text("- 1\n")
    with pytest.raises(graphspec.SpecError):
        read_overrides(path)


def test_params_file_for_build_and_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    path = tmp_path / "params.yaml"
    path.write_text("hidden: 64\n")
    code, out, _ = run("build", "examples/mlp.yaml", "--params-file", str(path))
    assert code == 0 and "55,050" in out  # 784*64+64 + 64*64+64 + 64*10+10
    code, out, _ = run("build", "examples/mlp.yaml", "--params-file", str(path), "--param", "hidden=32")
    assert code == 0 and "26,506" in out  # --param wins
    path.write_text("hiden: 64\n")
    code, out, _ = run("validate", "examples/mlp.yaml", "--params-file", str(path))
    assert code == 1 and "param override 'hiden' matches no param of this spec; did you mean 'hidden'?" in out
    code, _, err = run("validate", "examples/mlp.yaml", "--params-file", str(tmp_path / "missing.yaml"))
    assert code == 2 and "missing.yaml" in err


@pytest.mark.slow
@pytest.mark.parametrize("tuner", ["random", "tpe"])
def test_tune_writes_overrides_that_build(tuner: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("keras_tuner")
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(SPEC)
    (tmp_path / "digits_data.py").write_text(DATA)
    code, out, err = run("tune", "spec.yaml", "--data", "digits_data:load", "--tuner", tuner, "--trials", "2", "--epochs", "1", "--batch-size", "128", "--table", "trials.md")
    assert (code, err) == (0, ""), err
    assert "trial 1/2: width=" in out and "trial 2/2:" in out and "| trial | width | rate | activation | val_accuracy | seconds |" in out
    best = read_overrides(tmp_path / "digits_mlp.best.yaml")
    assert set(best) == {"width", "rate", "activation"}
    assert graphspec.search_space(tmp_path / "spec.yaml")["width"].contains(best["width"])
    assert (tmp_path / "trials.md").read_text().count("\n") == 4  # header, rule, two trials
    code, out, _ = run("build", "spec.yaml", "--params-file", "digits_mlp.best.yaml")
    assert code == 0 and f"{64 * best['width'] + best['width'] + best['width'] * 10 + 10:,}" in out


def test_tune_usage_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("keras_tuner")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(SPEC)
    code, _, err = run("tune", "spec.yaml", "--data", "nodata")
    assert code == 2 and "is not MODULE:FUNCTION" in err
    code, _, err = run("tune", "spec.yaml", "--data", "no_such_module_here:load")
    assert code == 2 and "cannot import module 'no_such_module_here'" in err
    (tmp_path / "bare.yaml").write_text("inputs: {x: {shape: [2]}}\nnodes: {y: {type: Dense, units: 1, from: x}}\noutputs: [y]\n")
    (tmp_path / "d.py").write_text("def load():\n    return ([0], [0]), ([0], [0])\n")
    code, _, err = run("tune", "bare.yaml", "--data", "d.py:load")
    assert code == 1 and "has no 'search' section" in err
