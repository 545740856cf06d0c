"""`python -m storage.query TRACK_ID`: the nearest neighbours of a track, for scripts.

Imports neither torch nor the model unless `--audio FILE` asks for an outside file
to be embedded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

from indexer.errors import IndexerError  # a light module: the indexer's exception tree, no torch
from storage import __version__
from storage.caps import Caps
from storage.catalog import Catalog, Neighbour, TrackInfo
from storage.console import closed_pipe
from storage.errors import StorageError, UsageError
from storage.passages import clock, describe


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m storage.query",
        description="Find the tracks (or, with --passage, the passages) that sound most like a track or a file.",
        epilog="examples:\n"
        "  python -m storage.query 42                        # the 10 tracks nearest to track 42\n"
        "  python -m storage.query 'Ana Lune/01 Morning.flac' -k 20 --json\n"
        "  python -m storage.query 42 --passage 1:02-1:32    # passages like that region of track 42\n"
        "  python -m storage.query --audio song.mp3 --m3u -  # an outside file; a playlist to stdout",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "track", nargs="?", metavar="TRACK_ID", help="track id, or its path (absolute, or relative to its folder)"
    )
    p.add_argument("-k", type=int, default=10, help="number of neighbours (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument(
        "--m3u",
        metavar="FILE",
        help="also write the neighbours as an M3U playlist ('-': to stdout, instead of the table)",
    )
    p.add_argument("--exclude-same-artist", action="store_true", help="leave out the query's artist")
    p.add_argument("--exclude-same-album", action="store_true", help="leave out the query's album")
    p.add_argument(
        "--max-per-artist", type=int, metavar="N", help="at most N results by one artist (k filled from further down)"
    )
    p.add_argument("--max-per-album", type=int, metavar="N", help="at most N results from one album")
    p.add_argument(
        "--rerank",
        choices=["csls"],
        help="re-rank so tracks near everything ('hubs') stop crowding every list: csls (default: none)",
    )
    p.add_argument(
        "--style",
        action="append",
        metavar="STYLE",
        help='keep neighbours tagged with this style ("Electronic---Techno") or genre ("Electronic"); '
        "repeatable; needs a tagging model (maest)",
    )
    p.add_argument("--audio", type=Path, metavar="FILE", help="query with an outside audio file instead of a track")
    p.add_argument(
        "--passage",
        type=passage_range,
        metavar="START:END",
        help="find the catalog passages nearest to this region of the query, in seconds (62:92) or "
        "as m:ss-m:ss (1:02-1:32); one passage per track",
    )
    p.add_argument("--include-self", action="store_true", help="with --passage: the query's own track may be a result")
    p.add_argument("--data-dir", help="data directory (default $SOUNDALIKE_DATA or ~/.local/share/soundalike)")
    p.add_argument("--model", help="embedding model (default: mule if it has vectors, else the first model by name)")
    p.add_argument("--weights", help="weights for --audio (folder or Hub repo id; default as the indexer)")
    p.add_argument("--device", default="auto", help="device for --audio: auto, cpu, cuda (default auto)")
    p.add_argument("--allow-stale", action="store_true", help="answer from an index older than the database")
    p.add_argument("--rebuild-index", action="store_true", help="rebuild the index from the stored vectors and exit")
    p.add_argument("--verbose", "-v", action="store_true", help="log details and show tracebacks")
    p.add_argument("--version", action="version", version=f"soundalike {__version__}")
    return p


def passage_range(text: str) -> tuple[float, float]:
    """START:END in seconds, or m:ss-m:ss (h:mm:ss too)."""
    parts = text.split("-") if "-" in text else text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, end = (_seconds(p) for p in parts)
    except ValueError:
        wanted = "START:END (seconds: 62:92) or m:ss-m:ss (1:02-1:32)"
        raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}") from None
    if start < 0 or end <= start:
        raise argparse.ArgumentTypeError(f"{text!r}: the passage must end after it starts")
    return start, end


def _seconds(text: str) -> float:
    value = 0.0
    for part in text.strip().split(":"):
        value = value * 60 + float(part)
    return value


def format_table(query: str, neighbours: list[Neighbour]) -> str:
    header = ("#", "id", "score", "closer than", "time", "artist", "title", "album", "path", "matched passage")
    rows = [
        (
            str(i),
            str(n.track.id),
            f"{n.score:.4f}",
            f"{n.closeness:.2f}%" if n.closeness is not None else "",
            n.track.duration_text,
            n.track.artist or "",
            n.track.title or "",
            n.track.album or "",
            n.track.path,
            describe(n.passage) if n.passage else "",
        )
        for i, n in enumerate(neighbours, 1)
    ]
    widths = [min(60, max(len(r[c]) for r in [header, *rows])) for c in range(len(header))]
    lines = [f"Nearest to {query}:"]
    for r in [header, *rows]:
        lines.append("  ".join(cell[:w].ljust(w) for cell, w in zip(r, widths, strict=False)).rstrip())
    return "\n".join(lines)


def m3u_text(neighbours: list[Neighbour]) -> str:
    lines = ["#EXTM3U"]
    for n in neighbours:
        seconds = int(round(n.track.duration)) if n.track.duration else -1
        lines.append(f"#EXTINF:{seconds},{n.track.label}")
        lines.append(str(n.track.file))
    return "\n".join(lines) + "\n"


def write_m3u(target: str, neighbours: list[Neighbour]) -> None:
    """The playlist to `target` ('-': stdout); a path that cannot be written is bad usage."""
    if target == "-":
        sys.stdout.write(m3u_text(neighbours))
        return
    try:
        Path(target).write_text(m3u_text(neighbours), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the playlist {target}: {exc.strerror or exc}") from None


def query_audio(catalog: Catalog, args: argparse.Namespace) -> tuple[list[Neighbour], list[TrackInfo]]:
    """The neighbours of an outside file, and the catalog tracks that are that same recording."""
    if not args.audio.is_file():  # said before any model loads
        raise UsageError(f"no such audio file: {args.audio}")
    from indexer.models import load_embedder
    from indexer.query_audio import embed_audio_file

    embedder = load_embedder(catalog.model, device=args.device, **catalog.embedder_args(args.weights))
    query = embed_audio_file(args.audio, embedder)
    digest = hashlib.sha256(args.audio.read_bytes()).hexdigest()
    in_catalog = catalog.same_recordings(query.embedding.vector, query.seconds, digest)
    if args.passage:
        start, end = args.passage
        passages = catalog.similar_passages(
            query.timeline, start, end, args.k, revision=embedder.revision, allow_stale=args.allow_stale
        )
        return passages, in_catalog
    neighbours = catalog.similar_to_vector(
        query.embedding.vector,
        args.k,
        revision=embedder.revision,
        allow_stale=args.allow_stale,
        styles=args.style,
        caps=Caps(args.max_per_artist, args.max_per_album),
        duration=query.seconds,
        content_hash=digest,
        rerank=args.rerank,
    )
    return catalog.with_passages(query.timeline, neighbours), in_catalog


def run(args: argparse.Namespace) -> int:
    if args.rebuild_index:
        from storage.store import Store

        catalog = Catalog.open(args.data_dir, args.model)
        store = Store(catalog.data_dir)
        with store.lock("index rebuild"):
            info = store.rebuild_index(catalog.model)
        print(f"rebuilt the {info.model} index: {info.count} vectors, {info.kind}, {info.build_seconds:.1f} s")
        return 0
    if (args.track is None) == (args.audio is None):
        raise UsageError("give a TRACK_ID or --audio FILE (one of the two)")
    if args.m3u == "-" and args.json:
        raise UsageError("--m3u - and --json would both write to stdout; give --m3u a file")
    catalog = Catalog.open(args.data_dir, args.model)
    for cap in (args.max_per_artist, args.max_per_album):
        if cap is not None and cap < 1:
            raise UsageError("--max-per-artist and --max-per-album take a number of at least 1")
    if args.passage and args.style:
        raise UsageError("--passage does not combine with --style yet")
    if args.style and not catalog.tags_styles():
        raise UsageError(f"the {catalog.model} vectors carry no style tags; --style needs a tagging model (maest)")
    track: TrackInfo | None = None
    in_catalog: list[TrackInfo] = []
    if args.audio is not None:
        neighbours, in_catalog = query_audio(catalog, args)
        label = str(args.audio)
        if in_catalog:
            label += f" (in your catalog as [{in_catalog[0].id}] {in_catalog[0].label})"
    else:
        track = catalog.resolve(args.track)
        label = f"[{track.id}] {track.label}"
    if track is not None and args.passage:
        start, end = args.passage
        shared = catalog.ids_sharing(
            track.artist if args.exclude_same_artist else None, track.album if args.exclude_same_album else None
        )
        exclude = sorted(shared | (set() if args.include_self else {track.id}))
        neighbours = catalog.similar_passages(
            catalog.timeline(track), start, end, args.k, exclude_ids=exclude, allow_stale=args.allow_stale
        )
    elif track is not None:
        neighbours = catalog.similar(
            track,
            args.k,
            exclude_same_artist=args.exclude_same_artist,
            exclude_same_album=args.exclude_same_album,
            allow_stale=args.allow_stale,
            styles=args.style,
            caps=Caps(args.max_per_artist, args.max_per_album),
            rerank=args.rerank,
        )
        neighbours = catalog.with_passages(catalog.timeline(track), neighbours)
    if args.passage:
        label += f", passage {clock(args.passage[0])}–{clock(args.passage[1])}"
    if args.m3u:
        write_m3u(args.m3u, neighbours)
    if args.m3u == "-":
        return 0
    if args.json:
        query: dict[str, object] = {"id": track.id, "path": track.path} if track else {"audio": str(args.audio)}
        if args.passage:
            query["passage"] = {"start": args.passage[0], "end": args.passage[1]}
        if args.audio is not None:
            query["in_catalog"] = [{"id": t.id, "path": t.path, "folder": t.folder} for t in in_catalog]
        if track and catalog.tags_styles():
            query["styles"] = catalog.styles([track.id])[track.id]
        payload = {
            "query": query,
            "model": catalog.model,
            "rerank": args.rerank,
            "neighbours": [n.as_dict() for n in neighbours],
        }
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        print(format_table(label, neighbours))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return run(args)
    except BrokenPipeError:
        return closed_pipe()
    except (StorageError, IndexerError) as exc:  # the indexer's, for --audio
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - anything unforeseen becomes one line
        if args.verbose:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --verbose for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
