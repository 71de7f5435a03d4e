"""Every example in docs/language.md does what the page says it does.

The page's fenced blocks are read in order, each with the section it sits in:

- ```` ```yaml ```` is a complete spec. It is loaded (no Keras) and built; the
  ``**Builds:**`` line after it states the parameter count, the output shapes and, where
  given, layer names the model must contain, and the test compares them.
- ```` ```yaml file=PATH ```` is a block library: it is written to PATH beside the specs,
  and checked by the specs that import it.
- ```` ```yaml-error ```` is a spec with a mistake: loading (or building) it as ``net.yaml``
  must raise `SpecError` whose problems print exactly as the ``net.yaml:...`` lines of the
  ```` ```text ```` fence that follows it.
- ```` ```python ```` fences that define classes are run once, and the Keras layers they
  define are the ``custom_objects`` of every build (the page's custom layers).

Test ids are the section's anchor and the example's number in it, so a failure names the
section to fix.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import graphspec

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "language.md"
SPEC_FILE = "net.yaml"  # the name the page's error messages show


@dataclass(frozen=True)
class Fence:
    """One fenced block of the page: its info string, text, section and what follows it."""

    info: str
    text: str
    line: int
    section: str
    number: int  # among the fences of its kind in its section, from 1
    after: str  # the page's text between this fence and the next fence or heading

    @property
    def id(self) -> str:
        return f"{self.section}-{self.number}"


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: ``## `from` and refs`` -> ``from-and-refs``."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def read_fences(text: str) -> list[Fence]:
    lines = text.splitlines()
    fences: list[Fence] = []
    section = "top"
    counts: dict[tuple[str, str], int] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            section = anchor(line.lstrip("#"))
        elif line.startswith("```"):
            info = line[3:].strip()
            end = index + 1
            while not lines[end].startswith("```"):
                end += 1
            after_end = end + 1
            while after_end < len(lines) and not lines[after_end].startswith(("```", "#")):
                after_end += 1
            kind = info.split()[0] if info else ""
            counts[(section, kind)] = counts.get((section, kind), 0) + 1
            fences.append(
                Fence(info, "\n".join(lines[index + 1 : end]) + "\n", index + 1, section, counts[(section, kind)], "\n".join(lines[end + 1 : after_end]))
            )
            index = end
        index += 1
    return fences


FENCES = read_fences(DOC.read_text(encoding="utf-8"))
SPECS = [f for f in FENCES if f.info == "yaml"]
LIBRARIES = {f.info.split("file=", 1)[1]: f.text for f in FENCES if f.info.startswith("yaml file=")}
MISTAKES = [(f, FENCES[i + 1]) for i, f in enumerate(FENCES) if f.info == "yaml-error"]
CUSTOM_CODE = [f.text for f in FENCES if f.info == "python" and re.search(r"^class \w+", f.text, re.M)]
CUSTOM_TYPES = [name for code in CUSTOM_CODE for name in re.findall(r"^class (\w+)", code, re.M)]


@dataclass
class Claim:
    """What a ``**Builds:**`` line states."""

    params: int
    shapes: list[tuple[str | None, tuple[int | None, ...]]]
    layers: list[str]


BUILDS = re.compile(r"^\*\*Builds:\*\* ([\d,]+) parameters; outputs? (.+?)(?:; layers (.+?))?\.$", re.M)


def claim_of(fence: Fence) -> Claim:
    match = BUILDS.search(fence.after)
    assert match, f"docs/language.md:{fence.line}: no '**Builds:** N parameters; output (...)' line after this example"
    shapes = [
        (name or None, tuple(None if d.strip() == "None" else int(d) for d in dims.split(",") if d.strip()))
        for name, dims in re.findall(r"(?:(\w+) )?\(([^)]*)\)", match.group(2))
    ]
    layers = [name.strip() for name in match.group(3).split(",")] if match.group(3) else []
    return Claim(int(match.group(1).replace(",", "")), shapes, layers)


def write_files(directory: Path, spec_text: str) -> Path:
    """The page's libraries and one spec, as files: imports are relative to the spec."""
    for relative, text in LIBRARIES.items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    path = directory / SPEC_FILE
    path.write_text(spec_text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def custom_objects() -> Iterator[dict[str, Any]]:
    """The Keras layers the page's Python fences define; their Keras registrations are undone after."""
    import keras

    registry = keras.saving.get_custom_objects()
    before = set(registry)
    found: dict[str, Any] = {}
    for code in CUSTOM_CODE:
        namespace: dict[str, Any] = {}
        exec(compile(code, str(DOC), "exec"), namespace)
        found.update({k: v for k, v in namespace.items() if isinstance(v, type) and issubclass(v, keras.layers.Layer)})
    assert sorted(found) == sorted(CUSTOM_TYPES)
    yield found
    for name in set(registry) - before:
        del registry[name]


def test_the_page_has_examples() -> None:
    sections = {f.section for f in SPECS}
    for needed in (
        "a-whole-file", "top-level-keys", "inputs", "layer-nodes", "merge-nodes", "share-nodes", "from-and-refs",
        "repeat", "outputs", "params-and-expressions", "keras-objects-as-arguments", "defining-a-block", "block-params",
        "block-inputs", "block-outputs-by-name-and-index", "sharing-a-block-node", "imports-block-libraries", "expect",
        "compile", "custom-layers", "limits",
    ):  # fmt: skip
        assert needed in sections, f"no example in section '{needed}'"
    assert LIBRARIES and MISTAKES and CUSTOM_TYPES


@pytest.mark.parametrize("fence", SPECS, ids=[f.id for f in SPECS])
def test_example_builds_as_stated(fence: Fence, tmp_path: Path, custom_objects: dict[str, Any]) -> None:
    claim = claim_of(fence)
    path = write_files(tmp_path, fence.text)
    spec = graphspec.load(path, custom_types=CUSTOM_TYPES)
    assert not spec.warnings, [str(w) for w in spec.warnings]
    model = graphspec.build(path, custom_objects=custom_objects)
    assert model.count_params() == claim.params
    if isinstance(spec.outputs, dict):
        assert isinstance(model.output, dict)
        actual = [(name, tuple(tensor.shape)) for name, tensor in model.output.items()]
        assert sorted(actual) == sorted(claim.shapes)
    else:
        assert [(None, tuple(t.shape)) for t in model.outputs] == claim.shapes
    for name in claim.layers:
        model.get_layer(name)  # raises ValueError when the model has no such layer
    if spec.compile is not None:
        assert model.compiled and model.optimizer is not None


@pytest.mark.parametrize(("fence", "shown"), MISTAKES, ids=[f.id for f, _ in MISTAKES])
def test_mistake_is_reported_as_shown(
    fence: Fence, shown: Fence, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, custom_objects: dict[str, Any]
) -> None:
    """The error lines after a mistake are exactly what graphspec reports (carets left out)."""
    expected = [line for line in shown.text.splitlines() if line.startswith(f"{SPEC_FILE}:")]
    assert shown.info == "text" and expected, f"docs/language.md:{shown.line}: show the error after the example"
    write_files(tmp_path, fence.text)
    monkeypatch.chdir(tmp_path)  # messages name the file as it was given: net.yaml
    with pytest.raises(graphspec.SpecError) as caught:
        graphspec.load(SPEC_FILE, custom_types=CUSTOM_TYPES)
        graphspec.build(SPEC_FILE, custom_objects=custom_objects)
    assert [problem.format() for problem in caught.value.problems] == expected


def test_loading_every_example_needs_no_keras(tmp_path: Path) -> None:
    """`load` of each example (libraries and custom types included) imports no framework."""
    for index, fence in enumerate(SPECS):
        directory = tmp_path / str(index)
        directory.mkdir()
        write_files(directory, fence.text)
    script = (
        "import sys, pathlib, graphspec\n"
        f"for path in sorted(pathlib.Path({str(tmp_path)!r}).glob('*/{SPEC_FILE}')):\n"
        f"    graphspec.load(path, custom_types={CUSTOM_TYPES!r})\n"
        "loaded = [m for m in ('keras', 'tensorflow', 'jax', 'torch') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_links_stay_in_the_repository() -> None:
    text = DOC.read_text(encoding="utf-8")
    anchors = {anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    for target in re.findall(r"\]\(([^)]+)\)", text):
        assert "://" not in target, f"a link outside the repository: {target}"
        file, _, fragment = target.partition("#")
        if file:
            assert (DOC.parent / file).exists(), f"a link to a missing file: {target}"
        else:
            assert fragment in anchors, f"a link to a missing section: #{fragment}"


def test_no_reference_to_documents_outside_the_repository() -> None:
    for path in [ROOT / "README.md", ROOT / "SECURITY.md", *sorted((ROOT / "docs").glob("*.md"))]:
        if path.exists():
            text = path.read_text(encoding="utf-8").lower()
            for phrase in ("spec-language.md", "design card", "/work/"):
                assert phrase not in text, f"{path.name} mentions {phrase!r}"
