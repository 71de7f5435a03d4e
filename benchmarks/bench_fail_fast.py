"""How fast hostile or huge specs are refused: the timings the unit tests used to assert.

tests/test_attacks.py checks that each of these inputs is refused with the right code,
and, where it can be counted, that no work is done past the limit (no node instantiated,
Keras never called); wall-clock times belong here, where they are measured against a
baseline taken in the same run: `graphspec.loads` of examples/mlp.yaml, a small valid
spec. Each input is loaded --repeats times; the median and min seconds and the ratio of
the min to the baseline's min are printed. The unit tests asserted, on the machine they
were written on: expressions and alias bombs under 1-2 s, deep nesting under 3 s,
blocks of blocks under 0.5 s, a million repeats under 1 s, the catalogue loaded in
under 0.05 s; the ratios say the same without depending on the machine.

Usage, from the project root:

    python benchmarks/bench_fail_fast.py              # ~10 s
    python benchmarks/bench_fail_fast.py --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import hostile  # noqa: E402 (tests/hostile.py: inputs shared with the attack tests)

import graphspec  # noqa: E402
from graphspec import Limits, SpecError  # noqa: E402

X = "inputs: {x: {shape: [4]}}\n"
DENSE = X + "nodes:\n  y: {type: Dense, units: 2, from: x}\noutputs: [y]\n"


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n" + DENSE


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


INPUTS: dict[str, tuple[str, Limits | None]] = {
    "expression: nested unary minus": ("params: {v: " + quoted("$(" + "-(" * 60 + "10 ** 20" + ")" * 60 + ")") + "}\n" + DENSE, None),
    "expression: 300 parentheses": ("params: {v: " + quoted("$(" + "(" * 300 + "1" + ")" * 300 + ")") + "}\n" + DENSE, None),
    "expression: 2.0 ** 1000": ("params: {v: " + quoted("$(2.0 ** 1000)") + "}\n" + DENSE, None),
    "alias bomb: 9 levels": (billion_laughs(), None),
    "alias bomb: 20 levels": (billion_laughs(20), None),
    "nesting: 5,000 flow lists": ("a: " + "[" * 5000 + "]" * 5000 + "\n", None),
    "nesting: 3,000 block mappings": ("".join("  " * i + "a:\n" for i in range(3000)) + "  " * 3000 + "1\n", None),
    "blocks of blocks: 10**7 nodes": (hostile.blocks_of_blocks(7), Limits(max_nodes=100_000)),
    "repeat: a million": (X + "nodes:\n  y: {type: Dense, units: 4, from: x, repeat: 1000000}\noutputs: [y]\n", None),
}


def seconds(action: Callable[[], object], repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def refused(text: str, limits: Limits | None) -> Callable[[], None]:
    def action() -> None:
        try:
            graphspec.loads(text, limits=limits)
        except SpecError:
            return
        raise SystemExit("a hostile input was accepted")

    return action


def catalogue_load_seconds() -> float:
    script = "import time; from graphspec import catalogue; t = time.perf_counter(); catalogue.catalogue(); print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args()
    mlp = (ROOT / "examples" / "mlp.yaml").read_text()
    graphspec.loads(mlp)  # warm: the catalogue and modules loaded once
    baseline = min(seconds(lambda: graphspec.loads(mlp), options.repeats * 4))
    print(f"baseline: loads(examples/mlp.yaml) min {baseline * 1000:.2f} ms\n")
    print(f"{'input':34} {'median s':>9} {'min s':>9} {'x baseline':>11}")
    for name, (text, limits) in INPUTS.items():
        times = seconds(refused(text, limits), options.repeats)
        print(f"{name:34} {statistics.median(times):9.4f} {min(times):9.4f} {min(times) / baseline:11.1f}")
    catalogue = min(catalogue_load_seconds() for _ in range(options.repeats))
    print(f"{'catalogue.json read (fresh process)':34} {'':9} {catalogue:9.4f} {catalogue / baseline:11.1f}")


if __name__ == "__main__":
    main()
