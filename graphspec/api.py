"""The whole pipeline in three functions: text -> Spec -> resolved graph -> keras.Model."""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Any, Union

from graphspec.backend import import_keras
from graphspec.errors import SpecError, budgeted
from graphspec.imports import add_imports, read_text
from graphspec.resolve import check_structure, resolve
from graphspec.search import check_search
from graphspec.source import Limits, parse_yaml
from graphspec.spec import Spec, validate_document

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
    limits = limits or Limits()
    document = parse_yaml(text, file, limits)
    spec, problems = validate_document(document.data, document.source)
    if spec is None:
        raise SpecError(problems)
    if spec.name is None and file != "<string>":
        spec.name = FilePath(file).stem
    problems += check_search(spec)
    if base_dir is None:
        base_dir = FilePath(file).parent if file != "<string>" else FilePath.cwd()
    problems += add_imports(spec, FilePath(base_dir), limits, allow_imports_outside, (FilePath(file).resolve(),) if file != "<string>" else ())
    if any(p.code.startswith("import") for p in problems):
        raise SpecError(problems)  # unknown blocks would follow from the failed import
    structure = check_structure(spec)
    spec._warnings = structure.warnings
    spec._limits = limits
    spec._structure = structure
    try:
        resolve(spec, params, limits, structure, custom_types)
    except SpecError as error:
        problems += error.problems
    if problems:
        raise SpecError(problems)
    return spec


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
    shown = os.fspath(path)
    text = read_text(FilePath(shown), shown, limits or Limits())
    return loads(text, file=shown, params=params, limits=limits, allow_imports_outside=allow_imports_outside, custom_types=custom_types)


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
        params: overrides of the spec's params (``{"hidden": 256}``).
        custom_objects: custom layers and other objects by the name the spec's ``type`` uses.
        limits: resource bounds for untrusted input (default: those a `Spec` was loaded with).
        allow_imports_outside: let ``imports`` leave the spec's directory tree.

    Raises:
        SpecError: every problem, including those only Keras finds (shapes), at their lines.

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
        spec = source
        limits = limits or spec._limits
    else:
        spec = load(source, limits=limits, allow_imports_outside=allow_imports_outside, custom_types=custom_types)
    graph = resolve(spec, params, limits, spec._structure, custom_types)

    return compile_model(graph, custom_objects)
