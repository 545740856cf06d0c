"""The writer lock: a killed build's lock is free at once, even while a worker it forked lives on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from storage.write.lock import build_lock

HOLDER = """
import os, sys, time
from pathlib import Path
from storage.write.lock import build_lock
with build_lock(Path(sys.argv[1])):
    ready, running = os.pipe()
    if os.fork() == 0:  # a worker, as the decode pool forks them
        os.write(running, b"1")  # past fork's after-child hooks: what every real worker does next
        time.sleep(60)
        os._exit(0)
    os.read(ready, 1)  # killed before the child ran at all, the test would race the kernel's scheduler
    print("locked", flush=True)
    time.sleep(60)
"""


def children_of(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:  # field 4: the parent's pid
                found.append(int(entry))
    return found


def test_a_killed_builds_lock_is_free_while_its_forked_worker_lives(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    worker = next(pid for pid in children_of(holder.pid))
    try:
        holder.kill()
        holder.wait()
        os.kill(worker, 0)  # the worker still runs...
        started = time.monotonic()
        with build_lock(tmp_path):  # ...and the lock is free
            assert time.monotonic() - started < 1
    finally:
        os.kill(worker, signal.SIGKILL)
