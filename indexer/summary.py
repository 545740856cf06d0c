"""Human-readable build summaries and `indexer status`."""

from __future__ import annotations

import datetime as dt

from indexer.build import BuildReport
from storage.catalog import Catalog
from storage.errors import StorageError


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 360 else f"{seconds:.0f} s"


def format_report(r: BuildReport) -> str:
    speed = f", {r.audio_seconds / r.elapsed:.1f}x real-time" if r.elapsed and r.audio_seconds else ""
    lines = []
    if r.interrupted:
        lines.append(f"interrupted: {r.indexed} track(s) embedded and saved this run; run the same command to continue")
    lines.append(
        f"indexed {r.indexed} ({_hours(r.audio_seconds)} of audio{speed}), unchanged {r.unchanged}, moved {r.moved}, "
        f"removed {r.removed}, failed {len(r.failed)}"
        + (f" (+{r.still_failed} unchanged since they failed)" if r.still_failed else "")
        + f", not audio {r.ignored}; {r.elapsed:.1f} s"
    )
    for path, reason in r.failed:
        lines.append(f"  failed: {path}: {reason}")
    if r.index is not None:
        lines.append(f"index: {r.index.count} vectors, {r.index.kind}, built in {r.index.build_seconds:.1f} s")
    return "\n".join(lines)


def format_status(catalog: Catalog) -> str:
    counts = catalog.count_tracks()
    total = sum(counts.values())
    lines = [
        f"data directory: {catalog.data_dir}",
        f"catalog: {catalog.root or '-'}",
        f"tracks: {total} ({', '.join(f'{n} {state}' for state, n in sorted(counts.items())) or 'none'})",
    ]
    try:
        index = catalog.index()
        meta = index.meta
        size = sum(p.stat().st_size for p in index.directory.iterdir())
        behind = catalog.stale_by(index)
        built = dt.datetime.fromtimestamp(meta.built_at).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"model: {meta.model}, weights revision {meta.revision}")
        params = f" {meta.params}" if meta.params else ""
        freshness = f"stale ({behind} change(s) since)" if behind else "up to date"
        lines.append(
            f"index: {meta.kind}{params}, {meta.count} vectors x {meta.dim}, {size / 1e6:.1f} MB, "
            f"built {built}, {freshness}"
        )
    except StorageError as exc:
        lines.append(f"index: none ({exc})")
    failed = catalog.failed_tracks()
    if failed:
        lines.append(f"failed files ({len(failed)}):")
        lines += [f"  {t.path}: {t.error}" for t in failed]
    return "\n".join(lines)
