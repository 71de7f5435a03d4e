"""The JSON Schema in a real editor backend: benchmarks/editor_check.py against yaml-language-server.

Runs when `yaml-language-server` is on PATH (`npm install -g yaml-language-server`;
.ci/run installs it where npm exists) and skips, saying so, otherwise.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).parent.parent
SERVER = shutil.which("yaml-language-server")



def editor_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("editor_check", ROOT / "benchmarks" / "editor_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_positions_are_found_by_content() -> None:
    check = editor_check()
    text, line, character = check.open_line_after("a:\n  b:\n    from: x\n    \nc: 1\n", "from: x")
    assert text.split("\n")[line] == "    " and character == 4 and line == 3
    assert check.line_of(check.CONV_DOC, "padding: smae") == check.CONV_DOC.split("\n").index("    padding: smae")
    with pytest.raises(ValueError, match="expected one line"):
        check.line_of("a: 1\na: 1\n", "a: 1")


@pytest.mark.slow  # about 7 s: a node process, the schema loaded, 13 examples validated
@pytest.mark.skipif(SERVER is None, reason="yaml-language-server is not on PATH (npm install -g yaml-language-server)")
def test_schema_in_yaml_language_server() -> None:
    check = editor_check()
    report = check.run_checks(check.server_command(None, None))
    assert report.failures == []
    assert report.server and report.server["name"] == "yaml-language-server"
    assert {"units", "activation", "use_bias"} <= set(report.completion)
    assert "filters" not in report.completion  # Dense's arguments, not every layer's
    flagged = {d["range"]["start"]["line"]: d["message"] for d in report.conv_diagnostics}
    assert "unit" in flagged[check.line_of(check.CONV_DOC, "unit: 5")]
    assert "same" in flagged[check.line_of(check.CONV_DOC, "padding: smae")]
    assert len(report.example_diagnostics) == len(list((ROOT / "examples").rglob("*.yaml"))) > 0
    assert all(diags == [] for diags in report.example_diagnostics.values())
    assert report.broken_example_diagnostics
