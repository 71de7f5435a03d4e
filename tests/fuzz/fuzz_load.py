#!/usr/bin/env python
"""Fuzz target: bytes -> graphspec.loads (and build, for a share of the inputs that load).

The only exception allowed out of `loads` and `build` is `graphspec.SpecError`; anything
else (and a hang, under libFuzzer's -timeout) is a crash. Seeds are every spec in
examples/ and tests/cases/. See tests/fuzz/README.md for how to run it.

Two engines:

* atheris (coverage-guided, libFuzzer's mutators and -dict), when it is installed:
      python tests/fuzz/fuzz_load.py CORPUS_DIR -max_total_time=600 -dict=tests/fuzz/graphspec.dict
* a plain mutation loop over the seeds, without atheris (or with --plain):
      python tests/fuzz/fuzz_load.py --plain --seconds 600

Replay one input, with its traceback: python tests/fuzz/fuzz_load.py --repro FILE

By default a crash is recorded (deduplicated by exception type and the innermost
graphspec frame, one repro per kind under --crashes, default /tmp/graphspec-fuzz/crashes)
and fuzzing goes on, so that one run finds every distinct crash. GRAPHSPEC_FUZZ_RAISE=1
re-raises instead (libFuzzer then stops and writes its crash-* file). Counts are written
to --stats (default /tmp/graphspec-fuzz/stats.json) every 5 seconds and at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
import traceback
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _option(name: str, default: str) -> str:
    """`--name VALUE` from argv (removed, so that libFuzzer does not see it)."""
    if name in sys.argv:
        i = sys.argv.index(name)
        value = sys.argv[i + 1]
        del sys.argv[i : i + 2]
        return value
    return default


def _flag(name: str) -> bool:
    if name in sys.argv:
        sys.argv.remove(name)
        return True
    return False


WORK = Path(_option("--work", "/tmp/graphspec-fuzz"))
CRASHES = Path(_option("--crashes", str(WORK / "crashes")))
STATS = Path(_option("--stats", str(WORK / "stats.json")))
BUILD_SHARE = int(_option("--build-one-in", "4"))  # build 1 in N of the inputs that load
PLAIN = _flag("--plain")
SECONDS = float(_option("--seconds", "600"))
REPRO = _option("--repro", "")
RAISE = os.environ.get("GRAPHSPEC_FUZZ_RAISE") == "1" or bool(REPRO)
if REPRO:
    PLAIN, BUILD_SHARE = True, 1

try:
    if PLAIN:
        raise ImportError
    import atheris
except ImportError:
    atheris = None

import keras  # noqa: E402,F401 - imported uninstrumented: too big to instrument, and not the target

if atheris is not None:
    with atheris.instrument_imports(include=["graphspec", "yaml", "pydantic"]):
        import graphspec
        from graphspec import Limits, SpecError
else:
    import graphspec
    from graphspec import Limits, SpecError

BUILD_LIMITS = Limits(max_nodes=300)
counts = {"inputs": 0, "loaded": 0, "built": 0, "build_spec_error": 0, "build_skipped_large": 0, "crashes": 0}
kinds: dict[str, dict] = {}
started = time.time()
last_write = started


def _seeds() -> list[Path]:
    return sorted((ROOT / "examples").rglob("*.yaml")) + sorted((ROOT / "tests" / "cases").glob("*.yaml"))


def _small(spec) -> bool:
    """Whether building `spec` stays cheap: small numbers, small inputs (a huge allowed model is no bug)."""

    def numbers(value):
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from numbers(item)
        elif isinstance(value, list):
            for item in value:
                yield from numbers(item)

    data = spec.model_dump()
    if any(abs(n) > 512 for n in numbers({k: v for k, v in data.items() if k != "expect"})):
        return False
    size = 1
    for input_spec in spec.inputs.values():
        for dim in input_spec.shape if isinstance(input_spec.shape, list) else []:
            if isinstance(dim, int) and dim > 0:
                size *= dim
    return size <= 4096


def _key(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/graphspec/" in f.filename]
    frame = (ours or frames or [None])[-1]
    where = f"{Path(frame.filename).name}:{frame.lineno}" if frame else "?"
    return f"{type(error).__name__} at {where}"


def _record(error: BaseException, data: bytes, stage: str) -> None:
    counts["crashes"] += 1
    key = f"{stage}: {_key(error)}"
    entry = kinds.get(key)
    if entry is None or len(data) < entry["size"]:
        CRASHES.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(key.encode()).hexdigest()[:12] + ".yaml"
        (CRASHES / name).write_bytes(data)
        kinds[key] = entry = {
            "count": entry["count"] if entry else 0,
            "size": len(data),
            "repro": str(CRASHES / name),
            "message": f"{type(error).__name__}: {str(error)[:300]}",
            "traceback": "".join(traceback.format_exception(error)[-6:])[-2000:],
        }
        print(f"\n=== new crash kind: {key} ({len(data)} bytes) -> {CRASHES / name}\n{entry['message']}", file=sys.stderr, flush=True)
    entry["count"] += 1


def _write_stats(final: bool = False) -> None:
    STATS.parent.mkdir(parents=True, exist_ok=True)
    elapsed = time.time() - started
    STATS.write_text(json.dumps({"engine": "atheris" if atheris else "plain", "seconds": round(elapsed, 1), "final": final, **counts, "crash_kinds": kinds}, indent=2))


def _text(data: bytes) -> str:
    """`loads` takes any str: UTF-8, else UTF-8 with lone surrogates (ED A0 80), else Latin-1."""
    for errors in ("strict", "surrogatepass"):
        try:
            return data.decode("utf-8", errors)
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def test_one_input(data: bytes) -> None:
    counts["inputs"] += 1
    global last_write
    if time.time() - last_write > 5:  # libFuzzer may exit without running Python's atexit
        last_write = time.time()
        _write_stats()
    text = _text(data)
    try:
        spec = graphspec.loads(text)
    except SpecError:
        return
    except Exception as error:
        if RAISE:
            raise
        _record(error, data, "loads")
        return
    counts["loaded"] += 1
    if zlib.crc32(data) % BUILD_SHARE:
        return
    if not REPRO and not _small(spec):
        counts["build_skipped_large"] += 1
        return
    try:
        graphspec.build(spec, limits=BUILD_LIMITS)
        counts["built"] += 1
    except SpecError:
        counts["build_spec_error"] += 1
    except Exception as error:
        if RAISE:
            raise
        _record(error, data, "build")


# -- the plain engine: mutations of the seeds --------------------------------------------------------

TOKENS = [
    b"&a ", b"*a", b"<<: *a", b"!!python/object/apply:os.system [x]", b"!!binary ", b"!x ", b"{", b"}", b"[", b"]",
    b": ", b"- ", b"---\n", b"? ", b"|\n", b"'", b'"', b"#", b"\t", b"\x00", b"\xef\xbb\xbf", b"\r", b"$(", b"$",
    b"$$", b")", b",", b"\\", b"\xc2\x85", b"\xed\xa0\x80", b"\xff", b"9" * 5000, b"1e999", b"$(10**10**10)",
    b"repeat: 1000000", b"type: Lambda", b"from: ", b"merge: add", b"share: ", b"block: ", b"units: ", b"null",
    b"-1", b"0", b"nan", b".inf", b"os.system", b"__import__", b"{class_name: Lambda, config: {}}", b"imports: [.]",
]


def _mutate(rng: random.Random, data: bytes, seeds: list[bytes]) -> bytes:
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(data))
        choice = rng.randint(0, 9)
        if choice == 0:
            data = data[:at]
        elif choice == 1:
            data = data[:at] + data[at + rng.randint(1, 64):]
        elif choice in (2, 3):
            data = data[:at] + rng.choice(TOKENS) + data[at:]
        elif choice == 4:
            data = data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) + data[at:]
        elif choice == 5 and data:
            i = rng.randrange(len(data))
            data = data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]
        elif choice == 6:
            lines = data.split(b"\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines.insert(j, lines[i])
            data = b"\n".join(lines)
        elif choice == 7:
            other = rng.choice(seeds)
            k = rng.randint(0, len(other))
            data = data[:at] + other[k:k + rng.randint(1, 200)] + data[at:]
        elif choice == 8:
            data = data[:at] + chr(rng.randint(0x80, 0x10FFFF)).encode("utf-8", "surrogatepass") + data[at:]
        else:
            lines = data.split(b"\n")
            i = rng.randrange(len(lines))
            lines[i] = b" " * rng.randint(0, 8) + lines[i].lstrip()
            data = b"\n".join(lines)
    return data[:200_000]


def plain(seconds: float) -> None:
    seeds = [p.read_bytes() for p in _seeds()]
    rng = random.Random(int(os.environ.get("GRAPHSPEC_FUZZ_SEED", "0")) or None)
    for seed in seeds:
        test_one_input(seed)
    deadline = time.time() + seconds
    while time.time() < deadline:
        test_one_input(_mutate(rng, rng.choice(seeds), seeds))


def main() -> None:
    if REPRO:  # one input, exceptions raised, always built
        test_one_input(Path(REPRO).read_bytes())
        print(f"no crash: {counts}")
        return
    try:
        if atheris is None:
            plain(SECONDS)
        else:
            corpora = [a for a in sys.argv[1:] if not a.startswith("-")]
            for corpus in corpora:  # an empty corpus directory starts from the seeds
                folder = Path(corpus)
                folder.mkdir(parents=True, exist_ok=True)
                if not any(folder.iterdir()):
                    for seed in _seeds():
                        (folder / f"seed_{seed.parent.name}_{seed.name}").write_bytes(seed.read_bytes())
            atheris.Setup(sys.argv, test_one_input)
            import atexit

            atexit.register(lambda: _write_stats(final=True))
            atheris.Fuzz()
    finally:
        _write_stats(final=True)
        print(f"\n{counts['inputs']} inputs in {time.time() - started:.0f} s; {counts} ; crash kinds: {list(kinds)}", file=sys.stderr)


if __name__ == "__main__":
    main()
