"""Decoder libraries (libmpg123 inside libsndfile, FFmpeg) write notes straight to the process's stderr,
past Python. `decoder_chatter_to_log` catches them around one decode and hands them to logging at DEBUG,
so the terminal and the server log stay clean and `--verbose` still shows them."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("indexer.decoder")
_lock = threading.Lock()  # fd 2 is process-wide: one redirect at a time


@contextmanager
def decoder_chatter_to_log() -> Iterator[None]:
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, ValueError, OSError):  # no real stderr (captured, closed): nothing to catch
        yield
        return
    with _lock, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(fd)
        os.dup2(sink.fileno(), fd)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, fd)
            os.close(saved)
            sink.seek(0)
            for line in sink.read().decode("utf-8", "replace").splitlines():
                if line.strip():
                    log.debug("%s", line.strip())
