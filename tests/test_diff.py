"""diff.py: golden outputs of `graphspec diff` on pairs of specs, and the git diff driver.

Each line of ``tests/diff/cases.txt`` names a pair, options and the exit code; the output
must equal ``tests/diff/NAME.out``. Regenerate after an intended change with
``GRAPHSPEC_UPDATE_GOLDEN=1 pytest tests/test_diff.py`` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from graphspec import cli

ROOT = Path(__file__).parent.parent
CASES = ROOT / "tests" / "diff"


def _cases() -> list[tuple[str, str, str, list[str], int]]:
    rows = []
    for line in (CASES / "cases.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, old, new, options, code = (part.strip() for part in line.split("|"))
            rows.append((name, old, new, options.split(), int(code)))
    return rows


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(("name", "old", "new", "options", "code"), _cases(), ids=[c[0] for c in _cases()])
def test_golden(name: str, old: str, new: str, options: list[str], code: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    actual_code, output, err = run("diff", old, new, *options)
    assert err == ""
    golden = CASES / f"{name}.out"
    if os.environ.get("GRAPHSPEC_UPDATE_GOLDEN") or not golden.exists():
        golden.write_text(output)
        if not os.environ.get("GRAPHSPEC_UPDATE_GOLDEN"):
            pytest.fail(f"wrote the missing golden file {golden.name}; review it and rerun")
    assert output == golden.read_text()
    assert actual_code == code
    if "json" in options:
        assert json.loads(output)["equivalent"] is (code == 0)


def test_rename_keeps_neighbours_matched(monkeypatch: pytest.MonkeyPatch) -> None:
    """conv_2 reads from the renamed node; it is unchanged, not 'edges changed'."""
    monkeypatch.chdir(ROOT)
    _, output, _ = run("diff", "examples/toy_resnet.yaml", "tests/diff/toy_resnet_renamed.yaml", "--format", "json")
    changes = json.loads(output)["changes"]
    assert {"section": "nodes", "kind": "renamed", "subject": "stem", "detail": "renamed from conv_1"} in changes
    assert not any(c["subject"] == "conv_2" for c in changes)


def test_every_example_is_equivalent_to_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for path in sorted(ROOT.glob("examples/*.yaml")):
        code, output, err = run("diff", str(path.relative_to(ROOT)), str(path.relative_to(ROOT)))
        assert (code, err) == (0, ""), (path, output, err)


@pytest.mark.slow
def test_build_reports_shapes_and_parameter_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    code, output, _ = run("diff", "examples/toy_resnet.yaml", "tests/diff/toy_resnet_renamed.yaml", "--build", "--format", "json")
    data = json.loads(output)
    assert code == 1
    assert data["totals"] == {"old": {"params": 223242, "trainable": 223242}, "new": {"params": 213642, "trainable": 213642}}
    rows = {row["node"]: row for row in data["build"]}
    assert rows["stem"]["was"] == "conv_1" and rows["stem"]["old"] == rows["stem"]["new"] == {"shape": [None, 30, 30, 32], "params": 896}
    assert rows["dense"]["old"] == {"shape": [None, 256], "params": 16640} and rows["dense"]["new"] == {"shape": [None, 128], "params": 8320}


def test_usage_and_io_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert run("diff", "examples/mlp.yaml")[0] == 2
    code, _, err = run("diff", "examples/mlp.yaml", str(tmp_path / "missing.yaml"))
    assert code == 2 and "cannot read" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("inputs: {x: {shape: [2]}}\nnodes: {y: {type: Dense, units: 1, from: xx}}\noutputs: [y]\n")
    code, _, err = run("diff", "examples/mlp.yaml", str(broken))
    assert code == 2 and "unknown ref 'xx'" in err
    code, _, err = run("diff", "git:nonexistent-revision:examples/mlp.yaml", "examples/mlp.yaml")
    assert code == 2 and "git show nonexistent-revision:examples/mlp.yaml" in err


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo)}
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_diff_driver_and_git_revisions(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copy(ROOT / "examples" / "toy_resnet.yaml", repo / "model.yaml")
    (repo / ".gitattributes").write_text("*.yaml diff=graphspec\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "model")
    shutil.copy(CASES / "toy_resnet_renamed.yaml", repo / "model.yaml")
    driver = f"{sys.executable} -m graphspec diff --git-driver"
    env_path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    os.environ["PYTHONPATH_SAVED"] = os.environ.get("PYTHONPATH", "")
    try:
        os.environ["PYTHONPATH"] = env_path  # the driver runs this checkout's graphspec
        _git(repo, "config", "diff.graphspec.command", driver)
        shown = _git(repo, "diff")
        assert "graphspec diff a/model.yaml -> b/model.yaml: 4 change(s) to the model" in shown
        assert "~ node stem: renamed from conv_1" in shown and "~ node dense: units: 256 -> 128" in shown
        assert "@@" not in shown  # the semantic diff, not git's text diff
        (repo / "notes.yaml").write_text("just: [some, yaml]\n")  # not a spec: a plain diff
        _git(repo, "add", "notes.yaml")
        shown = _git(repo, "diff", "--cached")
        assert "+just: [some, yaml]" in shown
        _git(repo, "commit", "-qam", "renamed")
        code, output, err = _in(repo, "diff", "git:HEAD~1:model.yaml", "git:HEAD:model.yaml")
        assert (code, err) == (1, "") and "~ node stem: renamed from conv_1" in output
    finally:
        os.environ["PYTHONPATH"] = os.environ.pop("PYTHONPATH_SAVED")


def _in(directory: Path, *argv: str) -> tuple[int, str, str]:
    before = os.getcwd()
    os.chdir(directory)
    try:
        return run(*argv)
    finally:
        os.chdir(before)
