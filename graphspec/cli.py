"""The command line: the only place that turns problems into output and exit codes.

Exit codes: 0 clean, 1 problems found in a spec, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path as FilePath
from typing import Any, TextIO

import yaml

from graphspec import __version__
from graphspec.api import build, load
from graphspec.backend import DISTRIBUTION, BackendError, quiet_native_logs
from graphspec.errors import Problem, SpecError, printable
from graphspec.report import FORMATS
from graphspec.source import _plain_scalar

SPEC_SUFFIXES = (".yaml", ".yml")


def parse_param(text: str) -> tuple[str, Any]:
    """``hidden=256`` -> ``("hidden", 256)``; values read as YAML scalars or flow lists."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip().isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got '{text}'")
    value = value.strip()
    if value.startswith("["):
        try:
            return name.strip(), yaml.safe_load(value)
        except yaml.YAMLError:
            raise argparse.ArgumentTypeError(f"cannot read the list in '{text}'") from None
    return name.strip(), _plain_scalar(value)


_SPEC_KEY = re.compile(r"^(graphspec|inputs|nodes|outputs)\s*:", re.M)


def looks_like_spec(path: str) -> bool:
    """Whether a YAML file is a graphspec spec: a top-level `graphspec`, `inputs`, `nodes` or `outputs` key.

    Block libraries (only `blocks`) and other YAML (CI configs) are not; libraries are
    checked where a spec imports them.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as stream:
            return bool(_SPEC_KEY.search(stream.read(1_000_000)))
    except OSError:
        return True  # let load report why it cannot be read


def spec_files(paths: Iterable[str], only_specs: bool = False) -> list[str]:
    """The files named, and the specs among ``*.yaml``/``*.yml`` below each directory named."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            below = sorted(str(p) for p in FilePath(path).rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            found += [p for p in below if looks_like_spec(p)]
        elif not only_specs or looks_like_spec(path):
            found.append(path)
    return found


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphspec", description="Neural-network graphs in YAML, compiled to Keras.")
    parser.add_argument("--version", action="version", version=f"graphspec {__version__} ({DISTRIBUTION} on Python {sys.version.split()[0]})")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Commands that may import Keras hide TensorFlow's native start-up lines unless -v.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", help="show the backend's own log lines (TensorFlow's start-up messages)")

    build_cmd = commands.add_parser("build", parents=[verbose], help="build a spec and print the model summary")
    build_cmd.add_argument("file", help="a spec file")
    build_cmd.add_argument("--param", action="append", type=parse_param, default=[], metavar="NAME=VALUE", help="override a param (repeatable)")

    validate = commands.add_parser("validate", parents=[verbose], help="check specs; print one line per problem")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="spec files, or directories to search for *.yaml/*.yml")
    validate.add_argument("--format", choices=tuple(FORMATS), default="text", help="output format (github: workflow annotations; sarif: SARIF 2.1.0 for code scanning)")
    validate.add_argument("--build", action="store_true", help="also build each spec with Keras (shapes, expectations)")
    validate.add_argument("--custom-type", action="append", default=[], metavar="NAME", help="a custom layer or object type the specs may use (repeatable)")
    validate.add_argument("--only-specs", action="store_true", help="skip named files that are not specs (for pre-commit)")
    validate.add_argument("--param", action="append", type=parse_param, default=[], metavar="NAME=VALUE", help="override a param (repeatable)")

    schema = commands.add_parser("schema", help="write the JSON Schema of spec files (for editors and check-jsonschema)")
    schema.add_argument("-o", "--output", metavar="FILE", help="the file to write (default: standard output)")
    schema.add_argument("--update", action="store_true", help="rewrite the shipped schema files (in the package and schemas/)")
    schema.add_argument("--check", action="store_true", help="exit 1 when FILE (default: the shipped schema files) is stale or missing")
    schema.add_argument("--path", action="store_true", help="print the installed schema file's path (for an editor's $schema)")

    catalogue = commands.add_parser("catalogue", parents=[verbose], help="regenerate the layer catalogue from the installed Keras")
    catalogue.add_argument("--update", action="store_true", help="rewrite graphspec/catalogue.json")
    catalogue.add_argument("--check", action="store_true", help="exit 1 when the shipped catalogue differs from the installed Keras")

    export = commands.add_parser("export", parents=[verbose], help="write the spec of a Keras model (.keras file or module:attribute)")
    export.add_argument("source", metavar="SOURCE", help="a .keras file, or module:attribute (a model, or a function returning one)")
    export.add_argument("-o", "--output", metavar="SPEC", help="the spec file to write (default: standard output)")

    plot_cmd = commands.add_parser("plot", parents=[verbose], help="draw a spec: .svg .png .pdf (Graphviz), .dot, or .mmd (Mermaid)")
    plot_cmd.add_argument("file", help="a spec file")
    plot_cmd.add_argument("-o", "--output", required=True, metavar="OUT", help="the picture to write; its suffix picks the format")
    plot_cmd.add_argument("--collapse-blocks", action="store_true", help="draw each block instance as one node")
    plot_cmd.add_argument("--shapes", action="store_true", help="build the model and label edges with tensor shapes")
    plot_cmd.add_argument("--param", action="append", type=parse_param, default=[], metavar="NAME=VALUE", help="override a param (repeatable)")
    plot_cmd.add_argument("--custom-type", action="append", default=[], metavar="NAME", help="a custom layer type the spec may use (repeatable; not with --shapes)")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    uses_keras = args.command in ("build", "export", "catalogue") or getattr(args, "build", False) or getattr(args, "shapes", False)
    with quiet_native_logs(enabled=bool(uses_keras) and not getattr(args, "verbose", False)):
        try:
            return _run(args, out, err)
        except BackendError as error:
            print(f"graphspec {args.command}: error: {error}", file=err)
            return 2


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.command == "build":
        return _build(args, out, err)
    if args.command == "schema":
        from graphspec import schema

        flags = [f"--{name}" for name in ("update", "check", "path") if getattr(args, name)]
        return schema.main((["-o", args.output] if args.output else []) + flags)
    if args.command == "catalogue":
        if not (args.update or args.check):
            print("graphspec catalogue: say --update or --check", file=err)
            return 2
        from graphspec import catalogue_build

        return catalogue_build.main(["--check"] if args.check else [])
    if args.command == "export":
        return _export(args, out, err)
    if args.command == "plot":
        return _plot(args, out, err)
    return _validate(args, out, err)


