"""The public entry points, and the pipeline they chain: `check` runs read -> validate -> link
-> analyze -> expand, `build_checked` lowers the result to Keras (docs/architecture.md)."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path as FilePath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Union

from graphspec.backend import import_keras
from graphspec.errors import Problem, SpecError, budgeted
from graphspec.imports import add_imports, read_text
from graphspec.resolve import Graph, check_structure, expand
from graphspec.search import check_search
from graphspec.source import Limits, collector_paused, parse_yaml
from graphspec.spec import Checks, Spec, validate_document

if TYPE_CHECKING:  # keras is imported by `build` only
    import keras

PathLike = Union[str, "os.PathLike[str]"]


@budgeted
def loads(
    text: str,
    *,
    file: str = "<string>",
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    base_dir: PathLike | None = None,
    allow_imports_outside: bool = False,
    custom_types: Collection[str] = (),
) -> Spec:
    """Parse and check a spec given as text, without importing Keras.

    Args:
        text: the YAML.
        file: the name shown in error messages.
        params: overrides of the spec's params, checked here as `build` would use them.
        limits: resource bounds for untrusted input (`graphspec.Limits`).
        base_dir: where ``imports`` are looked up (default: the file's directory, or
            the current directory for text).
        allow_imports_outside: let ``imports`` leave `base_dir`'s tree.
        custom_types: names of custom layers and objects that `build` will be given
            (``custom_objects``) or that are registered with Keras by class name; any other
            type the layer catalogue does not know is an error.

    Returns:
        The validated `Spec`; its ``warnings`` list unused nodes.

    Raises:
        SpecError: every problem found, each at its line and column.

    Example:
        >>> spec = loads("inputs: {x: {shape: [4]}}\\nnodes: {y: {type: Dense, units: 2, from: x}}\\noutputs: [y]")
        >>> list(spec.nodes)
        ['y']
    """
    checked = check(text, file=file, params=params, limits=limits, base_dir=base_dir, allow_imports_outside=allow_imports_outside, custom_types=custom_types)
    if checked.problems or checked.spec is None:
        raise SpecError(checked.problems)
    return checked.spec


@dataclass(frozen=True)
class Checked:
    """What checking a spec's text gave: the spec (None when it cannot be read as one),
    every problem found, and the expanded graph (None when checking stopped early)."""

    spec: Spec | None
    problems: tuple[Problem, ...]
    graph: Graph | None

    @property
    def warnings(self) -> list[Problem]:
        """Unused nodes and inputs, in file order (none when checking stopped early)."""
        return self.spec.warnings if self.spec is not None else []


@budgeted
@collector_paused()  # many small objects, no cycles: full collections made 100,000 nodes 1.5x slower
def check(
    text: str,
    *,
    file: str = "<string>",
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    base_dir: PathLike | None = None,
    allow_imports_outside: bool = False,
    custom_types: Collection[str] = (),
) -> Checked:
    """The pipeline up to lowering, each stage once: read -> validate -> link -> analyze -> expand.

    `build_checked` is the last stage, lower (docs/architecture.md has the table). Problems
    are returned, not raised, so that `build` can go on with the nodes they do not touch
    (arguments as `loads`).

    Raises:
        SpecError: only when the text cannot be parsed, or is past `limits`.
    """
    limits = limits or Limits()
    # read: YAML text -> plain data + source map
    document = parse_yaml(text, file, limits)
    # validate: data -> Spec (the document's models), and every per-node check
    spec, problems = validate_document(document.data, document.source)
    if spec is None:
        return Checked(None, tuple(problems), None)
    if spec.name is None and file != "<string>":
        spec.name = FilePath(file).stem
    problems += check_search(spec)
    # link: imported block libraries join the spec's blocks
    if base_dir is None:
        base_dir = FilePath(file).parent if file != "<string>" else FilePath.cwd()
    import_problems = add_imports(spec, FilePath(base_dir), limits, allow_imports_outside, (FilePath(file).resolve(),) if file != "<string>" else ())
    problems += import_problems
    if any(p.category == "imports" for p in import_problems):
        return Checked(None, tuple(problems), None)  # unknown blocks would follow from the failed import
    # analyze: refs, cycles, build order, unused nodes, in every scope
    structure = check_structure(spec)
    # expand: params substituted, blocks instantiated, repeat unrolled, arguments checked
    graph, found = expand(spec, params, limits, structure, custom_types)
    problems += found
    overrides = MappingProxyType(dict(params or {}))
    spec.record(Checks(overrides, limits, frozenset(custom_types), structure, graph, tuple(sorted(structure.warnings, key=lambda w: (w.file, w.line, w.column)))))
    return Checked(spec, tuple(problems), graph)


@budgeted
def expanded(
    spec: Spec,
    params: Mapping[str, Any] | None = None,
    *,
    limits: Limits | None = None,
    custom_types: Collection[str] = (),
) -> Graph:
    """The graph `build` builds from a loaded spec: params substituted, blocks instantiated.

    `params` are merged over those the spec was loaded with; the graph `load` made is
    reused unless they or the `limits` change it.

    Raises:
        SpecError: the merged params (or tighter limits) give problems.
    """
    graph, problems = _expanded(spec, params, limits, custom_types)
    if problems:
        raise SpecError(problems)
    return graph


def _expanded(spec: Spec, params: Mapping[str, Any] | None, limits: Limits | None, custom_types: Collection[str]) -> tuple[Graph, list[Problem]]:
    checks = spec.checks
    if checks is None:  # a Spec validated by hand, not loaded
        return expand(spec, params, limits, check_structure(spec), custom_types)
    merged = {**checks.params, **(params or {})}
    limits = limits or checks.limits
    if _same_values(merged, checks.params) and limits == checks.limits:
        return checks.graph, []
    return expand(spec, merged, limits, checks.structure, set(custom_types) | checks.custom_types)


def _same_values(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal, and of the same types (``1`` is not ``true`` here)."""
    return a.keys() == b.keys() and all(type(a[k]) is type(b[k]) and a[k] == b[k] for k in a)


