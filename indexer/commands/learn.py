"""`indexer learn`: fit each listener's own similarity from their answers."""

from __future__ import annotations

import argparse

from indexer.commands.options import examples
from indexer.models.registry import MODELS, example
from storage.core.errors import UsageError


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    learn = sub.add_parser(
        "learn",
        parents=[common],
        help='fit each listener\'s own similarity ("my ears") from their answers, per model',
        description="Fit a listener's metric for each model from their answers (odd one out, thumbs): the model's "
        "space stretched along the directions the answers say matter, held to the plain cosine unless it beats it "
        "on answers held out. Keeps it as a new version, says the held-out agreement before and after, and makes "
        "the index searched with it (`--metric mine`).",
        epilog=examples("indexer learn", f"indexer learn --listener ana --model {example('offline')}"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    learn.add_argument("--listener", metavar="NAME", help="only this listener (default: everyone who answered)")
    learn.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="only this model (default: all)")
    learn.add_argument("--json", action="store_true", help="print JSON lines instead of sentences")


def run(args: argparse.Namespace) -> int:
    import json

    from storage.read.catalog import Catalog
    from storage.write.store import Store

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
