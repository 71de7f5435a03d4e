"""Diagnostics latency of `graphspec lsp`: from an edit sent to its diagnostics received.

For each example (examples/*.yaml) and for generated 10,000-node specs (a Dense chain
and a wide DAG with merges, benchmarks/_specs.py), the script starts the server as an
editor does (``python -m graphspec lsp`` over stdio), opens the file, then sends
`--runs` edits (``textDocument/didChange``, full text; each edit changes one value, every
other one to a wrong value, so the answer alternates between an error and none) and
times each from the moment the edit is written to the pipe until the
``publishDiagnostics`` of that version arrives. This includes the server's debounce
(25 ms by default; the second table sets it to 0 through initializationOptions).

The baseline, measured in the same run: `graphspec.loads` of the same text in this
process, with the garbage collector paused as the server pauses it (the pipeline's own
cost), so "ratio" is latency / loads: what the server adds on top of checking (the
debounce, JSON-RPC, ranges). Edits alternate with the baseline's runs per spec, not
within them: on a busy machine compare a row's two numbers, not rows across runs.

Goals (issue 17): well under 100 ms for the examples, under 1 s for 10,000 nodes.

Usage, from the project root:

    python benchmarks/bench_lsp.py                  # ~1 minute here
    python benchmarks/bench_lsp.py --runs 5 --no-large
    python benchmarks/bench_lsp.py --json lsp.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _specs import chain, wide_dag  # noqa: E402

import graphspec  # noqa: E402
from graphspec.lsp.client import Client  # noqa: E402
from graphspec.source import collector_paused  # noqa: E402


def variants(text: str) -> tuple[str, str]:
    """The text with its first integer argument changed (a good edit) and made wrong."""
    match = re.search(r"(units|filters|output_dim|rate|pool_size): (\d+)", text)
    if match is None:  # no plain integer: change a comment-free name instead
        return text + "\n", text.replace("type: Dense", "type: Dens", 1)
    good = text[: match.start(2)] + str(int(match.group(2)) + 1) + text[match.end(2):]
    bad = text[: match.start(2)] + "many" + text[match.end(2):]
    return good, bad


def latencies(client: Client, path: Path, text: str, runs: int) -> tuple[list[float], int]:
    """Seconds from each didChange to its diagnostics; and how many diagnostics the bad edit gets."""
    client.open(path, text)
    client.diagnostics(path, timeout=120)
    good, bad = variants(text)
    times = []
    bad_count = 0
    for run in range(runs):
        edited = bad if run % 2 else good
        sent = time.perf_counter()
        client.change(path, edited)
        version = client.versions[client_uri(path)]
        params, when = client.wait_for("textDocument/publishDiagnostics", lambda p, v=version: p["uri"] == client_uri(path) and p.get("version") == v, timeout=120)
        times.append(when - sent)
        if run % 2:
            bad_count = len(params["diagnostics"])
    client.close_document(path)
    return times, bad_count


def client_uri(path: Path) -> str:
    return path.resolve().as_uri()


def loads_time(path: Path, text: str, runs: int) -> float:
    """Median seconds of `graphspec.loads(text)` here, the collector paused as the server does."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        with collector_paused(), contextlib.suppress(graphspec.SpecError):
            graphspec.loads(text, file=str(path))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="edits per example (default 11)")
    parser.add_argument("--large-runs", type=int, default=5, help="edits per 10,000-node spec (default 5)")
    parser.add_argument("--no-large", action="store_true", help="skip the 10,000-node specs")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    args = parser.parse_args()

    work = Path(os.environ.get("TMPDIR", "/tmp")) / "graphspec-bench-lsp"
    work.mkdir(exist_ok=True)
    cases: list[tuple[str, Path, str, int]] = []
    for example in sorted(ROOT.joinpath("examples").glob("*.yaml")):
        cases.append((example.name, example, example.read_text(), args.runs))
    if not args.no_large:
        for name, text in (("chain 10,000 nodes", chain(10_000)), ("dag 10,000 nodes", wide_dag(10_000))):
            path = work / (name.split()[0] + "_10000.yaml")
            path.write_text(text)
            cases.append((name, path, text, args.large_runs))

    results: dict[str, dict[str, dict[str, float]]] = {}
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    for label, options in (("default debounce (25 ms)", {"shapes": False}), ("debounce 0", {"shapes": False, "debounceMs": 0})):
        print(f"\n{label}: didChange -> publishDiagnostics, milliseconds (median, min, max of the runs)")
        print(f"{'spec':<24} {'lines':>6} {'median':>8} {'min':>8} {'max':>8} {'loads':>8} {'ratio':>6}  bad edit")
        with Client(env=env) as client:
            client.initialize(ROOT, options)
            for name, path, text, runs in cases:
                times, bad_count = latencies(client, path, text, runs)
                baseline = loads_time(path, text, max(3, runs // 2))
                median = statistics.median(times)
                row = {"median_ms": median * 1000, "min_ms": min(times) * 1000, "max_ms": max(times) * 1000, "loads_ms": baseline * 1000, "lines": text.count("\n")}
                results.setdefault(label, {})[name] = row
                print(f"{name:<24} {row['lines']:>6} {row['median_ms']:>8.1f} {row['min_ms']:>8.1f} {row['max_ms']:>8.1f} {row['loads_ms']:>8.1f} {median / baseline:>6.2f}  {bad_count} diagnostic(s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
