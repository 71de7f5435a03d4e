"""The inputs of issue 13, each timed and measured: one SpecError (or a model) in < 2 s and < 500 MB.

Each case of tests/hostile.py is written to a temporary directory and run (`load`, or
`load` + `build`) in a worker process, which reports the outcome, the wall time and the
peak of Python's allocations (tracemalloc, measured in a second run so that tracing does
not slow the timed one), and the growth of the process's peak RSS. Then the scaling of the
work the issue named (suggestions, imports, message size) at 1k, 2k and 4k, with the
ratios of each size to the one before (linear: about 2).

    python benchmarks/bench_hostile.py                 # every case, then the scaling
    python benchmarks/bench_hostile.py --only huge-int-hex --no-scaling
    python benchmarks/bench_hostile.py --validate      # also `graphspec validate` over all of them

The workers run under a CPU-time alarm (60 s) and, for load-only workers, a 4 GB address
space limit, so that a regression cannot take the machine down.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from hostile import BASELINES, SCALING, all_cases, written_out_nodes  # noqa: E402

WORKER = r"""
import json, os, resource, signal, sys, time, tracemalloc, io
sys.setrecursionlimit(1000)  # Python's default: what users have
if os.environ.get("BENCH_AS"):
    limit = int(os.environ["BENCH_AS"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
import graphspec
if os.environ.get("BENCH_KERAS"):
    import keras  # noqa: F401  (imported before measuring: its memory is not the case's)

def handler(signum, frame):
    raise TimeoutError("over 60 s")

signal.signal(signal.SIGALRM, handler)

def run(path, action):
    spec = graphspec.load(path)
    if action == "build":
        graphspec.build(spec)

def once(path, action, trace):
    if trace:
        tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    signal.alarm(60)
    start = time.perf_counter()
    outcome, detail = "model", ""
    try:
        run(path, action)
    except graphspec.SpecError as error:
        outcome = "SpecError"
        detail = " ".join(sorted({p.code for p in error.problems}))
        text = str(error)
        detail += f" ({len(error.problems)} problems, {len(text):,} chars)"
    except BaseException as error:
        outcome = "OTHER " + type(error).__name__
        detail = str(error)[:200]
    finally:
        signal.alarm(0)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    return {"outcome": outcome, "detail": detail, "seconds": seconds, "python_mb": peak / 2**20, "rss_growth_mb": rss_growth / 1024}

for line in sys.stdin:
    path, action, trace = json.loads(line)
    print(json.dumps(once(path, action, trace)), flush=True)
"""


class Worker:
    """A Python process that runs cases one by one (restarted when one dies)."""

    def __init__(self, keras: bool) -> None:
        self.keras = keras
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> subprocess.Popen[str]:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        if self.keras:
            env["BENCH_KERAS"] = "1"
        else:
            env["BENCH_AS"] = str(4 * 2**30)
        return subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)

    def run(self, path: Path, action: str, trace: bool) -> dict:
        if self.process is None or self.process.poll() is not None:
            self.process = self.start()
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps([str(path), action, trace]) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait()
            self.process = None
            return {"outcome": f"DIED (exit {code})", "detail": "", "seconds": float("nan"), "python_mb": float("nan"), "rss_growth_mb": float("nan")}
        return json.loads(line)

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            self.process.wait()


def run_cases(only: str | None) -> list[dict]:
    workers = {"load": Worker(keras=False), "build": Worker(keras=True)}
    results = []
    cases = [c for c in all_cases() if only is None or only in c.name]
    cases.append(_written_out_case())
    print(f"{'case':52} {'outcome':>10} {'s':>7} {'py MB':>7} {'RSS+ MB':>8}  detail")
    with tempfile.TemporaryDirectory() as folder:
        for index, case in enumerate(cases):
            directory = Path(folder) / f"case{index}"
            directory.mkdir()
            path = case.write(directory)
            worker = workers[case.action]
            timed = worker.run(path, case.action, trace=False)
            traced = worker.run(path, case.action, trace=True) if timed["seconds"] < 30 else timed
            result = {"case": case.name, **timed, "python_mb": traced["python_mb"]}
            results.append(result)
            print(f"{case.name[:52]:52} {result['outcome'][:10]:>10} {result['seconds']:7.3f} {result['python_mb']:7.1f} {result['rss_growth_mb']:8.1f}  {result['detail'][:90]}", flush=True)
    for worker in workers.values():
        worker.close()
    slowest = max(results, key=lambda r: r["seconds"])
    largest = max(results, key=lambda r: r["python_mb"])
    others = [r for r in results if not (r["outcome"] == "SpecError" or r["outcome"] == "model")]
    print(f"\n{len(results)} cases; slowest {slowest['case']} {slowest['seconds']:.2f} s; "
          f"largest Python peak {largest['case']} {largest['python_mb']:.1f} MB; not SpecError/model: {len(others)}")
    return results


def _written_out_case():
    from hostile import Case

    return Case("written-out-140000-nodes", {"main.yaml": written_out_nodes(140_000)}, "load", builds=True)


def scaling() -> dict:
    """Time of `load` at 1k, 2k, 4k for each kind of work the issue named (best of 3).

    Where the same spec without its mistakes exists (BASELINES), it is timed in the same
    run, alternating, and the table shows what the mistakes add to it: the suggestions,
    problems and messages, which must grow linearly (or not at all: suggestions are capped).
    """
    print("\nscaling (best of 3 runs of load, seconds; ratio to the size before)")
    print(f"{'work':24} {'1k':>7} {'2k':>7} {'4k':>7} {'2k/1k':>6} {'4k/2k':>6} | {'no mistakes 1k/2k/4k':>22} | {'added by mistakes':>22} | message chars 1k/2k/4k")
    worker = Worker(keras=False)
    table = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, make in SCALING.items():
            times, bases, sizes = [], [], []
            for n in (1000, 2000, 4000):
                paths = {}
                for kind, maker in (("bad", make), ("good", BASELINES.get(name))):
                    if maker is None:
                        continue
                    directory = Path(folder) / f"{name.replace(' ', '_')}_{kind}_{n}"
                    directory.mkdir()
                    for relative, text in maker(n).items():
                        (directory / relative).write_text(text)
                    paths[kind] = directory / "main.yaml"
                runs: dict[str, list[dict]] = {kind: [] for kind in paths}
                for _ in range(3):
                    for kind, path in paths.items():
                        runs[kind].append(worker.run(path, "load", trace=False))
                times.append(min(r["seconds"] for r in runs["bad"]))
                if "good" in runs:
                    bases.append(min(r["seconds"] for r in runs["good"]))
                detail = runs["bad"][0]["detail"]
                sizes.append(detail.split(", ")[-1].split(" chars")[0] if "chars" in detail else runs["bad"][0]["outcome"])
            table[name] = {"seconds": times, "baseline_seconds": bases, "message_chars": sizes}
            base_text = " / ".join(f"{b:.3f}" for b in bases) if bases else "-"
            added = " / ".join(f"{t - b:.3f}" for t, b in zip(times, bases, strict=True)) if bases else "-"
            print(f"{name:24} {times[0]:7.3f} {times[1]:7.3f} {times[2]:7.3f} {times[1] / times[0]:6.2f} {times[2] / times[1]:6.2f} | {base_text:>22} | {added:>22} | {' / '.join(sizes)}", flush=True)
    worker.close()
    return table


def validate_all() -> None:
    """`graphspec validate DIR` over every case: exit code, files reported, time."""
    with tempfile.TemporaryDirectory() as folder:
        for index, case in enumerate(all_cases()):
            directory = Path(folder) / f"case{index:03d}"
            directory.mkdir()
            case.write(directory)
        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "graphspec", "validate", "--format", "json", folder], capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)))
        seconds = time.perf_counter() - start
        problems = json.loads(result.stdout) if result.stdout.strip().startswith("[") else []
        reported = {Path(p["file"]).parent.name for p in problems}
        print(f"\nvalidate over {len(all_cases())} case directories: exit {result.returncode}, {seconds:.1f} s, "
              f"{len(reported)} directories reported, {len(problems)} problems, stdout {len(result.stdout):,} chars, stderr {len(result.stderr):,} chars")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the cases whose name contains this")
    parser.add_argument("--no-cases", action="store_true")
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--validate", action="store_true")
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args()
    numbers: dict = {}
    if not args.no_cases:
        numbers["cases"] = run_cases(args.only)
    if not args.no_scaling:
        numbers["scaling"] = scaling()
    if args.validate:
        validate_all()
    if args.json:
        Path(args.json).write_text(json.dumps(numbers, indent=2))


if __name__ == "__main__":
    main()
