"""A progress bar for long builds: tracks done/total, hours of audio, × real-time, ETA."""

from __future__ import annotations

import time


class Progress:
    def __init__(self, total: int, enabled: bool = True) -> None:
        from tqdm import tqdm

        self.started = time.perf_counter()
        self.audio = 0.0
        self.bar = tqdm(total=total, unit="track", disable=not enabled, dynamic_ncols=True, desc="embedding")

    def advance(self, audio_seconds: float) -> None:
        self.audio += audio_seconds
        elapsed = max(1e-9, time.perf_counter() - self.started)
        self.bar.set_postfix_str(
            f"{self.audio / 3600:.2f} h audio, {self.audio / elapsed:.1f}x real-time", refresh=False
        )
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
