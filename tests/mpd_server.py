"""A real MPD for tests and benchmarks: Debian's `mpd` on a free loopback port with a temporary config, a
null audio output and its own database and state."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CONFIG = """music_directory "{music}"
db_file "{state}/database"
state_file "{state}/state"
restore_paused "yes"
log_file "{state}/log"
bind_to_address "127.0.0.1"
port "{port}"
auto_update "no"
audio_output {{
    type "null"
    name "silence"
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s: {check}")
        time.sleep(0.05)


class MpdServer:
    """One MPD process over a music directory; `restart()` kills it and starts it again on the same port
    with the same state (its queue comes back, as after a reboot)."""

    def __init__(self, music: Path, state: Path) -> None:
        self.port = free_port()
        state.mkdir(parents=True, exist_ok=True)
        self.config = state / "mpd.conf"
        self.config.write_text(CONFIG.format(music=music, state=state, port=self.port))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(["mpd", "--no-daemon", str(self.config)], stderr=subprocess.PIPE)
        wait_until(self._answers)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def _answers(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.process.stderr.read()  # type: ignore[union-attr]
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False

    def client(self) -> Any:
        import mpd

        client = mpd.MPDClient()
        client.connect("127.0.0.1", self.port)
        return client
