"""cli.py, run as users run it: a subprocess, its exact output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
BAD = """inputs: {x: {shape: [4]}}
nodes:
  y: {type: Dense, units: 2, from: xx}
outputs: [y]
"""


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphspec", *args], cwd=cwd, capture_output=True, text=True)


def test_validate_clean_file() -> None:
    result = run("validate", "examples/branch.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_validate_reports_every_problem_of_every_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BAD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text(BAD.replace("units: 2", "units: $n"))
    result = run("validate", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "a.yaml:3:36: error: node 'y': unknown ref 'xx'; did you mean 'x'? [GS201 unknown-ref]",
        "sub/b.yml:3:27: error: node 'y': unknown param 'n'; define it under 'params' [GS301 unknown-param]",
        "sub/b.yml:3:37: error: node 'y': unknown ref 'xx'; did you mean 'x'? [GS201 unknown-ref]",
    ]


def test_validate_formats(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BAD)
    github = run("validate", "--format", "github", "a.yaml", cwd=tmp_path)
    assert github.stdout.startswith("::error file=a.yaml,line=3,col=36,title=GS201 unknown-ref::node 'y': unknown ref 'xx'")
    data = json.loads(run("validate", "--format", "json", "a.yaml", cwd=tmp_path).stdout)
    assert data[0]["line"] == 3 and data[0]["code"] == "unknown-ref"


def test_usage_and_io_errors_exit_2(tmp_path: Path) -> None:
    assert run("validate").returncode == 2
    assert run("frobnicate").returncode == 2
    missing = run("validate", "missing.yaml", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stdout.startswith("missing.yaml:1:1: error: cannot read the file")
    assert run("build", "x.yaml", "--param", "oops").returncode == 2


def test_build_prints_summary_with_node_names_and_params(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    result = run("build", "examples/branch.yaml", "--param", "hidden=20")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # TensorFlow's native start-up lines are dropped (graphspec -v shows them)
    for name in ("h_1 (Dense)", "h_2 (Dense)", "z (Dense)", "u (Concatenate)", "y (Dense)"):
        assert name in result.stdout
    assert f"Total params: {784 * 20 + 20 + 2 * (20 * 20 + 20) + 40 * 10 + 10:,}" in result.stdout


def test_build_reports_spec_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BAD.replace("xx", "x").replace("Dense", "Dens"))
    result = run("build", "-v", "a.yaml", cwd=tmp_path)  # -v: the backend's own lines too, ours last
    assert result.returncode == 1
    assert result.stderr.splitlines()[-3].startswith("a.yaml:3:13: error: node 'y': unknown layer type 'Dens'")


def test_directories_skip_yaml_that_is_not_a_spec(tmp_path: Path) -> None:
    (tmp_path / "ci.yaml").write_text("jobs: {test: {runs-on: ubuntu-latest}}\n")
    (tmp_path / "lib.yaml").write_text("blocks: {}\n")
    (tmp_path / "net.yaml").write_text(BAD)
    result = run("validate", ".", cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["net.yaml"]
    # Named explicitly, any file is a spec; --only-specs (the pre-commit hook) skips non-specs.
    assert run("validate", "ci.yaml", cwd=tmp_path).returncode == 1
    assert run("validate", "--only-specs", "ci.yaml", cwd=tmp_path).returncode == 0


def test_pre_commit_hook_runs_validate() -> None:
    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "graphspec-validate"
    assert hook["entry"].split()[:2] == ["graphspec", "validate"]
    # pre-commit runs the entry with the hook's venv on PATH; ours may not be on PATH, so
    # run the installed script beside this interpreter (or the module when there is none).
    script = Path(sys.executable).with_name("graphspec")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "graphspec"]
    args = hook["entry"].split()[1:]
    result = subprocess.run([*command, *args, "examples/branch.yaml", ".pre-commit-hooks.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_command_writes_the_shipped_schema(tmp_path: Path) -> None:
    assert run("schema", "--check").returncode == 0
    assert run("schema", "-o", str(tmp_path / "s.json")).returncode == 0
    assert (tmp_path / "s.json").read_text() == (ROOT / "schemas" / "graphspec.schema.json").read_text()
    assert run("catalogue").returncode == 2  # says --update or --check


def test_custom_types_for_validate(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(BAD.replace("Dense, units: 2, from: xx", "Antirectifier, from: x"))
    assert "unknown layer type 'Antirectifier'" in run("validate", "c.yaml", cwd=tmp_path).stdout
    assert run("validate", "--custom-type", "Antirectifier", "c.yaml", cwd=tmp_path).returncode == 0
