"""Block libraries: ``imports: [lib/blocks.yaml]`` brings in the `blocks` of other files.

Paths are relative to the importing file and may not leave its directory tree
(through ``..``, an absolute path or a symlink) unless the caller allows it. Each
imported block keeps its own source map, so its errors point into its own file.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path as FilePath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graphspec.errors import Problem, SpecError
from graphspec.source import Limits, SourceMap, parse_yaml
from graphspec.spec import BlockSpec, Spec, _translate, check_nodes


class _Library(BaseModel):
    """What an imported file contributes: its blocks (and its own imports)."""

    model_config = ConfigDict(extra="ignore")
    imports: list[str] = Field(default_factory=list)
    blocks: dict[str, BlockSpec] = Field(default_factory=dict)


def read_text(path: FilePath, shown: str, limits: Limits) -> str:
    """A regular file's text, read up to the size limit, or a `SpecError` saying why not."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise SpecError([Problem("not a regular file (a device, pipe or directory?)", file=shown, line=1, column=1, code="io")])
        with open(path, "rb") as stream:
            data = stream.read(limits.max_bytes + 1)
    except OSError as error:
        raise SpecError([Problem(f"cannot read the file: {error.strerror or error}", file=shown, line=1, column=1, code="io")]) from None
    if len(data) > limits.max_bytes:
        raise SpecError(
            [
                Problem(
                    f"the file is larger than the limit of {limits.max_bytes:,} bytes",
                    file=shown,
                    line=1,
                    column=1,
                    hint="raise it with limits=graphspec.Limits(max_bytes=...) if the file is trusted",
                    code="limit",
                )
            ]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SpecError(
            [Problem(f"the file is not UTF-8 text (byte {error.start})", file=shown, line=1, column=1, hint="save it as UTF-8", code="io")]
        ) from None


def add_imports(
    spec: Spec,
    base_dir: FilePath,
    limits: Limits,
    allow_outside: bool,
    chain: tuple[FilePath, ...] = (),
) -> list[Problem]:
    """Merge the blocks of every file `spec` imports (recursively) into ``spec.blocks``."""
    problems: list[Problem] = []
    origins: dict[str, str] = {name: spec.source.file for name in spec.blocks}
    _import_into(spec.blocks, origins, spec.imports, spec.source, base_dir, limits, allow_outside, chain, problems)
    return problems


def _import_into(
    blocks: dict[str, BlockSpec],
    origins: dict[str, str],
    imports: list[str],
    source: SourceMap,
    base_dir: FilePath,
    limits: Limits,
    allow_outside: bool,
    chain: tuple[FilePath, ...],
    problems: list[Problem],
    entry: tuple[SourceMap, tuple[Any, ...]] | None = None,
) -> None:
    """`entry`: the import line in the file the user loaded that led here, for cycles."""
    for index, relative in enumerate(imports):
        where = ("imports", index)
        entry_source, entry_where = entry or (source, where)
        target = (base_dir / relative).resolve()
        shown = os.path.normpath(base_dir / relative)  # as the user wrote it, for messages
        if not allow_outside and not _inside(target, base_dir.resolve()):
            problems.append(
                source.problem(
                    where,
                    f"import '{relative}' leaves the directory of the importing file",
                    hint="keep block libraries beside or below the spec, or pass allow_imports_outside=True if you trust it",
                    code="import-outside",
                )
            )
            continue
        if target in chain:
            loop = " -> ".join(p.name for p in chain + (target,))
            problems.append(
                entry_source.problem(entry_where, f"import cycle: {loop}", hint="a block library cannot import itself, directly or not", code="import-cycle")
            )
            continue
        library = _load_library(target, shown, source, where, limits, problems)
        if library is None:
            continue
        lib_blocks, lib_source, lib_imports = library
        nested: dict[str, BlockSpec] = {}
        nested_origins: dict[str, str] = {}
        _import_into(nested, nested_origins, lib_imports, lib_source, FilePath(shown).parent, limits, allow_outside, chain + (target,), problems, (entry_source, entry_where))
        nested_origins.update({name: shown for name in lib_blocks})
        nested.update(lib_blocks)
        for name, block in nested.items():
            if name in blocks and blocks[name] is not block:
                problems.append(
                    source.problem(
                        where,
                        f"block '{name}' is defined in both {origins[name]} and {nested_origins[name]}",
                        hint="rename one of them",
                        code="import-clash",
                    )
                )
                continue
            blocks[name] = block
            origins[name] = nested_origins[name]


def _load_library(
    target: FilePath, shown: str, source: SourceMap, where: tuple[Any, ...], limits: Limits, problems: list[Problem]
) -> tuple[dict[str, BlockSpec], SourceMap, list[str]] | None:
    try:
        text = read_text(target, shown, limits)
        document = parse_yaml(text, shown, limits)
    except SpecError as error:
        if error.problems[0].code == "io":
            problems.append(source.problem(where, f"cannot import '{shown}': {error.problems[0].message}", hint="check the path, relative to the importing file", code="import-missing"))
        else:
            problems.extend(error.problems)
        return None
    if not isinstance(document.data, dict):
        problems.append(document.source.problem((), "a block library must be a mapping with 'blocks'", code="not-a-mapping"))
        return None
    try:
        library = _Library.model_validate(document.data)
    except ValidationError as error:
        problems.extend(_translate(e, document.data, document.source) for e in error.errors())
        return None
    for name, block in library.blocks.items():
        block.place(document.source, name)
        problems.extend(check_nodes(block.nodes, ("blocks", name, "nodes"), document.source))
    return library.blocks, document.source, library.imports


def _inside(path: FilePath, directory: FilePath) -> bool:
    try:
        path.relative_to(directory)
        return True
    except ValueError:
        return False
