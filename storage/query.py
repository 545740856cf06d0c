"""`python -m storage.query TRACK_ID`: the nearest neighbours of a track, for scripts.

Imports neither torch nor the model unless `--audio FILE` asks for an outside file
to be embedded.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from storage import __version__
from storage.caps import Caps
from storage.catalog import Catalog
from storage.console import run_cli
from storage.display import format_table, m3u_text, neighbour_json, track_label
from storage.errors import UsageError
from storage.passages import clock
from storage.search import STEER_WEIGHT, SearchRequest, SearchResult, SearchService, Steering, VectorQuery
from storage.tracks import TrackInfo
from storage.words import text_catalog


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m storage.query",
        description="Find the tracks (or, with --passage, the passages) that sound most like a track or a file.",
        epilog="examples:\n"
        "  python -m storage.query 42                        # the 10 tracks nearest to track 42\n"
        "  python -m storage.query 'Ana Lune/01 Morning.flac' -k 20 --json\n"
        "  python -m storage.query 42 --passage 1:02-1:32    # passages like that region of track 42\n"
        "  python -m storage.query 42 57 61                  # tracks near all three\n"
        "  python -m storage.query --audio song.mp3 --m3u -  # an outside file; a playlist to stdout\n"
        "  python -m storage.query --text 'calm piano with rain'            # by description (--model clap)\n"
        "  python -m storage.query --text 'a choir comes in' --passages     # the moments that fit the words\n"
        "  python -m storage.query 42 --more vocals --less drums            # like 42, steered by words\n"
        "  python -m storage.query 42 --metric mine --listener ana          # by ana's learned similarity",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "track",
        nargs="*",
        metavar="TRACK_ID",
        help="track id, or its path (absolute, or relative to its folder); several: tracks near all of them",
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
        "--tag",
        action="append",
        metavar="STYLE",
        help='keep neighbours tagged with this style ("Electronic---Techno"), genre ("Electronic") or tag '
        '("piano"); repeatable; needs a tagging model (maest, musicnn, clap)',
    )
    p.add_argument("--audio", type=Path, metavar="FILE", help="query with an outside audio file instead of a track")
    p.add_argument("--text", metavar="WORDS", help="describe what you want to hear (a text-capable model: clap)")
    p.add_argument(
        "--passages", action="store_true", help="with --text: the catalog moments that fit the words, one per track"
    )
    p.add_argument("--more", action="append", metavar="WORDS", help="steer a track or file query toward these words")
    p.add_argument("--less", action="append", metavar="WORDS", help="steer a track or file query away from these words")
    p.add_argument(
        "--steer-weight",
        type=float,
        metavar="W",
        help=f"how far --more/--less move the query (default {STEER_WEIGHT}; docs/words.md)",
    )
    p.add_argument(
        "--passage",
        type=passage_range,
        metavar="START:END",
        help="find the catalog passages nearest to this region of the query, in seconds (62:92) or "
        "as m:ss-m:ss (1:02-1:32); one passage per track",
    )
    p.add_argument(
        "--include-self",
        action="store_true",
        help="with --passage: the query's own track and its copies may be results",
    )
    p.add_argument(
        "--metric",
        choices=["cosine", "mine"],
        default="cosine",
        help="cosine: the model's own (default); mine: a listener's learned similarity (`indexer learn`)",
    )
    p.add_argument(
        "--listener", metavar="NAME", help="with --metric mine: whose (default $SOUNDALIKE_LISTENER, or the only one)"
    )
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


def write_m3u(target: str, tracks: list[TrackInfo]) -> None:
    """The playlist to `target` ('-': stdout); a path that cannot be written is bad usage."""
    if target == "-":
        sys.stdout.write(m3u_text(tracks))
        return
    try:
        Path(target).write_text(m3u_text(tracks), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write the playlist {target}: {exc.strerror or exc}") from None


def request_from(args: argparse.Namespace, steering: Steering | None = None) -> SearchRequest:
    """The search request the flags describe (the steering words already embedded)."""
    for cap in (args.max_per_artist, args.max_per_album):
        if cap is not None and cap < 1:
            raise UsageError("--max-per-artist and --max-per-album take a number of at least 1")
    return SearchRequest(
        args.k,
        exclude_same_artist=args.exclude_same_artist,
        exclude_same_album=args.exclude_same_album,
        styles=tuple(args.style or ()),
        caps=Caps(args.max_per_artist, args.max_per_album),
        rerank=args.rerank,
        allow_stale=args.allow_stale,
        include_self=args.include_self,
        steering=steering,
    )


def steering_from(catalog: Catalog, args: argparse.Namespace) -> Steering | None:
    """--more/--less embedded by the catalog's text-capable model (indexer.query_text: torch only here)."""
    if not args.more and not args.less:
        if args.steer_weight is not None:
            raise UsageError("--steer-weight goes with --more or --less")
        return None
    from indexer.query_text import steering

    return steering(catalog, args.more or (), args.less or (), args.steer_weight, args.weights, args.device)


def outside_query(catalog: Catalog, args: argparse.Namespace) -> VectorQuery:
    """The --audio file embedded as a query (indexer.query_audio: the model is imported only here)."""
    if not args.audio.is_file():  # said before any model loads
        raise UsageError(f"no such audio file: {args.audio}")
    from indexer.query_audio import catalog_embedder, embed_file

    return embed_file(args.audio, catalog_embedder(catalog, args.weights, args.device))


