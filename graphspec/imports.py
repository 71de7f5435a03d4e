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

from graphspec.errors import Problem, SpecError, printable, shown
from graphspec.source import Limits, Path, SourceMap, collector_paused, parse_yaml
from graphspec.spec import BlockSpec, Spec, _check_names, _translate, check_nodes


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
    except (OSError, ValueError) as error:  # ValueError: a NUL in the path
        raise SpecError([Problem(f"cannot read the file: {getattr(error, 'strerror', None) or error}", file=shown, line=1, column=1, code="io")]) from None
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


MAX_PATH_CHARS = 4096  # an import path, as written
MAX_NAME_CHARS = 255  # one component of it


def add_imports(
    spec: Spec,
    base_dir: FilePath,
    limits: Limits,
    allow_outside: bool,
    chain: tuple[FilePath, ...] = (),
) -> list[Problem]:
    """Merge the blocks of every file `spec` imports (transitively) into ``spec.blocks``.

    Each file is read and parsed once per call, however many paths of the import graph
    reach it (a diamond, main -> b, c -> lib, reads lib once); the files are walked with an
    explicit stack, so a long chain of imports costs no Python recursion. At most
    `Limits.max_imports` files and `Limits.max_import_bytes` bytes are read. `chain`: the
    resolved path of the spec's own file, when it has one (an import of it is a cycle).
    """
    problems: list[Problem] = []
    linker = _Linker(limits, allow_outside, problems)
    root = _File(dict(spec.blocks), spec.source, spec.imports, base_dir)
    with collector_paused():  # many small objects and no cycles, as in parse_yaml
        libraries = linker.walk(root, chain[0] if chain else None)
    origins = {name: spec.source.file for name in spec.blocks}
    clashes: set[str] = set()
    for library, (importer, where) in libraries:  # libraries before the files importing them
        for name, block in library.blocks.items():
            known = spec.blocks.get(name)
            if known is None:
                spec.blocks[name] = block
                origins[name] = library.source.file
            elif known is not block and name not in clashes:
                clashes.add(name)  # named once, however many paths reach the two files
                problems.append(
                    importer.problem(
                        where,
                        f"block '{name}' is defined in both {origins[name]} and {library.source.file}",
                        hint="rename one of them",
                        code="import-clash",
                    )
                )
    return problems


class _File:
    """A spec or block library: its blocks, source map, imports, and where they are looked up."""

    __slots__ = ("blocks", "directory", "imports", "source")

    def __init__(self, blocks: dict[str, BlockSpec], source: SourceMap, imports: list[str], directory: FilePath) -> None:
        self.blocks, self.source, self.imports, self.directory = blocks, source, imports, directory


