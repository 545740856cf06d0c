"""How tracks and results read to a person: labels, durations, closeness in words, the table and M3U
that `storage.query` prints, the JSON it writes. Front ends (CLI, page, API) format with these; the
search service never does."""

from __future__ import annotations

from pathlib import Path

from storage.core.passages import describe
from storage.core.tracks import Neighbour, TrackInfo


def track_label(track: TrackInfo) -> str:
    """ "Artist – Title" (the file name when the title tag is missing)."""
    title = track.title or Path(track.path).stem
    return f"{track.artist} – {title}" if track.artist else title


def duration_text(seconds: float | None) -> str:
    """m:ss, or "-" when unknown."""
    if seconds is None:
        return "-"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


def closeness_text(neighbour: Neighbour) -> str:
    """The score as a person reads it: "closer than 99.31% of pairs" (the cosine when that is not known)."""
    if neighbour.closeness is None:
        return f"similarity {neighbour.score:.3f}"
    digits = 2 if neighbour.closeness >= 99 else 1
    return f"closer than {neighbour.closeness:.{digits}f}% of pairs"


def neighbour_json(neighbour: Neighbour) -> dict[str, object]:
    """A result as `storage.query --json` writes it."""
    t = neighbour.track
    out: dict[str, object] = {
        "id": t.id,
        "score": round(float(neighbour.score), 6),
        "folder": t.folder,
        "path": t.path,
        "title": t.title,
        "artist": t.artist,
        "album": t.album,
        "duration": t.duration,
    }
    if neighbour.closeness is not None:
        out["closeness"] = round(neighbour.closeness, 2)
    out["also_in"] = list(neighbour.also_in)
    if neighbour.relation is not None:
        out["relation"] = neighbour.relation
    if neighbour.styles is not None:
        out["styles"] = neighbour.styles
    if neighbour.passage is not None:
        out["passage"] = neighbour.passage.as_dict()
    return out


def format_table(query: str, neighbours: list[Neighbour]) -> str:
    """The results as the CLI's table, under "Nearest to QUERY:"."""
    header = ("#", "id", "score", "closer than", "time", "artist", "title", "album", "path", "matched passage")
    rows = [
        (
            str(i),
            str(n.track.id),
            f"{n.score:.4f}",
            f"{n.closeness:.2f}%" if n.closeness is not None else "",
            duration_text(n.track.duration),
            n.track.artist or "",
            n.track.title or "",
            n.track.album or "",
            n.track.path + (f" ({n.relation})" if n.relation else ""),
            describe(n.passage) if n.passage else "",
        )
        for i, n in enumerate(neighbours, 1)
    ]
    widths = [min(60, max(len(r[c]) for r in [header, *rows])) for c in range(len(header))]
    lines = [f"Nearest to {query}:"]
    for r in [header, *rows]:
        lines.append("  ".join(cell[:w].ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip())
    return "\n".join(lines)


def m3u_text(tracks: list[TrackInfo]) -> str:
    """An extended M3U playlist of the tracks' files (absolute paths)."""
    lines = ["#EXTM3U"]
    for track in tracks:
        seconds = int(round(track.duration)) if track.duration else -1
        lines.append(f"#EXTINF:{seconds},{track_label(track)}")
        lines.append(str(track.file))
    return "\n".join(lines) + "\n"
