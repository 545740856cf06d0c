"""`indexer mpd`: MPD radio, the queue topped up with tracks like what has been playing."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from indexer.commands.options import add_metric, examples
from indexer.models.registry import MODELS
from storage.core.errors import UsageError


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    mpd = sub.add_parser(
        "mpd",
        parents=[common],
        help="MPD radio: keep an MPD server's queue topped up with tracks like what has been playing",
        description="Follows an MPD server and, whenever fewer than --keep tracks remain after the current one, "
        "appends the next tracks of a radio that follows what has been playing (no repeats, the artist window, "
        "caps). Only appends: never clears, removes or moves what is queued. Runs until stopped (Ctrl-C), "
        "reconnecting when MPD restarts. --seed or --path queue once and exit.",
        epilog=examples(
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
    add_metric(mpd, "the radio and paths by this listener's learned metric")
    mpd.add_argument("--quiet", "-q", action="store_true", help="only warnings and errors")


def run(args: argparse.Namespace) -> int:
    from app.mpd_radio import MpdAddress, MpdRadio, TrackMap
    from storage.read.catalog import Catalog
    from storage.search.caps import Caps
    from storage.search.question import searched_catalog

    if args.count < 1:
        raise UsageError("--count must be at least 1")
    catalog = Catalog.open(args.data_dir, args.model)
    catalog = searched_catalog(catalog, metric=args.metric, listener=args.listener if args.metric == "mine" else None)
    caps = Caps(args.max_per_artist, args.max_per_album)
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
