"""Where a build's time goes: wall seconds this process spent in each stage (benchmarks/bench_pipeline.py
reads them; the build summary prints them). Decoding runs in worker processes beside the embedding, so
the main process's wait for decoded audio, not the workers' own time, says whether decoding bounds a build."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

STAGES = ("scan", "decode wait", "embed", "write", "fingerprints", "compact", "index")


class StageClock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - started)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds

    def summary(self) -> str:
        """ "scan 0.1 s, decode wait 3.2 s, ..." in pipeline order: every stage this build went through."""
        return ", ".join(f"{stage} {self.seconds[stage]:.1f} s" for stage in STAGES if stage in self.seconds)
