"""What both command lines (`indexer`, `python -m storage.query`) do at the terminal's edge: the one CLI
error handler."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from storage.core.errors import SoundalikeError, exit_code

EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141


def closed_pipe() -> int:
    """The reader went away (`| head`): stop quietly, as a SIGPIPE'd command does (exit 141)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
    return EXIT_CLOSED_PIPE


def run_cli(command: Callable[[], int], verbose: bool) -> int:
    """Run a command's body; every error becomes one line on stderr and its exit code (0 done, 2 bad usage
    or an unknown id, 1 anything fatal, 130 interrupted, 141 the pipe's reader left). `verbose`: tracebacks."""
    try:
        return command()
    except BrokenPipeError:
        return closed_pipe()
    except SoundalikeError as exc:
        if verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one place unforeseen errors become one line
        if verbose:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --verbose for the traceback)", file=sys.stderr)
        return 1
