"""`indexer tracks [TEXT...]`: list or search the tracks and their ids."""

from __future__ import annotations

import argparse

from indexer.commands.options import examples
from indexer.models.registry import DEFAULT_MODEL, MODELS


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    tracks = sub.add_parser(
        "tracks",
        parents=[common],
        help="list or search the tracks and their ids (the page's search box)",
        description="Tracks whose title, artist, album or path hold every word of TEXT (all tracks without TEXT), "
        "with the ids that `python -m storage.query` takes.",
        epilog=examples("indexer tracks miles blue", "indexer tracks --json -n 1000 > tracks.jsonl"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tracks.add_argument("text", nargs="*", metavar="TEXT", help="words to look for (all of them, word prefixes)")
    tracks.add_argument(
        "--model",
        choices=list(MODELS),
        metavar="MODEL",
        help=f"tracks with this model's vector (default: {DEFAULT_MODEL} if it has vectors, else the first model "
        "by name)",
    )
    tracks.add_argument("--limit", "-n", type=int, default=50, help="at most this many (default 50)")
    tracks.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def run(args: argparse.Namespace) -> int:
    import json

    from app.display import duration_text, track_label
    from storage.read.catalog import Catalog

    catalog = Catalog.open(args.data_dir, args.model)
    for track in catalog.search_tracks(" ".join(args.text), limit=args.limit):
        if args.json:
            fields = ("id", "path", "title", "artist", "album", "duration")
            print(json.dumps({f: getattr(track, f) for f in fields} | {"folder": track.folder}, ensure_ascii=False))
        else:
            print(
                f"{track.id}\t{track_label(track)}\t{track.album or ''}\t{duration_text(track.duration)}\t{track.path}"
            )
    return 0
