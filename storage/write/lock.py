"""One writer per data directory: an advisory lock file held for the whole of a build.

The kernel drops a `flock` when its process dies, however it dies, so a lock left by a killed
build is simply free: the next build takes it over (and says whose it was). The file itself is
never deleted (deleting a locked file lets two processes lock two different files). A forked child
(a decode worker) closes its copy of the lock at once: a worker outliving a killed build must not
keep the next build out.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from storage.core.errors import BuildLockedError

log = logging.getLogger(__name__)

LOCK_FILE = ".build.lock"
_held: set[int] = set()  # lock fds of this process, closed in forked children


def _close_in_child() -> None:
    for fd in _held:
        with contextlib.suppress(OSError):
            os.close(fd)  # the parent's open file (and its flock) is untouched
    _held.clear()


os.register_at_fork(after_in_child=_close_in_child)


def _holder(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = os.read(fd, 4096)
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return {}


@contextmanager
def build_lock(data_dir: Path, purpose: str = "build") -> Iterator[None]:
    """Hold the data directory's writer lock, or raise BuildLockedError naming the holder."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held = _holder(fd)
            raise BuildLockedError(
                f"another {held.get('purpose', 'build')} is running on {data_dir} "
                f"(pid {held.get('pid', '?')}, since {held.get('since', '?')}); wait for it to finish or stop it"
            ) from None
        stale = _holder(fd)
        if stale.get("pid"):
            log.info(
                "taking over the lock of pid %s (since %s), which no longer runs", stale["pid"], stale.get("since")
            )
        info = {
            "pid": os.getpid(),
            "since": datetime.now().astimezone().isoformat(timespec="seconds"),
            "purpose": purpose,
            "command": " ".join(sys.argv)[:500],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(info).encode(), 0)
        os.fsync(fd)
        _held.add(fd)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a clean exit leaves no holder behind
            _held.discard(fd)
    finally:
        os.close(fd)  # closing drops the flock