class _Linker:
    """Reads each imported file once, within the limits, and finds cycles."""

    def __init__(self, limits: Limits, allow_outside: bool, problems: list[Problem]) -> None:
        self.limits = limits
        self.allow_outside = allow_outside
        self.problems = problems
        self.files = 0
        self.bytes = 0
        self.over_budget = False
        self.first_reach: dict[FilePath, tuple[SourceMap, Path]] = {}  # the import line that first reached a file
        self.located: dict[tuple[FilePath, str], tuple[FilePath, str]] = {}  # (directory, path as written) -> resolved

    def walk(self, root: _File, root_path: FilePath | None) -> list[tuple[_File, tuple[SourceMap, Path]]]:
        """Every library reachable from `root`, each once, after those it imports; with the import line that first reached it."""
        reached: list[tuple[_File, tuple[SourceMap, Path]]] = []
        seen: set[FilePath] = set() if root_path is None else {root_path}
        # (resolved path, file, its next imports, the import line of the spec that led here)
        stack: list[tuple[FilePath | None, _File, Any, tuple[SourceMap, Path] | None]] = [(root_path, root, iter(enumerate(root.imports)), None)]
        on_path: list[FilePath | None] = [root_path]
        while stack:
            key, file, pending, entry = stack[-1]
            item = next(pending, None)
            if item is None:
                stack.pop()
                on_path.pop()
                if key is not None and key in self.first_reach:
                    reached.append((file, self.first_reach[key]))
                continue
            index, relative = item
            where: Path = ("imports", index)
            located = self.locate(relative, file, where)
            if located is None:
                continue
            target, shown = located
            if target in on_path:
                loop = " -> ".join(p.name for p in [*(p for p in on_path if p is not None), target])
                at_source, at_where = entry or (file.source, where)
                self.problems.append(at_source.problem(at_where, f"import cycle: {loop}", hint="a block library cannot import itself, directly or not", code="import-cycle"))
                continue
            if target in seen:
                continue  # read already: a diamond, or the same file under another spelling
            seen.add(target)
            library = self.load(target, shown, file.source, where)
            if library is None:
                continue
            self.first_reach[target] = (file.source, where)
            stack.append((target, library, iter(enumerate(library.imports)), entry or (file.source, where)))
            on_path.append(target)
        return reached

    def locate(self, relative: str, importer: _File, where: Path) -> tuple[FilePath, str] | None:
        """The resolved path of an import and its name for messages, or None (reported)."""
        known = self.located.get((importer.directory, relative))
        if known is not None:
            return known  # the same spelling again: no second round of system calls
        source = importer.source

        def refuse(message: str, code: str = "import-missing", hint: str = "check the path, relative to the importing file") -> None:
            self.problems.append(source.problem(where, message, hint=hint, code=code))

        reason = _path_problem(relative)
        if reason:
            refuse(f"cannot import {shown(relative)}: {reason}", hint="write a relative path of printable characters, such as 'lib/blocks.yaml'")
            return None
        try:
            target = (importer.directory / relative).resolve()
            inside = self.allow_outside or _inside(target, importer.directory.resolve())
        except (OSError, ValueError, RuntimeError) as error:  # whatever the OS layer says about the path
            refuse(f"cannot import '{relative}': {getattr(error, 'strerror', None) or error}")
            return None
        if not inside:
            refuse(
                f"import '{relative}' leaves the directory of the importing file",
                code="import-outside",
                hint="keep block libraries beside or below the spec, or pass allow_imports_outside=True if you trust it",
            )
            return None
        located = target, os.path.normpath(importer.directory / relative)  # as the user wrote it, for messages
        self.located[(importer.directory, relative)] = located
        return located

    def load(self, target: FilePath, shown_path: str, source: SourceMap, where: Path) -> _File | None:
        """A library read and checked, within the budget of files and bytes."""
        if self.over_budget:
            return None
        if self.files >= self.limits.max_imports:
            self.spent(f"more than {self.limits.max_imports:,} files are imported", "max_imports", source, where)
            return None
        self.files += 1
        found = _load_library(target, shown_path, source, where, self.limits, self.problems, self)
        if found is None:
            return None
        blocks, lib_source, imports = found
        return _File(blocks, lib_source, imports, FilePath(shown_path).parent)

    def count_bytes(self, size: int, source: SourceMap, where: Path) -> bool:
        """Add a file's size to the budget; False (reported once) when it is spent."""
        self.bytes += size
        if self.bytes <= self.limits.max_import_bytes:
            return True
        self.spent(f"the imported files hold more than {self.limits.max_import_bytes:,} bytes together", "max_import_bytes", source, where)
        return False

    def spent(self, message: str, limit: str, source: SourceMap, where: Path) -> None:
        """The budget of imports is spent: said once, at the import that spent it; no file is read after."""
        if not self.over_budget:
            self.over_budget = True
            self.problems.append(source.problem(where, message, hint=f"raise graphspec.Limits({limit}=...) if the specs are trusted", code="limit"))


def _path_problem(relative: str) -> str | None:
    """Why an import path cannot name a file, checked before the file system sees it."""
    if not relative:
        return "the path is empty"
    if not relative.isprintable():
        bad = next(c for c in relative if not c.isprintable())
        return f"the path holds the control character {printable(bad)}" if ord(bad) < 0xD800 or ord(bad) > 0xDFFF else "the path is not valid Unicode"
    if len(relative) > MAX_PATH_CHARS:
        return f"the path is longer than {MAX_PATH_CHARS:,} characters"
    if any(len(part) > MAX_NAME_CHARS for part in relative.replace("\\", "/").split("/")):
        return f"a name in the path is longer than {MAX_NAME_CHARS} characters"
    return None


def _load_library(
    target: FilePath, shown_path: str, source: SourceMap, where: Path, limits: Limits, problems: list[Problem], linker: _Linker
) -> tuple[dict[str, BlockSpec], SourceMap, list[str]] | None:
    try:
        text = read_text(target, shown_path, limits)
        if not linker.count_bytes(len(text.encode("utf-8", "surrogatepass")), source, where):
            return None
        document = parse_yaml(text, shown_path, limits)
    except SpecError as error:
        if error.problems[0].code == "io":
            problems.append(source.problem(where, f"cannot import '{shown_path}': {error.problems[0].message}", hint="check the path, relative to the importing file", code="import-missing"))
        else:
            problems.extend(error.problems)
        return None
    if not isinstance(document.data, dict):
        problems.append(document.source.problem((), "a block library must be a mapping with 'blocks'", code="not-a-mapping"))
        return None
    problems.extend(_check_names(document.data, document.source))
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
