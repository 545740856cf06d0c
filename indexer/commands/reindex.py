"""`indexer reindex MODEL`: rebuild a model's indexes in full."""

from __future__ import annotations

import argparse

from indexer.commands.options import examples
from indexer.models.registry import DEFAULT_MODEL, MODELS, example


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    reindex = sub.add_parser(
        "reindex",
        parents=[common],
        help="rebuild a model's indexes in full (retrain, refit the map)",
        description="Rebuild MODEL's track index (the IVF retrained, the map refitted, hub statistics and "
        "closeness recomputed) and its segment index from the stored vectors, and swap them in. `indexer build` "
        "updates them by what changed and rebuilds in full only once the catalog has drifted past the bounds "
        "in docs/store.md; this rebuilds now. Nothing is re-embedded.",
        epilog=examples(
            f"indexer reindex {DEFAULT_MODEL}", f"indexer reindex {example('offline')} --data-dir /srv/soundalike"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    reindex.add_argument("model", choices=list(MODELS), metavar="MODEL", help="the model whose indexes to rebuild")


def run(args: argparse.Namespace) -> int:
    from storage.write.store import Store

    store = Store(args.data_dir)
    with store.lock("reindex"):
        info = store.rebuild_index(args.model)
    print(f"{args.model}: {info.count} track(s) indexed in full ({info.kind}, {info.build_seconds:.1f} s)")
    return 0