def load(
    path: PathLike,
    *,
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    allow_imports_outside: bool = False,
    custom_types: Collection[str] = (),
) -> Spec:
    """Read, parse and check a spec file, without importing Keras (arguments as `loads`).

    Example:
        >>> spec = graphspec.load("examples/branch.yaml")  # doctest: +SKIP
        >>> spec.name
        'branch_and_merge'
    """
    shown, text = _read(path, limits)
    return loads(text, file=shown, params=params, limits=limits, allow_imports_outside=allow_imports_outside, custom_types=custom_types)


def _read(path: PathLike, limits: Limits | None) -> tuple[str, str]:
    """(the name to show, the text) of a spec file; YAML text given for a path is said to be so."""
    shown = os.fspath(path)
    if isinstance(path, str) and ("\n" in path or (": " in path and not os.path.exists(path))):
        raise SpecError(
            [
                Problem(
                    "this looks like YAML text, not the name of a spec file",
                    file="<string>",
                    line=1,
                    column=1,
                    hint="to read a spec from text, use graphspec.loads(text) (and graphspec.build(graphspec.loads(text)))",
                    code="io",
                )
            ]
        )
    return shown, read_text(FilePath(shown), shown, limits or Limits())


@budgeted
def build(
    source: PathLike | Spec,
    params: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    *,
    limits: Limits | None = None,
    allow_imports_outside: bool = False,
) -> keras.Model:
    """Build the Keras functional model a spec describes, compiled if it has a `compile` section.

    Args:
        source: a spec file's path, or a `Spec` from `load`/`loads`.
        params: overrides of the spec's params (``{"hidden": 256}``); for a `Spec`, merged
            over those it was loaded with (which it builds with when `params` is None).
        custom_objects: custom layers and other objects by the name the spec's ``type`` uses.
        limits: resource bounds for untrusted input (default: those a `Spec` was loaded with).
        allow_imports_outside: let ``imports`` leave the spec's directory tree.

    Raises:
        SpecError: every problem at its line: those `load` finds, and those only Keras finds
            (shapes) in every node that does not depend on a node with a problem.

    Example:
        >>> model = graphspec.build("examples/branch.yaml")  # doctest: +SKIP
        >>> model.count_params()
        903510
    """
    import_keras()  # Keras missing: a BackendError that says which extra to install
    from graphspec.compiler import (  # the only place Keras is imported
        compile_model,
        custom_type_names,
    )

    custom_types = custom_type_names(custom_objects or {})
    if isinstance(source, Spec):
        graph, problems = _expanded(source, params, limits, custom_types)
        return compile_model(graph, custom_objects, problems=problems)
    checked = check_file(source, params=params, limits=limits, allow_imports_outside=allow_imports_outside, custom_types=custom_types)
    return build_checked(checked, custom_objects)


@budgeted
def check_file(
    path: PathLike,
    *,
    params: Mapping[str, Any] | None = None,
    limits: Limits | None = None,
    allow_imports_outside: bool = False,
    custom_types: Collection[str] = (),
) -> Checked:
    """`check` of a spec file (arguments as `load`); problems returned, not raised.

    Raises:
        SpecError: the file cannot be read or parsed.
    """
    shown, text = _read(path, limits)
    return check(text, file=shown, params=params, limits=limits, allow_imports_outside=allow_imports_outside, custom_types=custom_types)


@budgeted
def build_checked(checked: Checked, custom_objects: Mapping[str, Any] | None = None) -> keras.Model:
    """Lower a checked spec to Keras: its problems and those of every node that does not
    depend on a broken one, in one `SpecError`; the model when there are none."""
    if checked.graph is None:
        raise SpecError(checked.problems)
    import_keras()  # Keras missing: a BackendError that says which extra to install
    from graphspec.compiler import compile_model  # the only place Keras is imported

    return compile_model(checked.graph, custom_objects, problems=checked.problems)
