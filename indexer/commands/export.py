"""`indexer export`: a model's vectors with their tracks and tags, as .npz or Parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer.commands.options import examples
from indexer.models.registry import MODELS, example
from storage.core.errors import UsageError


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    export = sub.add_parser(
        "export",
        parents=[common],
        help="write a model's vectors with their tracks and tags to .npz or Parquet",
        description="Every track with the model's vector: id, folder, path, title, artist, album, duration, the "
        "model's tags or styles and the vector as the model produced it (float32, not normalised), in id order.",
        epilog=examples(
            f"indexer export --model {example('offline')} -o {example('offline')}.parquet",
            "indexer export --format npz -o - | python -c 'import numpy, sys; print(numpy.load(sys.stdin.buffer))'",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--model", choices=list(MODELS), metavar="MODEL", help="the model (default: as storage.query)")
    export.add_argument(
        "--format", choices=["npz", "parquet"], help="npz or parquet (default: from the file's suffix, else npz)"
    )
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="the file to write ('-': stdout)")


def run(args: argparse.Namespace) -> int:
    from storage.read.catalog import Catalog
    from storage.read.export import export

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
