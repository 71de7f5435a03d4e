"""`import graphspec`, `load` and `validate` must not import a deep-learning framework."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
FRAMEWORKS = ("tensorflow", "keras", "jax", "torch")

SCRIPT = f"""
import sys
import graphspec
from graphspec import cli
graphspec.load("examples/branch.yaml")
try:
    graphspec.loads("inputs: {{x: {{shape: [1]}}}}\\nnodes: {{}}\\noutputs: [nope]")
except graphspec.SpecError:
    pass
assert cli.main(["validate", "examples/branch.yaml"]) == 0
print(sorted(m for m in sys.modules if m.split(".")[0] in {FRAMEWORKS!r}))
"""


def test_load_and_validate_import_no_framework() -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout


def test_public_api() -> None:
    import graphspec

    assert {"build", "load", "loads", "SpecError", "Limits"} <= set(graphspec.__all__)
    for name in graphspec.__all__:
        assert hasattr(graphspec, name)
