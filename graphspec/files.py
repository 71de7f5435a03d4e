"""Writing output files safely: a temporary file beside the target, then an atomic rename.

An interrupted run never leaves a half-written file, and an existing output is replaced
only when the new one is complete. A run killed between creating its temporary file and
renaming it (``kill -9``, a power cut) leaves ``.NAME.PID.XXXXXXXX.tmp`` beside the
target; the next write to the same target removes such files of processes that are no
longer running (and any older than a day), so they do not accumulate.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

STALE_AFTER_SECONDS = 24 * 3600  # a temporary file this old is stale whoever made it


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` through a temporary file and `os.replace`."""
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    directory = target.parent or Path(".")
    remove_stale_temporaries(target)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Remove the temporary files earlier interrupted writes to `target` left; returns them.

    Only names `write_atomic` makes are touched (``.NAME.PID.XXXXXXXX.tmp``, and the
    ``.NAME.XXXXXXXX.tmp`` of earlier versions), and only when the process that made them is
    gone or they are over a day old: a write in progress in another process is left alone.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.(?:(\d+)\.)?[a-z0-9_]{{8}}\.tmp$")
    removed = []
    try:
        entries = list(os.scandir(target.parent or Path(".")))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = pattern.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        with contextlib.suppress(OSError):
            old = now - entry.stat(follow_symlinks=False).st_mtime > STALE_AFTER_SECONDS
            pid = int(match.group(1)) if match.group(1) else None
            if old or (pid is not None and pid != os.getpid() and not _running(pid)):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether process `pid` exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError, OSError):
        return True  # someone else's process, or cannot tell: keep its file
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
