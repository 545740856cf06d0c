"""One writer per data directory: an advisory lock file held for the whole of a build.

The kernel drops a `flock` when its process dies, however it dies, so a lock left by a killed
build is simply free: the next build takes it over (and says whose it was). The file itself is
never deleted (deleting a locked file lets two processes lock two different files).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from storage.errors import BuildLockedError

log = logging.getLogger(__name__)

LOCK_FILE = ".build.lock"


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
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a clean exit leaves no holder behind
    finally:
        os.close(fd)  # closing drops the flock
