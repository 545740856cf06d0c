"""`indexer forget FOLDER`: remove a catalog folder and its tracks (asks first)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer.commands.options import examples


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    forget = sub.add_parser(
        "forget",
        parents=[common],
        help="remove a catalog folder and its tracks (asks first)",
        description="Remove a catalog folder's tracks, with their vectors and timelines, from the data directory "
        "(never the audio files), then update the indexes that had them.",
        epilog=examples("indexer forget /mnt/old-drive/music", "indexer forget ~/Music/podcasts --yes"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    forget.add_argument("folder", type=Path, metavar="FOLDER", help="the folder as it was indexed")
    forget.add_argument("--yes", "-y", action="store_true", help="do not ask (for scripts)")


def run(args: argparse.Namespace) -> int:
    from storage.core.errors import FolderError
    from storage.write.store import Store

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
