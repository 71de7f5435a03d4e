"""The 1,000-layer chain of bench_build.py, looked at closer: where does graphspec's time go?

Builds the chain five ways in rotation, each after `clear_session()` and `gc.collect()`:
by hand, `graphspec.build(path)`, `graphspec.build(spec)` with the spec loaded once,
and `compile_model(graph)` with the graph resolved once. Prints medians and minimums.

    python benchmarks/bench_build_chain.py [--runs 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _specs
import keras

import graphspec
from graphspec.compiler import compile_model
from graphspec.resolve import resolve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = Path(tempfile.mkdtemp()) / "chain.yaml"
    path.write_text(_specs.chain(1000, 32))
    spec = graphspec.load(path)
    graph = resolve(spec)
    ways = {
        "by hand": lambda: _specs.keras_chain(1000, 32),
        "graphspec.build(path)": lambda: graphspec.build(path),
        "graphspec.build(spec)": lambda: graphspec.build(spec),
        "compile_model(graph)": lambda: compile_model(graph),
    }
    times: dict[str, list[float]] = {way: [] for way in ways}
    for _ in range(args.runs):
        for way, make in ways.items():
            keras.backend.clear_session()
            gc.collect()
            start = time.perf_counter()
            model = make()
            times[way].append(time.perf_counter() - start)
            del model
    hand = statistics.median(times["by hand"])
    print(f"{'way':<24} {'median s':>9} {'min s':>7} {'/ by hand':>10}")
    for way, values in times.items():
        print(f"{way:<24} {statistics.median(values):>9.3f} {min(values):>7.3f} {statistics.median(values) / hand:>10.3f}")


if __name__ == "__main__":
    main()