def ask(service: SearchService, args: argparse.Namespace) -> tuple[str, SearchResult, list[TrackInfo]]:
    """(how the query reads, the service's answer, the query's tracks) for the parsed flags."""
    catalog = service.catalog
    if args.text is not None:
        from indexer.query_text import text_query

        words = text_query(catalog, args.text, args.weights, args.device)
        request = request_from(args)
        found = service.moments(words, request) if args.passages else service.by_text(words, request)
        return f"“{words.text}”" + (" (moments)" if args.passages else ""), found, []
    request = request_from(args, steering_from(catalog, args))
    if args.audio is not None:
        query = outside_query(catalog, args)
        if args.passage:
            start, end = args.passage
            found = service.by_passage(query, start, end, request)
        else:
            found = service.by_vector(query, request)
        label = str(args.audio)
        if found.in_catalog:
            label += f" (in your catalog as [{found.in_catalog[0].id}] {track_label(found.in_catalog[0])})"
        return label, found, []
    seeds = [catalog.resolve(ref) for ref in args.track]
    label = " + ".join(f"[{t.id}] {track_label(t)}" for t in seeds)
    if args.passage:
        if len(seeds) > 1:
            raise UsageError("--passage takes one track (or --audio), not several seeds")
        start, end = args.passage
        return label, service.by_passage(seeds[0], start, end, request), seeds
    return label, service.by_seeds(seeds, request), seeds


def check_word_flags(args: argparse.Namespace) -> None:
    """The flags that go with words, said before any model loads."""
    if args.passages and args.text is None:
        raise UsageError("--passages goes with --text (for a region of a track: --passage START:END)")
    if args.text is not None and (args.more or args.less):
        raise UsageError("--more and --less steer a track or file query; with --text, put the words in the text")
    if args.text is not None and args.passage:
        raise UsageError("--passage takes a region of a track or file; with --text use --passages")


def run(args: argparse.Namespace) -> int:
    if args.rebuild_index:
        from storage.store import Store

        catalog = Catalog.open(args.data_dir, args.model)
        store = Store(catalog.data_dir)
        with store.lock("index rebuild"):
            info = store.rebuild_index(catalog.model)
        print(f"rebuilt the {info.model} index: {info.count} vectors, {info.kind}, {info.build_seconds:.1f} s")
        return 0
    if sum((bool(args.track), args.audio is not None, args.text is not None)) != 1:
        raise UsageError("give a TRACK_ID (or several), --audio FILE or --text WORDS (one of the three)")
    if args.m3u == "-" and args.json:
        raise UsageError("--m3u - and --json would both write to stdout; give --m3u a file")
    check_word_flags(args)
    catalog = Catalog.open(args.data_dir, args.model)
    if args.text is not None or args.more or args.less:
        catalog = text_catalog(catalog, args.model)
    if args.metric == "mine":
        catalog = catalog.with_metric(args.listener)
    elif args.listener:
        raise UsageError("--listener goes with --metric mine")
    service = SearchService(catalog)
    label, found, seeds = ask(service, args)
    if args.passage:
        label += f", passage {clock(args.passage[0])}–{clock(args.passage[1])}"
    if args.m3u:
        write_m3u(args.m3u, [n.track for n in found.neighbours])
    if args.m3u == "-":
        return 0
    if args.json:
        print(json.dumps(payload(service, args, found, seeds), ensure_ascii=False, indent=2))
    else:
        steered = [step for step in found.steps if step.startswith(("steered", "by "))]
        print(format_table(label + "".join(f" ({step})" for step in steered), found.neighbours))
    return 0


def payload(service: SearchService, args: argparse.Namespace, found: SearchResult, seeds: list[TrackInfo]) -> dict:
    """What --json prints: the query, the model, the re-ranking and the neighbours."""
    query: dict[str, object]
    if args.text is not None:
        query = {"text": args.text, "moments": bool(args.passages)}
    elif seeds:
        query = {"id": seeds[0].id, "path": seeds[0].path}
        if len(seeds) > 1:
            query["seeds"] = [{"id": t.id, "path": t.path} for t in seeds]
    else:
        query = {"audio": str(args.audio)}
        query["in_catalog"] = [{"id": t.id, "path": t.path, "folder": t.folder} for t in found.in_catalog]
    if args.passage:
        query["passage"] = {"start": args.passage[0], "end": args.passage[1]}
    if len(seeds) == 1 and service.catalog.tags_styles():
        query["styles"] = service.catalog.styles([seeds[0].id])[seeds[0].id]
    return {
        "query": query,
        "model": found.model,
        "rerank": args.rerank,
        "metric": metric_json(service.catalog),
        "steps": list(found.steps),
        "neighbours": [neighbour_json(n) for n in found.neighbours],
    }


def metric_json(catalog: Catalog) -> dict[str, object]:
    """The metric the results come from: the plain cosine, or a listener's learned one and what it rests on."""
    info = catalog.metric
    if info is None:
        return {"name": "cosine"}
    return {"name": "mine", **info.__dict__}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return run_cli(lambda: run(args), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
