"""`indexer duplicates`: files of the same recording, to clean up."""

from __future__ import annotations

import argparse

from indexer.commands.options import examples


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    duplicates = sub.add_parser(
        "duplicates",
        parents=[common],
        help="files of the same recording (by acoustic fingerprint), to clean up",
        description="Recordings held by more than one file: copies (another codec, gain or trim of one master) "
        "and other versions (the same performance on another master). Found by Chromaprint fingerprints at build.",
        epilog=examples("indexer duplicates", "indexer duplicates --json > duplicates.jsonl"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    duplicates.add_argument("--json", action="store_true", help="print JSON lines instead of a table")


def run(args: argparse.Namespace) -> int:
    import json

    from app.display import duration_text, track_label
    from storage.read.catalog import Catalog

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
