"""What both command lines do at the terminal's edge."""

from __future__ import annotations

import os
import sys


def closed_pipe() -> int:
    """The reader went away (`| head`): stop quietly, as a SIGPIPE'd command does (exit 141)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
    return 141
