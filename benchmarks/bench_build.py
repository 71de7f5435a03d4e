"""How long `graphspec.build` takes next to the same model written by hand in Keras and
next to `keras.models.model_from_json`.

Three models, each made three ways in the same process, the ways alternating within
each run (and their order rotating from run to run), `keras.backend.clear_session()`
before each, `--runs` runs:

    chain     a chain of 1,000 Dense layers (width 32)      benchmarks/_specs.py
    resnet50  examples/resnet50.yaml                         keras.applications.ResNet50(weights=None)
    dag       a wide DAG of 1,000 nodes, 250 `add` merges    benchmarks/_specs.py

    graphspec   graphspec.build(path): read, check, resolve, make the Keras model
    keras       the model written by hand with the functional API
    from_json   keras.models.model_from_json(json), json = the hand-written model's
                to_json(), made once outside the timing

Prints the median seconds of each and the ratios graphspec / keras (goal: <= 1.10) and
graphspec / from_json (goal: < 1). Then splits graphspec.build into its phases: `load`
(parse, validate, graph checks, resolve), the second `resolve` that `build` does, and
`compile_model` (Keras construction), and with cProfile, graphspec's own functions
inside compile_model.

Usage, from the project root (about 5 minutes here with the defaults):

    python benchmarks/bench_build.py
    python benchmarks/bench_build.py --models chain,dag --runs 7
    python benchmarks/bench_build.py --models resnet50 --runs 3 --no-phases
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _specs  # noqa: E402
import keras  # noqa: E402

import graphspec  # noqa: E402
from graphspec.compiler import compile_model  # noqa: E402
from graphspec.resolve import resolve  # noqa: E402

WIDTH = 32
N = 1000
TMP = Path(tempfile.mkdtemp(prefix="graphspec-bench-"))


def _write(name: str, text: str) -> Path:
    path = TMP / f"{name}.yaml"
    path.write_text(text)
    return path


def models() -> dict[str, dict]:
    """name -> {"spec": path, "keras": callable}."""
    return {
        "chain": {"spec": _write("chain", _specs.chain(N, WIDTH)), "keras": lambda: _specs.keras_chain(N, WIDTH)},
        "resnet50": {"spec": ROOT / "examples" / "resnet50.yaml", "keras": lambda: keras.applications.ResNet50(weights=None)},
        "dag": {"spec": _write("dag", _specs.wide_dag(N, WIDTH)), "keras": lambda: _specs.keras_dag(N, WIDTH)},
    }


def _timed(make) -> tuple[float, object]:
    keras.backend.clear_session()
    gc.collect()
    start = time.perf_counter()
    model = make()
    return time.perf_counter() - start, model


def compare(name: str, entry: dict, runs: int) -> dict:
    reference = entry["keras"]()
    config = reference.to_json()
    params = reference.count_params()
    built = graphspec.build(entry["spec"])
    if built.count_params() != params:
        raise SystemExit(f"{name}: graphspec builds {built.count_params():,} params, the hand-written model {params:,}")
    del reference, built
    ways = {
        "graphspec": lambda: graphspec.build(entry["spec"]),
        "keras": entry["keras"],
        "from_json": lambda: keras.models.model_from_json(config),
    }
    order = list(ways)
    times: dict[str, list[float]] = {way: [] for way in ways}
    for run in range(runs):
        for way in order[run % 3:] + order[: run % 3]:
            seconds, model = _timed(ways[way])
            times[way].append(seconds)
            del model
    med = {way: statistics.median(t) for way, t in times.items()}
    best = {way: min(t) for way, t in times.items()}
    row = {
        "model": name,
        "params": params,
        "runs": runs,
        **{f"{way}_s": med[way] for way in ways},
        **{f"{way}_min_s": best[way] for way in ways},
        "vs_keras": med["graphspec"] / med["keras"],
        "vs_from_json": med["graphspec"] / med["from_json"],
        "vs_keras_min": best["graphspec"] / best["keras"],
        "vs_from_json_min": best["graphspec"] / best["from_json"],
        "all": times,
    }
    print(
        f"  {name:<9} {params:>11,} {runs:>4} {med['graphspec']:>10.2f} {med['keras']:>8.2f} {med['from_json']:>10.2f}"
        f" {row['vs_keras']:>9.2f} {row['vs_from_json']:>9.2f}   (min: {best['graphspec']:.2f} {best['keras']:.2f}"
        f" {best['from_json']:.2f}; {row['vs_keras_min']:.2f} {row['vs_from_json_min']:.2f})",
        flush=True,
    )
    return row


def phases(name: str, entry: dict, runs: int) -> dict:
    """graphspec.build split: load (includes one resolve), build's own resolve, compile_model."""
    parts: dict[str, list[float]] = {"load": [], "resolve": [], "compile_model": []}
    for _ in range(runs):
        keras.backend.clear_session()
        gc.collect()
        t0 = time.perf_counter()
        spec = graphspec.load(entry["spec"])
        t1 = time.perf_counter()
        graph = resolve(spec)
        t2 = time.perf_counter()
        compile_model(graph)
        t3 = time.perf_counter()
        parts["load"].append(t1 - t0)
        parts["resolve"].append(t2 - t1)
        parts["compile_model"].append(t3 - t2)
    med = {k: statistics.median(v) for k, v in parts.items()}
    total = sum(med.values())

    keras.backend.clear_session()
    spec = graphspec.load(entry["spec"])
    graph = resolve(spec)
    profiler = cProfile.Profile()
    profiler.enable()
    compile_model(graph)
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    compile_total = sum(tt for (_cc, _nc, tt, _ct, _callers) in stats.values())
    own = [
        (f"{Path(f[0]).name}:{f[1]}({f[2]})", nc, tt, ct)
        for f, (_cc, nc, tt, ct, _callers) in stats.items()
        if "/graphspec/" in f[0]
    ]
    own_tt = sum(tt for _n, _nc, tt, _ct in own)
    checks = [o for o in own if o[0].split("(")[1].rstrip(")") in ("constructor_arguments", "check_arguments", "lookup", "value")]
    row = {
        "model": name,
        **{f"{k}_s": v for k, v in med.items()},
        "total_s": total,
        "graphspec_share": (med["load"] + med["resolve"]) / total,
        "profile_compile_s": compile_total,
        "profile_graphspec_own_s": own_tt,
        "profile_checks_cum_s": {n: ct for n, _nc, _tt, ct in checks},
    }
    print(
        f"  {name:<9} load {med['load']:.3f} s + resolve {med['resolve']:.3f} s + compile_model {med['compile_model']:.3f} s"
        f" = {total:.3f} s; load+resolve {row['graphspec_share']:.0%}"
    )
    print(
        f"            in compile_model (cProfile, {compile_total:.2f} s): graphspec's own code {own_tt:.3f} s "
        f"({own_tt / compile_total:.1%}); "
        + ", ".join(f"{n.split('(')[1].rstrip(')')} {ct:.3f} s cum ({nc:,} calls)" for n, nc, _tt, ct in sorted(checks, key=lambda c: -c[3]))
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="chain,resnet50,dag")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--resnet-runs", type=int, default=3, help="runs for resnet50 (slower)")
    parser.add_argument("--no-phases", action="store_true")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    catalog = models()
    names = args.models.split(",")
    results: dict = {"keras": keras.__version__, "backend": keras.backend.backend(), "rows": [], "phases": []}
    print(f"build time, seconds (median; Keras {keras.__version__}, backend {keras.backend.backend()})")
    print(f"  {'model':<9} {'params':>11} {'runs':>4} {'graphspec':>10} {'keras':>8} {'from_json':>10} {'gs/keras':>9} {'gs/json':>9}")
    for name in names:
        runs = args.resnet_runs if name == "resnet50" else args.runs
        results["rows"].append(compare(name, catalog[name], runs))
    if not args.no_phases:
        print("\nwhere graphspec.build's time goes (median of 3)")
        for name in names:
            results["phases"].append(phases(name, catalog[name], 3))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
