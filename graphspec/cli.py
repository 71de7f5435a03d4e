"""The command line: the only place that turns problems into output and exit codes.

Exit codes: 0 clean, 1 problems found in a spec, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path as FilePath
from typing import Any, TextIO

import yaml

from graphspec import __version__
from graphspec.api import build, build_checked, check_file, load
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
    build_cmd.add_argument("--params-file", metavar="FILE", help="param overrides as 'name: value' lines (graphspec tune writes one); --param wins")

    validate = commands.add_parser("validate", parents=[verbose], help="check specs; print one line per problem")
    validate.add_argument("paths", nargs="+", metavar="PATH", help="spec files, or directories to search for *.yaml/*.yml")
    validate.add_argument("--format", choices=tuple(FORMATS), default="text", help="output format (github: workflow annotations; sarif: SARIF 2.1.0 for code scanning)")
    validate.add_argument("--build", action="store_true", help="also build each spec with Keras (shapes, expectations)")
    validate.add_argument("--custom-type", action="append", default=[], metavar="NAME", help="a custom layer or object type the specs may use (repeatable)")
    validate.add_argument("--only-specs", action="store_true", help="skip named files that are not specs (for pre-commit)")
    validate.add_argument("--param", action="append", type=parse_param, default=[], metavar="NAME=VALUE", help="override a param (repeatable)")
    validate.add_argument("--params-file", metavar="FILE", help="param overrides as 'name: value' lines; --param wins")

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
    plot_cmd.add_argument("--rankdir", choices=["TB", "LR", "BT", "RL"], default="TB", help="direction of the flow (default TB, top to bottom; LR fits a deep model on a wide page)")
    plot_cmd.add_argument("--dpi", type=int, metavar="N", help="resolution of a .png (default: Graphviz's 96)")
    plot_cmd.add_argument("--param", action="append", type=parse_param, default=[], metavar="NAME=VALUE", help="override a param (repeatable)")
    plot_cmd.add_argument("--custom-type", action="append", default=[], metavar="NAME", help="a custom layer type the spec may use (repeatable; not with --shapes)")
    _add_tune(commands)
    _add_diff(commands)
    lsp_cmd = commands.add_parser("lsp", help="run the language server for editors over stdio (needs keras-graphspec[lsp])")
    lsp_cmd.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default; accepted as editors pass it)")
    return parser


def _add_tune(commands: Any) -> None:
    tune = commands.add_parser("tune", help="search the spec's 'search:' space (KerasTuner or Optuna); write the best params")
    tune.add_argument("file", help="a spec file with 'search' and 'compile' sections")
    tune.add_argument("--data", required=True, metavar="MODULE:FUNCTION", help="your function returning (train, validation), each (x, y) or a dataset; MODULE is a module name or a .py path")
    tune.add_argument("--tuner", choices=("random", "bayesian", "hyperband", "tpe"), default="random", help="KerasTuner's random, bayesian, hyperband, or Optuna's tpe (default: random)")
    tune.add_argument("--trials", type=int, default=10, metavar="N", help="models to train (default: 10; hyperband picks its own)")
    tune.add_argument("--objective", default="val_accuracy", help="the history metric to optimise (default: val_accuracy)")
    tune.add_argument("--direction", choices=("max", "min"), help="default: min for losses and errors, else max")
    tune.add_argument("--epochs", type=int, default=3, metavar="N", help="epochs per trial (hyperband: the most per model; default: 3)")
    tune.add_argument("--batch-size", type=int, metavar="N", help="batch size for (x, y) data (default: Keras's 32)")
    tune.add_argument("--directory", default=".graphspec-tune", metavar="DIR", help="where KerasTuner keeps its trials (default: .graphspec-tune)")
    tune.add_argument("--resume", action="store_true", help="continue KerasTuner's earlier search in DIR instead of starting anew")
    tune.add_argument("--seed", type=int, default=1, help="random seed of the tuner and of Keras (default: 1)")
    tune.add_argument("-o", "--output", metavar="FILE", help="the overrides file to write (default: SPEC_NAME.best.yaml)")
    tune.add_argument("--table", metavar="FILE", help="also write the table of trials (Markdown) to FILE")
    tune.add_argument("--param", action="append", type=parse_param, default=[], metavar="NAME=VALUE", help="fix a param the search does not cover (repeatable)")
    tune.add_argument("--params-file", metavar="FILE", help="fixed param overrides as 'name: value' lines; --param wins")


def _add_diff(commands: Any) -> None:
    diff = commands.add_parser("diff", help="the semantic difference of two specs: nodes, arguments, edges, params, blocks")
    diff.add_argument("paths", nargs="+", metavar="OLD NEW", help="two spec files, or git:REV:PATH for a committed version (or the 7 arguments git gives a diff driver, with --git-driver)")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text", help="output format (markdown: for a pull-request comment)")
    diff.add_argument("--build", action="store_true", help="also build both with Keras: each node's output shape and parameter count, and the totals")
    diff.add_argument("--git-driver", action="store_true", help="take git's external diff arguments: PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE")
    diff.add_argument("--param", action="append", type=parse_param, default=[], metavar="NAME=VALUE", help="override a param on both sides (repeatable)")
    diff.add_argument("--custom-type", action="append", default=[], metavar="NAME", help="a custom layer type the specs may use (repeatable; not with --build)")


def _params(args: argparse.Namespace) -> dict[str, Any]:
    """``--params-file`` then ``--param`` (which wins): the overrides to load or build with."""
    params: dict[str, Any] = {}
    if getattr(args, "params_file", None):
        from graphspec.overrides import read_overrides

        params.update(read_overrides(args.params_file))
    params.update(dict(args.param))
    return params


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    uses_keras = args.command in ("build", "export", "catalogue", "tune") or getattr(args, "build", False) or getattr(args, "shapes", False)
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
    if args.command == "tune":
        return _tune(args, out, err)
    if args.command == "diff":
        from graphspec.diff import main as diff_main

        return diff_main(args, out, err)
    if args.command == "lsp":
        return _lsp(err)
    return _validate(args, out, err)


def _build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        model = build(args.file, params=_params(args))
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
    try:
        params = _params(args)
    except SpecError as error:
        print(str(error), file=err)
        return 2 if _io_only(error.problems) else 1
    for file in files:
        try:
            checked = check_file(file, params=params, custom_types=args.custom_type)
            problems += checked.warnings
            if args.build and checked.graph is not None:
                build_checked(checked)  # as `build` does: custom types need build(custom_objects=) from Python
            elif checked.problems:
                raise SpecError(checked.problems)
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


def _lsp(err: TextIO) -> int:
    """``graphspec lsp``: 2 when pygls or lsprotocol is missing."""
    try:
        from graphspec.lsp.server import main as serve
    except ImportError as error:
        print(f"graphspec lsp: error: the language server needs pygls and lsprotocol: pip install 'keras-graphspec[lsp]' ({error})", file=err)
        return 2
    return serve()


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
        plot(args.file, args.output, params=dict(args.param), collapse_blocks=args.collapse_blocks, shapes=args.shapes, custom_types=args.custom_type, rankdir=args.rankdir, dpi=args.dpi)
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


def _tune(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """``graphspec tune SPEC --data M:F``: 1 for a wrong spec, 2 for usage, data or a missing extra."""
    from graphspec.backend import import_keras

    import_keras()  # without Keras: the BackendError naming the backend extras
    try:
        import keras_tuner  # noqa: F401
        import optuna  # noqa: F401
    except ImportError as error:
        print(f"graphspec tune: error: {error.name} is not installed; pip install 'keras-graphspec[tune]'", file=err)
        return 2
    from graphspec.files import write_atomic
    from graphspec.overrides import format_overrides, format_value
    from graphspec.search import search_space
    from graphspec.tune import TUNERS, TuneError, load_data, trials_table, tune

    started = time.perf_counter()
    try:
        params = _params(args)
        spec = load(args.file, params=params)
        space = search_space(spec)
        data = load_data(args.data)
        print(f"graphspec tune: {printable(spec.name or '')}: {len(space)} params searched ({', '.join(space.names)}), {TUNERS[args.tuner]}, objective {args.objective}", file=out, flush=True)
        result = tune(spec, data, tuner=args.tuner, trials=args.trials, objective=args.objective, direction=args.direction, epochs=args.epochs, batch_size=args.batch_size, directory=args.directory, params=params, seed=args.seed, resume=args.resume, progress=out)
        best = result.best
    except SpecError as error:
        print(str(error), file=err)
        return 2 if _io_only(error.problems) else 1
    except TuneError as error:
        print(f"graphspec tune: error: {error}", file=err)
        return 2
    wall = time.perf_counter() - started
    table = trials_table(result, space)
    output = args.output or f"{spec.name}.best.yaml"
    comments = [
        f"best params of graphspec tune {args.file} ({TUNERS[args.tuner]}, {len(result.trials)} trials, {args.epochs} epochs each, seed {args.seed})",
        f"{result.objective} {best.score:.4f} in trial {best.number}; searched params not listed keep the spec's defaults",
        f"graphspec build {args.file} --params-file {output}",
    ]
    try:
        write_atomic(output, format_overrides(best.params, comments))
        if args.table:
            write_atomic(args.table, table)
    except OSError as error:
        print(f"graphspec tune: error: cannot write {error.filename}: {error.strerror or error}", file=err)
        return 2
    print("", file=out)
    out.write(table)
    print(f"\nbest: trial {best.number}, {result.objective} {best.score:.4f} ({result.direction}); {len(result.trials)} trials in {wall:.0f} s", file=out)
    print(f"wrote {output}; build it with:", file=out)
    print(f"  graphspec build {args.file} --params-file {output}", file=out)
    flags = " ".join(f"--param {name}={format_value(value)}" for name, value in best.params.items())
    print(f"  graphspec build {args.file} {flags}", file=out)
    return 0
