"""Human-readable build summaries and `indexer status`."""

from __future__ import annotations

import datetime as dt

import numpy as np

from app.display import track_label
from indexer.build import BuildReport
from storage.core.errors import SoundalikeError
from storage.core.timelines import CODED, FIT_SLICES, RAW
from storage.index.hubs import K
from storage.index.vectors import VectorIndex
from storage.listeners import metrics as learned
from storage.read.catalog import Catalog


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 360 else f"{seconds:.0f} s"


def format_report(r: BuildReport) -> str:
    speed = f", {r.audio_seconds / r.elapsed:.1f}x real-time" if r.elapsed and r.audio_seconds else ""
    lines = []
    if r.interrupted:
        lines.append(f"interrupted: {r.indexed} track(s) embedded and saved this run; run the same command to continue")
    for folder, kept in r.missing:
        lines.append(f"missing or unmounted: {folder}; its {kept} track(s) are kept (mount it and build again)")
    lines.append(
        f"{r.model}: indexed {r.indexed} ({_hours(r.audio_seconds)} of audio{speed}), unchanged {r.unchanged}, "
        f"moved {r.moved}, removed {r.removed}, failed {len(r.failed)}"
        + (f" (+{r.still_failed} unchanged since they failed)" if r.still_failed else "")
        + f", not audio {r.ignored}; {r.elapsed:.1f} s"
    )
    for path, reason in r.failed:
        lines.append(f"  failed: {path}: {reason}")
    if r.index is not None:
        how = "updated" if r.index.params.get("layer") else "built"
        lines.append(f"index: {r.index.count} vectors, {r.index.kind}, {how} in {r.index.build_seconds:.1f} s")
    if r.indexed:
        lines.append(f"time: {r.stages.summary()}")
    return "\n".join(lines)


HUBS_SHOWN = 3
STYLES_SHOWN = 15
FAILURES_SHOWN = 50


def format_status(catalog: Catalog, model: str | None = None) -> str:
    lines = [f"data directory: {catalog.data_dir}"]
    folders = catalog.folder_counts()
    lines.append(f"folders ({len(folders)}):" if folders else "folders: none (`indexer build CATALOG_DIR` adds one)")
    for folder, count in folders:
        where = "" if folder.is_dir() else "  [missing or unmounted]"
        lines.append(f"  {folder}: {count} track(s){where}")
    for name in [model] if model else catalog.known_models() or [catalog.model]:
        lines += _model_lines(catalog.for_model(name))
    return "\n".join(lines)


def _model_lines(catalog: Catalog) -> list[str]:
    counts = catalog.count_tracks()
    states = ", ".join(f"{n} {state}" for state, n in counts.items()) or "no tracks"
    lines = [f"model {catalog.model}: {states}"]
    lines += _index_lines(catalog)
    lines += _timeline_lines(catalog)
    for info in learned.fitted(catalog.data_dir, catalog.model):  # each listener's "my ears" (docs/teach.md)
        lines.append(
            f"  learned: {info.listener}'s ears, version {info.version}, {info.answers} answer(s), held-out agreement "
            f"{info.agreement_before:.2f} → {info.agreement_after:.2f}"
            + ("" if info.learned else " (plain cosine kept)")
        )
    styles = catalog.style_counts()
    if styles:
        shown = ", ".join(f"{label} ({n})" for label, n in styles[:STYLES_SHOWN])
        more = f", and {len(styles) - STYLES_SHOWN} more" if len(styles) > STYLES_SHOWN else ""
        lines.append(f"  styles ({len(styles)} in all, tracks each): {shown}{more}")
    failed = catalog.failed_tracks()
    if failed:
        lines.append(f"  failed files ({len(failed)}):")
        lines += [f"    {track.file}: {reason}" for track, reason in failed[:FAILURES_SHOWN]]
        if len(failed) > FAILURES_SHOWN:
            lines.append(f"    and {len(failed) - FAILURES_SHOWN} more")
    return lines


def _index_lines(catalog: Catalog) -> list[str]:
    try:
        index = catalog.index()
    except SoundalikeError as exc:
        return [f"  no index ({exc})"]
    meta = index.meta
    size = sum(p.stat().st_size for p in index.directory.iterdir())
    behind = catalog.stale_by(index)
    built = dt.datetime.fromtimestamp(meta.built_at).strftime("%Y-%m-%d %H:%M:%S")
    bookkeeping = ("trained_count", "pairs_drift", "layer")  # storage.index.increments' own; shown below
    params = "".join(f", {k}={v}" for k, v in meta.params.items() if k not in bookkeeping)
    freshness = f"stale ({behind} change(s) since)" if behind else "up to date"
    layer = meta.params.get("layer")
    updates = (
        f"  updates: {layer['added']} vector(s) added and {layer['hidden']} hidden on top of the last full build "
        f"of {meta.params.get('trained_count', meta.count)} (`indexer reindex {catalog.model}` rebuilds in full)"
        if layer
        else None
    )
    return [
        f"  weights revision {meta.revision}",
        f"  index: {meta.kind}{params}, {meta.count} vectors x {meta.dim}, {size / 1e6:.1f} MB, "
        f"built {built}, {freshness}",
        *([updates] if updates else []),
        *_hub_lines(catalog, index),
    ]


def _hub_lines(catalog: Catalog, index: VectorIndex) -> list[str]:
    hubs = index.hubs
    if hubs is None:
        return []
    top = np.argsort(-hubs.occurrence, kind="stable")[:HUBS_SHOWN]
    names = []
    for row in top.tolist():
        try:
            names.append(f"{track_label(catalog.track(int(index.ids[row])))} (in {hubs.occurrence[row]} lists)")
        except SoundalikeError:  # gone since the build
            continue
    return [
        f"  hubs: {K}-occurrence skewness {hubs.skewness:.2f} ({hubs.csls_skewness:.2f} with --rerank csls); "
        f"always there: {', '.join(names)}"
    ]


def _timeline_lines(catalog: Catalog) -> list[str]:
    formats = catalog.timeline_formats()
    if not formats:
        return []
    codec = catalog.codec()
    parts = []
    if formats.get(CODED):
        parts.append(f"{formats[CODED]} compact ({codec.dims if codec else '?'}-d int8)")
    if formats.get(RAW):
        later = "made compact by the next build" if codec else f"float16 until the model has {FIT_SLICES:,} slices"
        parts.append(f"{formats[RAW]} float16 ({later})")
    lines = [f"  timelines: {', '.join(parts)}"]
    try:
        meta = catalog.segments(allow_stale=True).meta
        lines.append(f"  segment index (search by passage): {meta.kind}, {meta.count} slices")
    except SoundalikeError as exc:
        lines.append(f"  no segment index ({exc})")
    return lines
