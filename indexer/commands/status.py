"""`indexer status`: folders, models, what is indexed, what failed."""

from __future__ import annotations

import argparse

from indexer.commands.options import examples
from indexer.models.registry import MODELS, example


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    status = sub.add_parser(
        "status",
        parents=[common],
        help="folders, models, what is indexed, what failed",
        description="The data directory's folders, and per model: tracks indexed, failed (with reasons), "
        "pending; the index and whether it is up to date.",
        epilog=examples("indexer status", f"indexer status --model {example('tags')} --data-dir /srv/soundalike"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="only this model (default: all)")


def run(args: argparse.Namespace) -> int:
    from indexer.commands.summary import format_status
    from storage.read.catalog import Catalog

    print(format_status(Catalog.open(args.data_dir), args.model))
    return 0
