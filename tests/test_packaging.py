"""The distributions: the sdist holds what the test suite needs, the wheel what an install needs.

Built here without network (``python -m build --no-isolation``, setuptools from the dev
extra). Running the whole suite from the unpacked sdist is a release check, not a unit
test; the note of the change that added this file gives the command and its result.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    pytest.importorskip("build", reason="the build package is in the dev extra")
    out = tmp_path_factory.mktemp("dist")
    work = tmp_path_factory.mktemp("src") / "src"
    # Build from a copy: setuptools writes an egg-info directory beside the sources.
    shutil.copytree(ROOT, work, ignore=shutil.ignore_patterns(".git", ".venv", "*.egg-info", "__pycache__", ".pytest_cache", "build", "dist"))
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "-o", str(out), str(work)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {"sdist": next(out.glob("*.tar.gz")), "wheel": next(out.glob("*.whl"))}


def tracked_files() -> list[str]:
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout (the sdist itself, say): no list of tracked files to compare with")
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [f for f in listed if (ROOT / f).is_file()]


def test_sdist_holds_every_tracked_file(dists: dict[str, Path]) -> None:
    with tarfile.open(dists["sdist"]) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    missing = [f for f in tracked_files() if f not in names and f != ".gitignore"]
    assert not missing, f"the sdist lacks {missing[:20]}; add them to MANIFEST.in"


def test_wheel_ships_schema_catalogue_and_license(dists: dict[str, Path]) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = next(wheel.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    for needed in ("graphspec/graphspec.schema.json", "graphspec/catalogue.json", "graphspec/py.typed"):
        assert needed in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "Name: keras-graphspec" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    assert "Project-URL: Source, https://github.com/graphspec/graphspec" in metadata


def test_core_dependencies_hold_no_framework() -> None:
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = sorted(d.split(">")[0].split("=")[0].split("<")[0].strip() for d in project["dependencies"])
    assert names == ["networkx", "pydantic", "pyyaml"]
    extras = project["optional-dependencies"]
    assert {"tensorflow", "jax", "torch", "tune", "dev"} <= set(extras)
    assert (ROOT / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert project["license"] == "Apache-2.0"
