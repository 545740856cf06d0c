"""The `indexer` command: `build [FOLDER...]`, `status`, `tracks`, `duplicates`, `answers`, `learn`, `evaluate`,
`export`, `serve`, `mpd`, `forget FOLDER`. Thin over the libraries."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from indexer.models.registry import MODELS, all_options
from storage import __version__
from storage.console import EXIT_INTERRUPTED, run_cli
from storage.errors import UsageError
from storage.paths import DEFAULT_MODEL


def _model_help() -> str:
    return "embedding model to build (default: mule): " + "; ".join(f"{s.name}: {s.summary}" for s in MODELS.values())


def _add_model_options(build: argparse.ArgumentParser) -> None:
    """One flag per model option of the registry, saying which models take it."""
    group = build.add_argument_group("model options (remembered per model: a later plain build reuses them)")
    for name, (option, defaults) in all_options().items():
        shown = ", ".join(f"{model} {default}" for model, default in defaults.items())
        group.add_argument(
            "--" + name.replace("_", "-"),
            dest=f"opt_{name}",
            type=option.type,
            metavar=name.upper(),
            help=f"{option.help} (default: {shown})",
        )


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default $SOUNDALIKE_DATA or ~/.local/share/soundalike)")
    common.add_argument("--verbose", "-v", action="store_true", help="debug logging and tracebacks")

    parser = argparse.ArgumentParser(
        prog="indexer",
        description="Index music catalog folders for soundalike.",
        epilog=_examples(
            "indexer build ~/Music",
            "indexer status",
            "indexer tracks miles blue",
            "indexer COMMAND --help",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"soundalike {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser(
        "build",
        parents=[common],
        help="embed every audio file of one or more folders (incremental, resumable)",
        description="Embed every audio file of the folders given (none: every folder this data directory has). "
        "Other folders and other models are never touched.",
        epilog=_examples(
            "indexer build ~/Music                  # index a folder (run again to update it)",
            "indexer build                          # update every folder already indexed",
            "indexer build ~/Music --model maest    # another model, beside MULE",
            "indexer build ~/Music --weights ./mule-weights --device cuda",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("catalog", type=Path, nargs="*", metavar="CATALOG_DIR", help="folders of audio files")
    build.add_argument("--model", default=DEFAULT_MODEL, choices=list(MODELS), metavar="MODEL", help=_model_help())
    build.add_argument(
        "--weights",
        help="folder or Hub repo id[@revision] (default $SOUNDALIKE_WEIGHTS, else what this model's last build "
        "used, else the model's repo)",
    )
    _add_model_options(build)
    build.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    build.add_argument(
        "--precision",
        default="fp32",
        choices=["fp32", "bf16", "fp16"],
        help="fp32 (default); bf16 on CUDA or CPUs with AVX512-BF16/AMX; fp16 on CUDA",
    )
    build.add_argument("--batch-size", type=int, help="slices per model batch (default per model: docs/models.md)")
    build.add_argument("--workers", type=int, help="decoder processes (default: cores - 1, at most 4)")
    build.add_argument("--timeout", type=float, default=300.0, help="seconds to decode one file (default 300)")
    build.add_argument(
        "--engine",
        default="local",
        choices=["local", "ray"],
        help="local (default): this process and its decoder workers; ray: decode and embed on a Ray cluster "
        "(pip install -e '.[ray]'); on PostgreSQL its workers commit their tracks, on SQLite this process",
    )
    build.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="Ray cluster (host:port, or auto for the one this machine joined with `ray start`; "
        "default: start a local one for this build)",
    )
    build.add_argument("--rebuild", action="store_true", help="re-embed everything with this model (other weights)")
    build.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only errors and the summary")
    status = sub.add_parser(
        "status",
        parents=[common],
        help="folders, models, what is indexed, what failed",
        description="The data directory's folders, and per model: tracks indexed, failed (with reasons), "
        "pending; the index and whether it is up to date.",
        epilog=_examples("indexer status", "indexer status --model maest --data-dir /srv/soundalike"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="only this model (default: all)")
    tracks = sub.add_parser(
        "tracks",
        parents=[common],
        help="list or search the tracks and their ids (the page's search box)",
        description="Tracks whose title, artist, album or path hold every word of TEXT (all tracks without TEXT), "
        "with the ids that `python -m storage.query` takes.",
        epilog=_examples("indexer tracks miles blue", "indexer tracks --json -n 1000 > tracks.jsonl"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tracks.add_argument("text", nargs="*", metavar="TEXT", help="words to look for (all of them, word prefixes)")
    tracks.add_argument(
        "--model",
        choices=list(MODELS),
        metavar="MODEL",
        help="tracks with this model's vector (default: mule if it has vectors, else the first model by name)",
    )
    tracks.add_argument("--limit", "-n", type=int, default=50, help="at most this many (default 50)")
    tracks.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    duplicates = sub.add_parser(
        "duplicates",
        parents=[common],
        help="files of the same recording (by acoustic fingerprint), to clean up",
        description="Recordings held by more than one file: copies (another codec, gain or trim of one master) "
        "and other versions (the same performance on another master). Found by Chromaprint fingerprints at build.",
        epilog=_examples("indexer duplicates", "indexer duplicates --json > duplicates.jsonl"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    duplicates.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    answered = sub.add_parser(
        "answers",
        parents=[common],
        help="the listeners' answers (odd one out, thumbs) a learned similarity rests on: counts, or export",
        description="Listeners' judgements kept in the data directory: which of three tracks sounds least like "
        "the other two, and thumbs on results. Model-agnostic (track ids and paths); a rebuild keeps them, "
        "`indexer forget` removes those about the forgotten tracks.",
        epilog=_examples("indexer answers", "indexer answers --listener ana --json > ana.jsonl"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    answered.add_argument("--listener", metavar="NAME", help="only this listener's answers")
    answered.add_argument("--json", action="store_true", help="every answer as JSON lines (the export)")
    learn = sub.add_parser(
        "learn",
        parents=[common],
        help='fit each listener\'s own similarity ("my ears") from their answers, per model',
        description="Fit a listener's metric for each model from their answers (odd one out, thumbs): the model's "
        "space stretched along the directions the answers say matter, held to the plain cosine unless it beats it "
        "on answers held out. Keeps it as a new version, says the held-out agreement before and after, and makes "
        "the index searched with it (`--metric mine`).",
        epilog=_examples("indexer learn", "indexer learn --listener ana --model musicnn"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    learn.add_argument("--listener", metavar="NAME", help="only this listener (default: everyone who answered)")
    learn.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="only this model (default: all)")
    learn.add_argument("--json", action="store_true", help="print JSON lines instead of sentences")
    evaluate = sub.add_parser(
        "evaluate",
        parents=[common],
        help="how well each model finds related tracks in this catalog, by its own labels",
        description="Precision@k, mean average precision and hit rate at k of every model in the data directory "
        "(with and without --rerank csls), by labels the catalog already has: a query's k nearest tracks, its "
        "own album left out, are relevant when they share its label.",
        epilog=_examples(
            "indexer evaluate --label folder          # the parent folder name (genre folders, playlists)",
            "indexer evaluate --label genre --k 20 --json",
            "indexer evaluate --label style --model mule   # MAEST's top style as the label",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument(
        "--label",
        default="folder",
        choices=["folder", "genre", "artist", "album", "style"],
        help="where labels come from: the parent folder, a tag, or MAEST's top style (default folder)",
    )
    evaluate.add_argument("--k", type=int, default=10, help="results per query (default 10)")
    evaluate.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="only this model (default: all)")
    evaluate.add_argument(
        "--queries", type=int, default=2000, help="at most this many queries per model, a seeded sample (default 2000)"
    )
    _add_metric(evaluate, "besides the plain cosine, score each model with this listener's learned metric")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    export = sub.add_parser(
        "export",
        parents=[common],
        help="write a model's vectors with their tracks and tags to .npz or Parquet",
        description="Every track with the model's vector: id, folder, path, title, artist, album, duration, the "
        "model's tags or styles and the vector as the model produced it (float32, not normalised), in id order.",
        epilog=_examples(
            "indexer export --model musicnn -o musicnn.parquet",
            "indexer export --format npz -o - | python -c 'import numpy, sys; print(numpy.load(sys.stdin.buffer))'",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="the model (default: as storage.query)")
    export.add_argument(
        "--format", choices=["npz", "parquet"], help="npz or parquet (default: from the file's suffix, else npz)"
    )
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write ('-': stdout)")
    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the HTTP API and OpenSubsonic (no page) from one or several worker processes",
        description="The JSON API (/api), OpenSubsonic (/rest), the audio and cover routes and /health, without "
        "the page, answered by --workers processes that share the port and the memory-mapped indexes. "
        "The page (streamlit run app/server.py) can run beside it on the same data directory.",
        epilog=_examples("indexer serve --workers 2", "indexer serve --host 0.0.0.0 --port 8080 --workers 4"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1; about one per core)")
    _add_mpd(sub, common)
    forget = sub.add_parser(
        "forget",
        parents=[common],
        help="remove a catalog folder and its tracks (asks first)",
        description="Remove a catalog folder's tracks, with their vectors and timelines, from the data directory "
        "(never the audio files), then update the indexes that had them.",
        epilog=_examples("indexer forget /mnt/old-drive/music", "indexer forget ~/Music/podcasts --yes"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    forget.add_argument("folder", type=Path, metavar="FOLDER", help="the folder as it was indexed")
    forget.add_argument("--yes", "-y", action="store_true", help="do not ask (for scripts)")
    reindex = sub.add_parser(
        "reindex",
        parents=[common],
        help="rebuild a model's indexes in full (retrain, refit the map)",
        description="Rebuild MODEL's track index (the IVF retrained, the map refitted, hub statistics and "
        "closeness recomputed) and its segment index from the stored vectors, and swap them in. `indexer build` "
        "updates them by what changed and rebuilds in full only once the catalog has drifted past the bounds "
        "in docs/store.md; this rebuilds now. Nothing is re-embedded.",
        epilog=_examples("indexer reindex mule", "indexer reindex musicnn --data-dir /srv/soundalike"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reindex.add_argument("model", choices=list(MODELS), metavar="MODEL", help="the model whose indexes to rebuild")
    return parser


def _add_mpd(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    mpd = sub.add_parser(
        "mpd",
        parents=[common],
        help="MPD radio: keep an MPD server's queue topped up with tracks like what has been playing",
        description="Follows an MPD server and, whenever fewer than --keep tracks remain after the current one, "
        "appends the next tracks of a radio that follows what has been playing (no repeats, the artist window, "
        "caps). Only appends: never clears, removes or moves what is queued. Runs until stopped (Ctrl-C), "
        "reconnecting when MPD restarts. --seed or --path queue once and exit.",
        epilog=_examples(
            "indexer mpd",
            "MPD_HOST=secret@nas indexer mpd --music-dir /srv/music --keep 10",
            "indexer mpd --seed 42 --count 20",
            "indexer mpd --path 42 1337 --count 15",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mpd.add_argument("--host", help="MPD's host, [password@]host, or a socket path (default $MPD_HOST, localhost)")
    mpd.add_argument("--port", type=int, help="MPD's port (default $MPD_PORT, 6600)")
    mpd.add_argument("--password", help="MPD's password (default: from $MPD_HOST's password@)")
    mpd.add_argument(
        "--music-dir",
        type=Path,
        help="MPD's music_directory as this machine sees it (default: learnt from the first file both know)",
    )
    mpd.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="the model (default: as storage.query)")
    mpd.add_argument("--keep", type=int, default=5, help="tracks to keep queued after the current one (default 5)")
    mpd.add_argument("--artist-window", type=int, default=5, help="no artist again within N tracks (default 5)")
    mpd.add_argument("--variety", type=float, default=0.3, help="0: always the nearest; up to 1 (default 0.3)")
    mpd.add_argument("--max-per-artist", type=int, help="at most N candidates per artist in each pick")
    mpd.add_argument("--max-per-album", type=int, help="at most N candidates per album in each pick")
    once = mpd.add_mutually_exclusive_group()
    once.add_argument("--seed", metavar="TRACK", help="queue a radio from TRACK (id or path) once, then exit")
    once.add_argument("--path", nargs=2, metavar=("FROM", "TO"), help="queue a song path once, then exit")
    mpd.add_argument("--count", type=int, default=20, help="tracks --seed or --path queue (default 20)")
    _add_metric(mpd, "the radio and paths by this listener's learned metric")
    mpd.add_argument("--quiet", "-q", action="store_true", help="only warnings and errors")


def _add_metric(parser: argparse.ArgumentParser, mine: str) -> None:
    parser.add_argument(
        "--metric",
        choices=["cosine", "mine"],
        default="cosine",
        help=f"cosine: the model's own (default); mine: {mine} (`indexer learn`)",
    )
    parser.add_argument(
        "--listener", metavar="NAME", help="whose learned metric (default $SOUNDALIKE_LISTENER, or the only one)"
    )


def cmd_build(args: argparse.Namespace) -> int:
    from indexer.build import BuildOptions, build_catalog
    from indexer.summary import format_report

    given = {k.removeprefix("opt_"): str(v) for k, v in vars(args).items() if k.startswith("opt_") and v is not None}
    options = BuildOptions(
        model=args.model,
        weights=args.weights,
        model_options=given,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        timeout=args.timeout,
        rebuild=args.rebuild,
        progress=not args.quiet,
        engine=args.engine,
        ray_address=args.ray_address,
    )
    if args.ray_address and args.engine != "ray":
        raise UsageError("--ray-address needs --engine ray")
    if args.workers:
        options.workers = args.workers
    report = build_catalog(args.catalog, Path(args.data_dir) if args.data_dir else None, options)
    print(format_report(report), file=sys.stderr if report.interrupted else sys.stdout)
    return EXIT_INTERRUPTED if report.interrupted else 0


def cmd_status(args: argparse.Namespace) -> int:
    from indexer.summary import format_status
    from storage.catalog import Catalog

    print(format_status(Catalog.open(args.data_dir), args.model))
    return 0


def cmd_tracks(args: argparse.Namespace) -> int:
    import json

    from storage.catalog import Catalog
    from storage.display import duration_text, track_label

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


def cmd_duplicates(args: argparse.Namespace) -> int:
    import json

    from storage.catalog import Catalog
    from storage.display import duration_text, track_label

    entries = Catalog.open(args.data_dir).duplicates()
    for number, entry in enumerate(entries, start=1):
        if args.json:
            print(json.dumps(entry.as_dict(), ensure_ascii=False))
            continue
        kind = "copies and other versions" if entry.versions else "copies"
        print(f"{number}. {track_label(entry.tracks[0])}: {len(entry.tracks)} files, {kind}")
        masters = {m: i for i, m in enumerate(dict.fromkeys(entry.masters), start=1)}
        for track, master in zip(entry.tracks, entry.masters, strict=True):
            shown = f"\tmaster {masters[master]}" if entry.versions else ""
            print(f"   {track.id}\t{duration_text(track.duration)}\t{track.file}{shown}")
    if not args.json:
        print(f"{len(entries)} recording(s) held by more than one file" if entries else "no duplicates found")
        catalog = Catalog.open(args.data_dir)
        for model in catalog.models():  # what each model's index allows beyond fingerprints
            print(catalog.for_model(model).version_rule().describe(model))
    return 0


def cmd_answers(args: argparse.Namespace) -> int:
    from storage.answers import json_lines
    from storage.catalog import Catalog

    catalog = Catalog.open(args.data_dir)
    if args.json:
        found = catalog.answers(args.listener)
        paths = {i: t.path for i, t in catalog.tracks(sorted({i for a in found for i in a.tracks})).items()}
        sys.stdout.write(json_lines(found, paths))
        return 0
    counts = catalog.listeners()
    if args.listener is not None:
        counts = [(name, n) for name, n in counts if name == args.listener]
    for name, count in counts:
        print(f"{name}\t{count} answer(s)")
    if not counts:
        print('no answers yet: the page\'s "Teach it your ears" asks for them')
    return 0


def cmd_learn(args: argparse.Namespace) -> int:
    import json

    from storage.catalog import Catalog
    from storage.store import Store

    catalog = Catalog.open(args.data_dir, args.model)
    listeners = [args.listener] if args.listener else [name for name, _ in catalog.listeners()]
    if not listeners:
        raise UsageError('no answers yet: the page\'s "Teach it your ears" asks for them')
    store = Store(catalog.data_dir)
    with store.lock("learn"):
        for model in [args.model] if args.model else catalog.models():
            for listener in listeners:
                metric, index = store.learn(model, listener)
                if args.json:
                    print(json.dumps({**metric.info.__dict__, "index_seconds": index.build_seconds if index else None}))
                    continue
                print(metric.info.describe())
                if index is not None:
                    print(f"  index of {index.count} track(s) by it in {index.build_seconds:.1f} s (`--metric mine`)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from storage.catalog import Catalog
    from storage.evaluate import album_keys, catalog_labels, evaluate_model

    if args.k < 1 or args.queries < 1:
        raise UsageError("--k and --queries take a number of at least 1")
    first = Catalog.open(args.data_dir, args.model)
    labels, albums = catalog_labels(first, args.label), album_keys(first)
    bars: list = []

    def progress_for(name: str) -> Callable[[int], Callable[[], None]]:
        def start(total: int) -> Callable[[], None]:
            bar = tqdm(total=total, desc=name, unit="query", disable=args.quiet or args.json, leave=False)
            bars.append(bar)
            return lambda: None if bar.update(1) else None

        return start

    scores, missing = [], []
    for model in [args.model] if args.model else first.models():
        catalog = first.for_model(model)
        for rerank in [None, "csls"] if catalog.index().hubs is not None else [None]:
            name = model + (" csls" if rerank else "")
            scores.append(evaluate_model(catalog, labels, albums, args.k, rerank, args.queries, progress_for(name)))
        if args.metric == "mine":
            try:
                mine = catalog.with_metric(args.listener)
            except UsageError as exc:  # this model has none: the others may
                missing.append(exc)
                continue
            scores.append(
                evaluate_model(mine, labels, albums, args.k, None, args.queries, progress_for(model + " mine"))
            )
    if missing and not any(s.metric == "mine" for s in scores):
        raise missing[0]
    for bar in bars:
        bar.close()
    if args.json:
        print(json.dumps({"label": args.label, "k": args.k, "results": [s.as_dict() for s in scores]}, indent=2))
        return 0
    print(f"label: {args.label}, k={args.k}, each query's own album left out")
    print(f"{'model':14} {'metric':7} {'rerank':7} {'queries':>8} {'P@k':>7} {'MAP':>7} {'hit rate':>8}")
    for s in scores:
        print(
            f"{s.model:14} {s.metric:7} {s.rerank or '-':7} {s.queries:8d} "
            f"{s.precision_at_k:7.3f} {s.map:7.3f} {s.hit_rate:8.3f}"
        )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from storage.catalog import Catalog
    from storage.export import export

    fmt = args.format or ("parquet" if args.output.endswith(".parquet") else "npz")
    catalog = Catalog.open(args.data_dir, args.model)
    if args.output == "-":
        count = export(catalog, fmt, sys.stdout.buffer)
        sys.stdout.buffer.flush()
    else:
        target = Path(args.output)
        partial = target.with_name(f".{target.name}.partial")
        try:
            with partial.open("wb") as out:
                count = export(catalog, fmt, out)
            partial.replace(target)  # a reader never finds half an export
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
        finally:
            partial.unlink(missing_ok=True)
    print(f"exported {count} {catalog.model} vector(s) as {fmt} to {args.output}", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from app.service import serve
    from storage.paths import resolve_data_dir

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    data = resolve_data_dir(args.data_dir)
    if not data.exists():
        raise UsageError(f"no data directory at {data}; build one with `indexer build CATALOG_DIR`")
    print(f"serving {data} on http://{args.host}:{args.port} with {args.workers} worker(s) (Ctrl-C stops)")
    sys.stdout.flush()
    serve(args.host, args.port, args.workers, data, "debug" if args.verbose else "warning")
    return 0


def cmd_mpd(args: argparse.Namespace) -> int:
    from app.mpd_radio import MpdAddress, MpdRadio, TrackMap
    from storage.caps import Caps
    from storage.catalog import Catalog

    if args.count < 1:
        raise UsageError("--count must be at least 1")
    catalog = Catalog.open(args.data_dir, args.model)
    if args.metric == "mine":
        catalog = catalog.with_metric(args.listener)
    caps = Caps(args.max_per_artist or None, args.max_per_album or None)
    address = MpdAddress.resolve(args.host, args.port, args.password)
    radio = MpdRadio(
        catalog, address, TrackMap(catalog, args.music_dir), args.keep, args.artist_window, args.variety, caps
    )
    if args.seed or args.path:
        if args.seed:
            queued = radio.queue_radio(catalog.resolve(args.seed), args.count)
        else:
            queued = radio.queue_path(catalog.resolve(args.path[0]), catalog.resolve(args.path[1]), args.count)
        print(f"queued {len(queued)} track(s) on MPD at {address}")
        return 0
    logging.getLogger("app.mpd_radio").setLevel(logging.WARNING if args.quiet else logging.INFO)
    logging.getLogger("app.mpd_radio").info("following MPD at %s (Ctrl-C stops)", address)
    radio.run()
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    from storage.errors import FolderError
    from storage.store import Store

    store = Store(args.data_dir)
    folder = store.find_folder(args.folder)
    if folder is None:
        known = ", ".join(str(f.path) for f in store.folders()) or "none"
        raise FolderError(f"{args.folder} is not a catalog folder of {store.data_dir} (folders: {known})")
    question = f"forget {folder.path}: {folder.tracks} track(s) with their vectors in {store.data_dir}?"
    if not args.yes:
        if not sys.stdin.isatty():
            raise FolderError(f"{question} Not asked (no terminal): pass --yes to confirm")
        if input(question + " [y/N] ").strip().lower() not in {"y", "yes"}:
            print("nothing forgotten")
            return 0
    with store.lock("forget"):
        gone = store.forget_folder(folder)
    models = f"; {', '.join(gone.models)} index(es) updated" if gone.models else ""
    said = f"; {gone.answers} listener answer(s) about them" if gone.answers else ""
    print(f"forgot {gone.folder}: {gone.tracks} track(s){said}{models}")
    return 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from storage.store import Store

    store = Store(args.data_dir)
    with store.lock("reindex"):
        info = store.rebuild_index(args.model)
    print(f"{args.model}: {info.count} track(s) indexed in full ({info.kind}, {info.build_seconds:.1f} s)")
    return 0


COMMANDS = {
    "build": cmd_build,
    "status": cmd_status,
    "tracks": cmd_tracks,
    "duplicates": cmd_duplicates,
    "answers": cmd_answers,
    "learn": cmd_learn,
    "evaluate": cmd_evaluate,
    "export": cmd_export,
    "serve": cmd_serve,
    "mpd": cmd_mpd,
    "forget": cmd_forget,
    "reindex": cmd_reindex,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    level = logging.DEBUG if args.verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(lambda: COMMANDS[args.command](args), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
