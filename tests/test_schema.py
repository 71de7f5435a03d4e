"""The JSON Schema of graphspec files: accepts the examples, rejects known mistakes,
and the committed ``schemas/graphspec.schema.json`` is the one `json_schema` makes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

jsonschema = pytest.importorskip("jsonschema")

from graphspec.schema import PACKAGE_SCHEMA, REGENERATE, SCHEMA_PATH, json_schema  # noqa: E402 (after importorskip)
from graphspec.source import parse_yaml  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_FILES = sorted((ROOT / "examples").rglob("*.yaml"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json_schema()


@pytest.fixture(scope="module", params=["Draft202012Validator", "Draft7Validator"])
def validator(request: pytest.FixtureRequest, schema: dict[str, Any]) -> Any:
    """The 2020-12 validator the schema declares, and draft-07 (what yaml-language-server reads)."""
    return getattr(jsonschema, request.param)(schema)


def errors(validator: Any, text: str) -> list[str]:
    return [e.message for e in validator.iter_errors(parse_yaml(text).data)]


def test_schema_is_valid_2020_12(schema: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", [SCHEMA_PATH, PACKAGE_SCHEMA], ids=["schemas", "package"])
def test_committed_schema_is_current(schema: dict[str, Any], path: Path) -> None:
    """The top-level copy (the examples' $schema) and the package's (installs) are both current."""
    assert path.exists(), f"{path} is missing; run: {REGENERATE}"
    committed = json.loads(path.read_text(encoding="utf-8"))
    assert committed == schema, f"{path.relative_to(ROOT)} is stale; run: {REGENERATE}"


def test_schema_check_names_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "none.json"
    result = subprocess.run([sys.executable, "-m", "graphspec", "schema", "--check", "-o", str(missing)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert f"{missing} is missing; run: {REGENERATE}" in result.stderr
    result = subprocess.run([sys.executable, "-m", "graphspec", "schema", "--path"], capture_output=True, text=True, cwd=ROOT)
    assert Path(result.stdout.strip()) == PACKAGE_SCHEMA


def test_refs_have_no_siblings(schema: dict[str, Any]) -> None:
    """Draft-07 tools ignore keywords beside $ref; the schema never relies on them."""

    def walk(node: Any, path: str) -> Iterator[str]:
        if isinstance(node, dict):
            if "$ref" in node and len(node) > 1:
                yield path
            for key, value in node.items():
                yield from walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{path}/{i}")

    assert list(walk(schema, "#")) == []


def test_schema_module_imports_no_framework() -> None:
    script = (
        "import sys\n"
        "from graphspec.schema import json_schema\n"
        "json_schema()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax', 'torch')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: str(p.relative_to(ROOT / "examples")))
def test_examples_validate(validator: Any, path: Path) -> None:
    assert errors(validator, path.read_text(encoding="utf-8")) == []


SPEC = """\
params: {hidden: 8, base: 4}
inputs: {x: {shape: [784]}, img: {shape: [28, 28, 1]}, seq: {shape: [null, 8]}}
outputs: [y]
nodes:
  y: {type: Dense, units: 3, from: x}
  n: %s
"""

ACCEPTED = [
    "{type: Dense, units: $hidden, activation: $(act), from: x}",
    "{type: Dense, units: $(2 * base), kernel_initializer: $init, from: x}",
    "{type: Dense, units: 10, activation: null, use_bias: false, from: x}",
    "{type: Dense, units: 10, kernel_initializer: {type: HeNormal, seed: 1}, kernel_regularizer: {type: L2, l2: 0.01}, from: x}",
    "{type: Dense, units: 10, kernel_initializer: he_normal, kernel_regularizer: l2, kernel_constraint: max_norm, from: x}",
    "{type: Conv2D, filters: 8, kernel_size: [3, 3], strides: 2, padding: same, data_format: channels_last, from: img}",
    "{type: Conv2D, filters: 8, kernel_size: 3, padding: SAME, from: img}",
    "{type: Conv1D, filters: 8, kernel_size: 3, padding: causal, from: seq}",
    "{type: Dropout, rate: 0, from: x}",
    "{type: LSTM, units: 4, dropout: 0.5, return_state: true, from: seq}",
    "{type: Bidirectional, layer: {type: LSTM, units: 4, return_sequences: true}, merge_mode: null, from: seq}",
    "{type: Dense, units: 3, from: x, repeat: 3}",
    "{type: Dense, units: 3, from: x, repeat: $n}",
    "{type: Antirectifier, anything: [1, 2], from: x}",
    "{merge: concatenate, axis: -1, from: [x, y]}",
    "{merge: dot, axes: 1, from: [x, y]}",
    "{share: y, from: x}",
    "{block: res, filters: 3, whatever: $base, from: x}",
    "{type: MultiHeadAttention, num_heads: 2, key_dim: 16, from: {query: seq, value: seq}}",
]


@pytest.mark.parametrize("node", ACCEPTED)
def test_accepted(validator: Any, node: str) -> None:
    assert errors(validator, SPEC % node) == []


REJECTED = [
    "{type: Dense, unit: 3, from: x}",  # unknown argument
    "{type: Dense, units: many, from: x}",  # wrong type
    "{type: Dense, units: 2.5, from: x}",
    "{type: Conv2D, filters: 8, kernel_size: 3, padding: smae, from: img}",  # wrong choice
    "{type: Conv2D, filters: 8, kernel_size: 3, padding: causal, from: img}",  # causal is Conv1D's
    "{type: Conv2D, filters: 8, kernel_size: 3, data_format: channels_middle, from: img}",
    "{type: Dense, units: 3, activation: rellu, from: x}",  # unknown activation
    "{type: Dense, units: 3, kernel_initializer: he_normall, from: x}",  # unknown initializer
    "{type: Dense, units: 3, kernel_initializer: {type: HeNormall}, from: x}",  # unknown class
    "{type: Dense, units: 3, kernel_initializer: {type: HeNormal, sed: 1}, from: x}",  # its argument
    "{type: Bidirectional, layer: {type: LSTM, unitz: 3}, from: seq}",  # a wrapped layer's argument
    "{type: Dense, from: x}",  # a required argument
    "{type: Dense, units: 3, name: h, from: x}",  # the node's name is the layer's
    "{type: Dense, units: 3}",  # no from
    "{type: Dense, merge: add, units: 3, from: x}",  # two kinds
    "{units: 3, from: x}",  # no kind
    "{merge: concat, from: [x, y]}",  # unknown merge
    "{merge: subtract, from: [x, y, x]}",  # exactly two
    "{merge: add, from: [x]}",  # at least two
    "{share: y, units: 3, from: x}",  # share takes no arguments
    "{type: Dense, units: 3, from: x, repeat: 0}",
    "{type: Dense, units: 3, from: 'x y'}",  # not a ref
    "{type: Dense, units: 3, kernel_initializer: {class_name: HeNormal, config: {}}, from: x}",  # Keras's serialized form
]


@pytest.mark.parametrize("node", REJECTED)
def test_rejected(validator: Any, node: str) -> None:
    assert errors(validator, SPEC % node) != []


@pytest.mark.parametrize(
    "text",
    [
        "inputs: {x: {shape: [784]}}\nnodes: {y: {type: Dense, units: 3, from: x}}\noutputs: [y]\nextra: 1\n",
        "nodes: {y: {type: Dense, units: 3, from: x}}\noutputs: [y]\n",
        "inputs: {x: {shape: [784], dtyp: int32}}\nnodes: {y: {type: Dense, units: 3, from: x}}\noutputs: [y]\n",
        "inputs: {x: {shape: [784]}}\nnodes: {y: {type: Dense, units: 3, from: x}}\noutputs: [y]\ngraphspec: 2\n",
        "inputs: {1x: {shape: [784]}}\nnodes: {y: {type: Dense, units: 3, from: 1x}}\noutputs: [y]\n",
        "inputs: {x: {shape: [784]}}\nnodes: {y: {type: Dense, units: 3, from: x}}\noutputs: [y]\ncompile: {optimizer: {type: Adam, learning_rat: 0.1}}\n",
    ],
    ids=["top-level-key", "no-inputs", "input-key", "version", "bad-name", "optimizer-argument"],
)
def test_rejected_documents(validator: Any, text: str) -> None:
    assert errors(validator, text) != []
