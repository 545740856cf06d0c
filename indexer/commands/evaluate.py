"""`indexer evaluate`: how well each model finds related tracks in this catalog, by its own labels."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from indexer.commands.options import add_metric, examples
from indexer.models.registry import DEFAULT_MODEL, MODELS, tagging_models
from storage.core.errors import UsageError


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    evaluate = sub.add_parser(
        "evaluate",
        parents=[common],
        help="how well each model finds related tracks in this catalog, by its own labels",
        description="Precision@k, mean average precision and hit rate at k of every model in the data directory "
        "(with and without --rerank csls), by labels the catalog already has: a query's k nearest tracks, its "
        "own album left out, are relevant when they share its label.",
        epilog=examples(
            "indexer evaluate --label folder          # the parent folder name (genre folders, playlists)",
            "indexer evaluate --label genre --k 20 --json",
            f"indexer evaluate --label style --model {DEFAULT_MODEL}   # a tagging model's top label as the label",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument(
        "--label",
        default="folder",
        choices=["folder", "genre", "artist", "album", "style"],
        help="where labels come from: the parent folder, a tag, or a tagging model's top label "
        f"({', '.join(tagging_models())}, the first built) (default folder)",
    )
    evaluate.add_argument("--k", type=int, default=10, help="results per query (default 10)")
    evaluate.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="only this model (default: all)")
    evaluate.add_argument(
        "--queries", type=int, default=2000, help="at most this many queries per model, a seeded sample (default 2000)"
    )
    add_metric(evaluate, "besides the plain cosine, score each model with this listener's learned metric")
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import json

    from tqdm import tqdm

    from storage.read.catalog import Catalog
    from storage.search.evaluation import album_keys, catalog_labels, evaluate_model
    from storage.search.question import searched_catalog

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
                mine = searched_catalog(catalog, metric="mine", listener=args.listener)
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
