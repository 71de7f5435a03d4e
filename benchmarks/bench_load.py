"""How long checking a spec takes: `graphspec.loads` on generated specs, and a cold `validate`.

Part 1 times `graphspec.loads(text)` (the text already in memory: parse, source map,
Pydantic validation, graph checks, params, blocks and repeats) on three families of
generated specs (benchmarks/_specs.py) of 100, 1,000, 10,000 and 100,000 nodes:

    chain   a chain of Dense layers
    dag     a wide DAG: one node in four an `add` of three earlier nodes, the others
            Dense layers reading a node up to 64 places back
    blocks  block nodes `{block: unit, repeat: 2}` (4 inner nodes each) in a chain

and prints nodes, seconds (median and min of --repeats runs; one run at 100,000),
the floor (libyaml's events alone + networkx's topological sort of the top-level graph,
min of at least 3 runs, measured in the same run) and the ratio of the min to it,
and microseconds per node, which should stay flat if the work grows linearly. The
machine this was written on is shared and noisy: the min is the steadier figure.

Part 2 times `python -m graphspec validate examples/branch.yaml` as a fresh process
against `python -c "import tensorflow"` and `python -c pass`, runs alternating, and
checks that `validate` never imports TensorFlow.

`--memory` measures, with tracemalloc, the bytes per node `loads` allocates at its peak
and keeps in the returned Spec.

`--profile` runs cProfile on the 10,000- and 100,000-node specs and lists the functions
whose calls grow faster than the node count (super-linear), with the own-time growth of
the top functions and wall times of each stage (parse, validate, graph checks, resolve).

Usage, from the project root:

    python benchmarks/bench_load.py                       # everything, ~4 minutes here
    python benchmarks/bench_load.py --sizes 100,1000 --cold-runs 3
    python benchmarks/bench_load.py --profile --kinds chain --no-cold
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _specs  # noqa: E402

import graphspec  # noqa: E402

BIG = graphspec.Limits(max_nodes=10**6, max_values=10**8, max_bytes=10**9)
SMALL_EXAMPLE = "examples/branch.yaml"


def time_loads(text: str, repeats: int) -> tuple[float, float]:
    """(median, min) seconds of `graphspec.loads(text)` over `repeats` runs."""
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        graphspec.loads(text, limits=BIG)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def time_floor(text: str, repeats: int) -> tuple[float, float, float]:
    """(min seconds of libyaml's events alone, min of networkx's topological sort of the
    top-level graph, their sum): what no loader of this text can beat, measured here."""
    import networkx as nx
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec = graphspec.loads(text, limits=BIG)
    edges = [(ref.split(".")[0], name) for name, node in spec.nodes.items() for ref, _ in node.refs()]
    events, sort = [], []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        loader = loader_class(text)
        try:
            while loader.check_event():
                loader.get_event()
        finally:
            loader.dispose()
        middle = time.perf_counter()
        graph = nx.DiGraph()
        graph.add_nodes_from(spec.nodes)
        graph.add_edges_from(edges)
        list(nx.topological_sort(graph))
        end = time.perf_counter()
        events.append(middle - start)
        sort.append(end - middle)
    return min(events), min(sort), min(events) + min(sort)


def load_table(kinds: list[str], sizes: list[int], repeats: int) -> list[dict]:
    rows = []
    for kind in kinds:
        for n in sizes:
            text = _specs.KINDS[kind](n)
            runs = repeats if n < 100_000 else 1
            seconds, best = time_loads(text, runs)
            events, sort, floor = time_floor(text, max(runs, 3))
            rows.append(
                {
                    "kind": kind,
                    "nodes": n,
                    "lines": text.count("\n"),
                    "bytes": len(text.encode()),
                    "runs": runs,
                    "seconds": seconds,
                    "min_seconds": best,
                    "us_per_node": seconds / n * 1e6,
                    "min_us_per_node": best / n * 1e6,
                    "floor_events_s": events,
                    "floor_sort_s": sort,
                    "floor_s": floor,
                    "x_floor": best / floor,
                }
            )
            r = rows[-1]
            print(f"  {kind:<7} {n:>8,} {r['lines']:>8,} {r['bytes']:>11,} {runs:>4} {seconds:>9.3f} {best:>9.3f} {r['us_per_node']:>9.1f} {r['min_us_per_node']:>9.1f} {floor:>8.3f} {r['x_floor']:>7.1f}", flush=True)
    return rows


def memory_table(kinds: list[str], sizes: list[int]) -> list[dict]:
    """Bytes per node that `loads` allocates at its peak and keeps in the returned Spec
    (tracemalloc, one run each; the text itself not counted)."""
    import tracemalloc

    rows = []
    for kind in kinds:
        for n in sizes:
            text = _specs.KINDS[kind](n)
            gc.collect()
            tracemalloc.start()
            base = tracemalloc.get_traced_memory()[0]
            spec = graphspec.loads(text, limits=BIG)
            kept, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            del spec
            row = {"kind": kind, "nodes": n, "peak_bytes_per_node": (peak - base) / n, "kept_bytes_per_node": (kept - base) / n}
            rows.append(row)
            print(f"  {kind:<7} {n:>8,} {row['peak_bytes_per_node']:>12,.0f} {row['kept_bytes_per_node']:>12,.0f}", flush=True)
    return rows


def _run(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def cold_table(runs: int) -> list[dict]:
    """Fresh processes, alternating, so that disk cache and CPU noise hit all alike."""
    env_python = sys.executable
    commands = {
        f"graphspec validate {SMALL_EXAMPLE}": [env_python, "-m", "graphspec", "validate", SMALL_EXAMPLE],
        "python -c 'import graphspec'": [env_python, "-c", "import graphspec"],
        "python -c 'import tensorflow'": [env_python, "-c", "import tensorflow"],
        "python -c 'import keras'": [env_python, "-c", "import keras"],
        "python -c pass": [env_python, "-c", "pass"],
    }
    for argv in commands.values():  # warm the page cache once
        _run(argv)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(_run(argv))
    check = subprocess.run(
        [env_python, "-c", f"import sys, graphspec.cli; rc = graphspec.cli.main(['validate', {SMALL_EXAMPLE!r}]); "
         "print(rc, 'tensorflow' in sys.modules, 'keras' in sys.modules)"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True,
    ).stdout.split()
    rows = [{"command": name, "median_s": statistics.median(t), "min_s": min(t), "runs": runs} for name, t in times.items()]
    rows.append({"command": "validate imports tensorflow / keras", "value": f"{check[-2]} / {check[-1]} (exit code {check[0]})"})
    return rows


def phase_times(text: str) -> dict[str, float]:
    """Wall seconds of each stage of `graphspec.loads`, run as loads runs them."""
    from graphspec.resolve import check_structure, resolve
    from graphspec.source import parse_yaml
    from graphspec.spec import validate_document

    gc.collect()
    t0 = time.perf_counter()
    document = parse_yaml(text, "<string>", BIG)
    t1 = time.perf_counter()
    spec, _problems = validate_document(document.data, document.source)
    t2 = time.perf_counter()
    structure = check_structure(spec)
    t3 = time.perf_counter()
    resolve(spec, None, BIG, structure)
    t4 = time.perf_counter()
    return {"parse_yaml": t1 - t0, "validate_document": t2 - t1, "check_structure": t3 - t2, "resolve": t4 - t3}


def profile(kinds: list[str], small: int, big: int, top: int) -> list[dict]:
    """cProfile of `loads` at two sizes; functions whose own time grows super-linearly."""
    found = []
    for kind in kinds:
        stats = {}
        for n in (small, big):
            text = _specs.KINDS[kind](n)
            profiler = cProfile.Profile()
            gc.collect()
            profiler.enable()
            graphspec.loads(text, limits=BIG)
            profiler.disable()
            stats[n] = pstats.Stats(profiler)
        s_small, s_big = (stats[small].stats, stats[big].stats)  # type: ignore[attr-defined]
        total_big = stats[big].total_tt  # type: ignore[attr-defined]
        total_small = stats[small].total_tt  # type: ignore[attr-defined]
        growth = big / small
        print(f"\n[{kind}] cProfile total {total_small:.2f} s at {small:,} nodes, {total_big:.2f} s at {big:,} "
              f"(x{total_big / total_small:.1f} for x{growth:.0f} nodes)")
        for n in (small, big):
            phases = phase_times(_specs.KINDS[kind](n))
            print(f"  phases at {n:>7,} nodes, no profiler (s): " + ", ".join(f"{p} {t:.2f}" for p, t in phases.items()))
        print(f"  top {top} by own time at {big:,} nodes:")
        print(f"  {'own s':>8} {'cum s':>8} {'calls':>10} {'x growth':>9}  function")
        ranked = sorted(s_big.items(), key=lambda kv: kv[1][2], reverse=True)
        for func, (_cc, nc, tt, ct, _callers) in ranked[:top]:
            before = s_small.get(func)
            ratio = tt / before[2] if before and before[2] > 0 else float("nan")
            print(f"  {tt:8.3f} {ct:8.3f} {nc:10,} {ratio:9.1f}  {_name(func)}")
        # Call counts are exact; times are noisy (a loaded machine, caches, and garbage
        # collection pauses charged to whichever function happened to allocate), so a
        # function is flagged when its calls grow faster than the nodes. Read the own-time
        # growth column and the phase timings above for the rest.
        for func, (_cc, nc, tt, _ct, _callers) in ranked:
            before = s_small.get(func)
            if not before or tt < 0.01 * total_big:
                continue
            ratio = tt / max(before[2], 1e-9)
            calls_ratio = nc / max(before[1], 1)
            if calls_ratio > 1.5 * growth:
                found.append({"kind": kind, "function": _name(func), "own_s_small": before[2], "own_s_big": tt,
                              "time_growth": ratio, "calls_growth": calls_ratio})
        supers = [f for f in found if f["kind"] == kind]
        print(f"  super-linear (calls grow > 1.5 x {growth:.0f}): " + (
            "; ".join(f"{f['function']} time x{f['time_growth']:.0f}, calls x{f['calls_growth']:.0f}" for f in supers) or "none"))
    return found


def _name(func: tuple) -> str:
    file, line, name = func
    if file.startswith(str(ROOT)):
        file = os.path.relpath(file, ROOT)
    elif "site-packages" in file:
        file = file.split("site-packages/")[-1]
    return f"{file}:{line}({name})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000,100000")
    parser.add_argument("--kinds", default=",".join(_specs.KINDS))
    parser.add_argument("--repeats", type=int, default=3, help="runs per size below 100,000 (median)")
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--no-load", action="store_true", help="skip the loads table")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-process table")
    parser.add_argument("--profile", action="store_true", help="cProfile 10,000 vs 100,000 nodes")
    parser.add_argument("--profile-sizes", default="10000,100000")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--memory", action="store_true", help="bytes per node at the peak of loads and kept in the Spec")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    results: dict = {"python": sys.version.split()[0], "graphspec": graphspec.__version__}

    if not args.no_load:
        print("graphspec.loads (text in memory), limits raised to 10**6 nodes; floor = libyaml's events")
        print("alone + networkx's topological sort of the top-level graph (min of runs); x floor = min s / floor")
        print(f"  {'kind':<7} {'nodes':>8} {'lines':>8} {'bytes':>11} {'runs':>4} {'median s':>9} {'min s':>9} {'us/node':>9} {'min':>9} {'floor s':>8} {'x floor':>7}")
        results["loads"] = load_table(kinds, [int(s) for s in args.sizes.split(",")], args.repeats)

    if args.memory:
        print("\nmemory of graphspec.loads (tracemalloc, one run each)")
        print(f"  {'kind':<7} {'nodes':>8} {'peak B/node':>12} {'kept B/node':>12}")
        results["memory"] = memory_table(kinds, [int(s) for s in args.sizes.split(",")])

    if not args.no_cold:
        print(f"\ncold processes ({args.cold_runs} runs each, alternating; median / min seconds)")
        results["cold"] = cold_table(args.cold_runs)
        for row in results["cold"]:
            if "value" in row:
                print(f"  {row['command']:<40} {row['value']}")
            else:
                print(f"  {row['command']:<40} {row['median_s']:7.2f} {row['min_s']:7.2f}")

    if args.profile:
        small, big = (int(s) for s in args.profile_sizes.split(","))
        results["superlinear"] = profile(kinds, small, big, args.top)

    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
