"""The `indexer` command: `indexer build CATALOG_DIR`, `indexer status`."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from indexer.errors import IndexerError
from storage.errors import StorageError

EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default $SOUNDALIKE_DATA or ~/.local/share/soundalike)")
    common.add_argument(
        "--model",
        default="mule",
        help="embedding model: mule (default), maest, mert-95m, mert-330m, musicfm-msd, musicfm-fma",
    )
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only errors and the summary")
    common.add_argument("--verbose", "-v", action="store_true", help="debug logging and tracebacks")

    parser = argparse.ArgumentParser(prog="indexer", description="Index a music catalog for soundalike.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", parents=[common], help="embed every audio file of a folder (incremental)")
    build.add_argument("catalog", type=Path, metavar="CATALOG_DIR")
    build.add_argument(
        "--weights", help="folder or Hub repo id[@revision] (default $SOUNDALIKE_WEIGHTS, else the model's repo)"
    )
    build.add_argument("--layer", help="MERT/MusicFM: layer 1..N or 'mean' (default 7; 14 for mert-330m)")
    build.add_argument("--variant", help="MAEST variant (default 30s-pw-129e)")
    build.add_argument("--styles-top", type=int, help="MAEST: styles kept per track (default 5)")
    build.add_argument("--styles-min", type=float, help="MAEST: least probability of a kept style (default 0.1)")
    build.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    build.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"], help="bf16/fp16 need CUDA")
    build.add_argument("--batch-size", type=int, help="slices per model batch (default 32 CPU, 256 GPU)")
    build.add_argument("--workers", type=int, help="decoder processes (default: cores - 1, at most 4)")
    build.add_argument("--timeout", type=float, default=300.0, help="seconds to decode one file (default 300)")
    build.add_argument("--rebuild", action="store_true", help="re-embed everything (e.g. after changing weights)")
    sub.add_parser("status", parents=[common], help="what is indexed, what failed, the index")
    return parser


def cmd_build(args: argparse.Namespace) -> int:
    from indexer.build import BuildOptions, build_catalog
    from indexer.summary import format_report

    options = BuildOptions(
        model=args.model,
        weights=args.weights,
        layer=args.layer,
        variant=args.variant,
        styles_top=args.styles_top,
        styles_min=args.styles_min,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        timeout=args.timeout,
        rebuild=args.rebuild,
        progress=not args.quiet,
    )
    if args.workers:
        options.workers = args.workers
    if not args.catalog.is_dir():
        print(f"error: catalog folder {args.catalog} does not exist or is not a folder", file=sys.stderr)
        return 2
    report = build_catalog(args.catalog, Path(args.data_dir) if args.data_dir else None, options)
    print(format_report(report), file=sys.stderr if report.interrupted else sys.stdout)
    return EXIT_INTERRUPTED if report.interrupted else 0


def cmd_status(args: argparse.Namespace) -> int:
    from indexer.summary import format_status
    from storage.catalog import Catalog

    print(format_status(Catalog.open(args.data_dir, args.model)))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return cmd_build(args) if args.command == "build" else cmd_status(args)
    except (IndexerError, StorageError) as exc:
        if args.verbose:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - the one place unforeseen errors become one line
        if args.verbose:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --verbose for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
