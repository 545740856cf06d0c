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

from app.display import format_table, m3u_text, neighbour_json, track_label
from indexer.commands.console import run_cli
from indexer.models.registry import DEFAULT_MODEL, example, tagging_models
from storage import __version__
from storage.core.errors import UsageError
from storage.core.passages import clock
from storage.core.tracks import TrackInfo
from storage.read.catalog import Catalog
from storage.search.caps import Caps
from storage.search.question import Names, Question
from storage.search.request import STEER_WEIGHT, SearchRequest, SearchResult
from storage.search.service import SearchService

WORDS = example("words")


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
        f"  python -m storage.query --text 'calm piano with rain'            # by description (--model {WORDS})\n"
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
        f'("piano"); repeatable; needs a tagging model ({", ".join(tagging_models())})',
    )
    p.add_argument("--audio", type=Path, metavar="FILE", help="query with an outside audio file instead of a track")
    p.add_argument("--text", metavar="WORDS", help=f"describe what you want to hear (a text-capable model: {WORDS})")
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
    p.add_argument(
        "--model", help=f"embedding model (default: {DEFAULT_MODEL} if it has vectors, else the first model by name)"
    )
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


NAMES = Names(
    seeds="a TRACK_ID (or several)",
    file="--audio FILE",
    text="--text",
    described="--text WORDS",
    passage="--passage",
    moments="--passages",
    more="--more",
    less="--less",
    steer_weight="--steer-weight",
    listener="--listener",
    mine="--metric mine",
)


def question_from(args: argparse.Namespace) -> Question:
    """The question the flags ask (checked as every front end's: storage.search.question)."""
    return Question(
        seeds=tuple(args.track),
        file=args.audio,
        text=args.text,
        passage=args.passage,
        moments=args.passages,
        more=tuple(args.more or ()),
        less=tuple(args.less or ()),
        steer_weight=args.steer_weight,
        model=args.model,
        metric=args.metric,
        listener=args.listener,
        names=NAMES,
    )


def request_from(args: argparse.Namespace) -> SearchRequest:
    """The search request the flags describe."""
    return SearchRequest(
        args.k,
        exclude_same_artist=args.exclude_same_artist,
        exclude_same_album=args.exclude_same_album,
        styles=tuple(args.style or ()),
        caps=Caps(args.max_per_artist, args.max_per_album),
        rerank=args.rerank,
        allow_stale=args.allow_stale,
        include_self=args.include_self,
    )


def label_of(question: Question, found: SearchResult) -> str:
    """How the query reads in the table's title."""
    if question.text is not None:
        return f"“{question.text}”" + (" (moments)" if question.moments else "")
    if question.file is not None:
        label = str(question.file)
        if found.in_catalog:
            label += f" (in your catalog as [{found.in_catalog[0].id}] {track_label(found.in_catalog[0])})"
    else:
        label = " + ".join(f"[{t.id}] {track_label(t)}" for t in found.seeds)
    if question.passage:
        label += f", passage {clock(question.passage[0])}–{clock(question.passage[1])}"
    return label


def run(args: argparse.Namespace) -> int:
    if args.rebuild_index:
        from storage.write.store import Store

        catalog = Catalog.open(args.data_dir, args.model)
        store = Store(catalog.data_dir)
        with store.lock("index rebuild"):
            info = store.rebuild_index(catalog.model)
        print(f"rebuilt the {info.model} index: {info.count} vectors, {info.kind}, {info.build_seconds:.1f} s")
        return 0
    question = question_from(args)
    if args.m3u == "-" and args.json:
        raise UsageError("--m3u - and --json would both write to stdout; give --m3u a file")
    request = request_from(args)
    from indexer.readers import Reader  # imports no model until one is needed

    found = SearchService(Catalog.open(args.data_dir, args.model)).ask(
        question, request, Reader(args.weights, args.device)
    )
    if args.m3u:
        write_m3u(args.m3u, [n.track for n in found.neighbours])
    if args.m3u == "-":
        return 0
    if args.json:
        print(json.dumps(payload(question, request, found), ensure_ascii=False, indent=2))
    else:
        steered = [step for step in found.steps if step.startswith(("steered", "by "))]
        print(format_table(label_of(question, found) + "".join(f" ({step})" for step in steered), found.neighbours))
    return 0


def payload(question: Question, request: SearchRequest, found: SearchResult) -> dict:
    """What --json prints: the query, the model, the re-ranking and the neighbours."""
    assert found.catalog is not None
    seeds = found.seeds
    query: dict[str, object]
    if question.text is not None:
        query = {"text": question.text, "moments": question.moments}
    elif seeds:
        query = {"id": seeds[0].id, "path": seeds[0].path}
        if len(seeds) > 1:
            query["seeds"] = [{"id": t.id, "path": t.path} for t in seeds]
    else:
        query = {"audio": str(question.file)}
        query["in_catalog"] = [{"id": t.id, "path": t.path, "folder": t.folder} for t in found.in_catalog]
    if question.passage:
        query["passage"] = {"start": question.passage[0], "end": question.passage[1]}
    if len(seeds) == 1 and found.catalog.tags_styles():
        query["styles"] = found.catalog.styles([seeds[0].id])[seeds[0].id]
    return {
        "query": query,
        "model": found.model,
        "rerank": request.rerank,
        "metric": metric_json(found.catalog),
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
