"""`indexer answers`: the listeners' answers, counted or exported."""

from __future__ import annotations

import argparse
import sys

from indexer.commands.options import examples


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    answered = sub.add_parser(
        "answers",
        parents=[common],
        help="the listeners' answers (odd one out, thumbs) a learned similarity rests on: counts, or export",
        description="Listeners' judgements kept in the data directory: which of three tracks sounds least like "
        "the other two, and thumbs on results. Model-agnostic (track ids and paths); a rebuild keeps them, "
        "`indexer forget` removes those about the forgotten tracks.",
        epilog=examples("indexer answers", "indexer answers --listener ana --json > ana.jsonl"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    answered.add_argument("--listener", metavar="NAME", help="only this listener's answers")
    answered.add_argument("--json", action="store_true", help="every answer as JSON lines (the export)")


def run(args: argparse.Namespace) -> int:
    from storage.listeners.answers import json_lines
    from storage.read.catalog import Catalog

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