def _build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        model = build(args.file, params=dict(args.param))
    except SpecError as error:
        print(str(error), file=err)
        return 2 if _io_only(error.problems) else 1
    except BackendError:
        raise
    except Exception as error:
        print(internal_error(args.file, error).format(), file=err)
        return 2
    # The summary quotes the model's and layers' names: escaped, so a name cannot drive the terminal.
    model.summary(print_fn=lambda line, *rest, **kw: print("\n".join(map(printable, str(line).split("\n"))), file=out))
    return 0


def internal_error(file: str, error: BaseException) -> Problem:
    """An unexpected exception while checking `file`: a graphspec bug, reported at the file."""
    return Problem(
        f"graphspec failed on this file: {type(error).__name__}: {error}",
        file=file,
        line=1,
        column=1,
        hint=f"this is a bug in graphspec, not a mistake in the spec; please report it with the file at {ISSUES}",
        code="internal-error",
    )


ISSUES = "https://github.com/graphspec/graphspec/issues"


def _validate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    files = spec_files(args.paths, args.only_specs)
    if not files and args.only_specs:
        return 0
    if not files:
        print("graphspec validate: no *.yaml or *.yml files found", file=err)
        return 2
    problems: list[Problem] = []
    io_error = False
    for file in files:
        try:
            spec = load(file, params=dict(args.param), custom_types=args.custom_type)
            problems += spec.warnings
            if args.build:
                build(spec, params=dict(args.param))  # custom types need build(custom_objects=) from Python
        except SpecError as error:
            problems += error.problems
            io_error = io_error or _io_only(error.problems)
        except BackendError:
            raise
        except Exception as error:  # a bug in graphspec: said at the file, and the other files are still checked
            problems.append(internal_error(file, error))
            io_error = True
    out.write(FORMATS[args.format](problems))
    errors = [p for p in problems if p.severity == "error"]
    if io_error:
        return 2
    return 1 if errors else 0


def _io_only(problems: Sequence[Problem]) -> bool:
    return bool(problems) and all(p.code == "io" for p in problems)


def _export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``graphspec export SOURCE [-o SPEC]``: 2 when SOURCE gives no model, 1 when it cannot be written."""
    from graphspec.export import ExportError, dumps, load_model_source
    from graphspec.files import write_atomic

    try:
        model = load_model_source(args.source)
    except ExportError as error:
        print(f"graphspec export: error: {error}", file=err)
        return 2
    try:
        text = dumps(model)
    except ExportError as error:
        print(f"graphspec export: error: {args.source}: {error}", file=err)
        return 1
    if args.output is None:
        out.write(text)
        return 0
    try:
        write_atomic(args.output, text)
    except OSError as error:
        print(f"graphspec export: error: cannot write {args.output}: {error.strerror or error}", file=err)
        return 2
    return 0


def _plot(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``graphspec plot FILE -o OUT``: 1 for a wrong spec, 2 for usage, I/O or a missing Graphviz."""
    from graphspec.plot import PlotError, output_format, plot

    try:
        output_format(args.output)
        plot(args.file, args.output, params=dict(args.param), collapse_blocks=args.collapse_blocks, shapes=args.shapes, custom_types=args.custom_type)
    except SpecError as error:
        print(str(error), file=err)
        return 2 if _io_only(error.problems) else 1
    except PlotError as error:
        print(f"graphspec plot: error: {error}", file=err)
        return 2
    except OSError as error:
        print(f"graphspec plot: error: cannot write {args.output}: {error.strerror or error}", file=err)
        return 2
    except BackendError:
        raise
    except Exception as error:
        print(internal_error(args.file, error).format(), file=err)
        return 2
    return 0
