"""Deep graphs: build, save and load a Dense chain of 1,000 to 10,000 layers.

Python's default recursion limit (1,000) stops Keras's recursive graph walk at about a
thousand layers; `graphspec.build` makes room inside the build only
(`graphspec.deep_recursion`). For each depth, in a fresh process (so that the peak memory
is that depth's): the chain written by hand in Keras (inside `deep_recursion`, which
hand-written code needs too), then `graphspec.build` of the same chain from YAML, then
`model.save` and `keras.models.load_model` of the graphspec model. Prints seconds, seconds
per 1,000 layers (flat when the time grows linearly), the ratio graphspec / by hand, and
the peak resident memory of the process.

    python benchmarks/bench_depth.py [--sizes 1000,2000,5000,10000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(layers: int) -> dict[str, float]:
    """One depth, in this process: by hand, graphspec.build, save, load; seconds and peak MiB."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT))
    import _specs
    import keras

    import graphspec

    limit = sys.getrecursionlimit()
    result: dict[str, float] = {"layers": layers}
    with graphspec.deep_recursion(layers):
        start = time.perf_counter()
        _specs.keras_chain(layers, 8)
        result["by_hand_s"] = time.perf_counter() - start
    keras.backend.clear_session()
    spec = graphspec.loads(_specs.chain(layers, 8))
    start = time.perf_counter()
    model = graphspec.build(spec)
    result["build_s"] = time.perf_counter() - start
    assert sys.getrecursionlimit() == limit and len(model.layers) == layers + 1
    path = Path(tempfile.mkdtemp()) / "chain.keras"
    start = time.perf_counter()
    model.save(path)
    result["save_s"] = time.perf_counter() - start
    start = time.perf_counter()
    with graphspec.deep_recursion(layers):
        loaded = keras.models.load_model(path)
    result["load_s"] = time.perf_counter() - start
    assert len(loaded.layers) == layers + 1
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,5000,10000")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child process: one depth
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        child = subprocess.run([sys.executable, __file__, "--one", str(size)], capture_output=True, text=True)
        if child.returncode != 0:
            sys.exit(f"{size:,} layers failed (exit {child.returncode}):\n" + "\n".join(child.stderr.splitlines()[-15:]))
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
    print(f"{'layers':>7} {'by hand s':>10} {'build s':>8} {'/ by hand':>10} {'build s/1k':>11} {'save s':>7} {'load s':>7} {'peak MiB':>9}")
    for row in rows:
        per_k = row["build_s"] / row["layers"] * 1000
        print(
            f"{row['layers']:>7,} {row['by_hand_s']:>10.2f} {row['build_s']:>8.2f} {row['build_s'] / row['by_hand_s']:>10.2f}"
            f" {per_k:>11.2f} {row['save_s']:>7.2f} {row['load_s']:>7.2f} {row['peak_mib']:>9.0f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
