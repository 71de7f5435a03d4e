"""backend.py: the core install works without Keras; what needs Keras says what to install.

Keras (or its backend) is hidden from a child process by ``sys.modules[name] = None``,
which makes ``import name`` fail as it does when the package is not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graphspec.backend import quiet_native_logs

ROOT = Path(__file__).resolve().parent.parent


def run_without(module: str, *args: str, backend: str | None = None) -> subprocess.CompletedProcess:
    code = f"import sys; sys.modules[{module!r}] = None\nfrom graphspec.cli import main\nsys.exit(main(sys.argv[1:]))"
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")}
    if backend:
        env["KERAS_BACKEND"] = backend
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "args",
    [
        ("build", "examples/branch.yaml"),
        ("validate", "--build", "examples/branch.yaml"),
        ("plot", "examples/branch.yaml", "-o", "out.dot", "--shapes"),
        ("export", "model.keras"),
    ],
    ids=["build", "validate-build", "plot-shapes", "export"],
)
def test_without_keras_one_line_names_the_extra(args: tuple[str, ...], tmp_path: Path) -> None:
    result = run_without("keras", *(a if a != "out.dot" else str(tmp_path / a) for a in args))
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"graphspec {args[0]}: error: Keras is not installed: building needs Keras 3 and a backend; "
        "pip install 'keras-graphspec[tensorflow]' (or [jax], or [torch])\n"
    )


def test_without_keras_validate_and_plot_work(tmp_path: Path) -> None:
    assert run_without("keras", "validate", "examples/").returncode == 0
    assert run_without("keras", "plot", "examples/branch.yaml", "-o", str(tmp_path / "b.mmd")).returncode == 0
    assert "h_1" in (tmp_path / "b.mmd").read_text()
    assert run_without("keras", "schema", "--check").returncode == 0


def test_without_the_backend_keras_is_set_to(tmp_path: Path) -> None:
    pytest.importorskip("jax")
    result = run_without("tensorflow", "build", "examples/branch.yaml", backend="tensorflow")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("graphspec build: error: Keras cannot load its backend 'tensorflow' (")
    assert line.endswith("pip install 'keras-graphspec[tensorflow]', or choose an installed one: KERAS_BACKEND=jax")


def test_native_log_lines_are_dropped_and_the_rest_kept(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    lines = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
        "E0000 00:00:1795996995.337678    8810 cuda_platform.cc:52] failed call to cuInit: INTERNAL\n",
        "I0000 00:00:1795996981.742264    8810 port.cc:153] oneDNN custom operations are on.\n",
        "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the appropriate compiler flags.\n",
    ]
    with quiet_native_logs():
        assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3"
        for line in lines:
            os.write(2, line.encode())
        os.write(2, b"UserWarning: a warning of the user's own\n")
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    assert capfd.readouterr().err == "UserWarning: a warning of the user's own\n"
    # The user's own TF_CPP_MIN_LOG_LEVEL: nothing is dropped.
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    with quiet_native_logs():
        os.write(2, lines[1].encode())
    assert capfd.readouterr().err == lines[1]


def test_version() -> None:
    import graphspec

    result = subprocess.run([sys.executable, "-m", "graphspec", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith(f"graphspec {graphspec.__version__} (keras-graphspec on Python ")
