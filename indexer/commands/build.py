"""`indexer build [FOLDER...]`: embed every audio file of the folders (incremental, resumable)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from indexer.commands.console import EXIT_INTERRUPTED
from indexer.commands.options import add_model_options, examples, model_help
from indexer.models.registry import DEFAULT_MODEL, MODELS, example
from storage.core.errors import UsageError


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    build = sub.add_parser(
        "build",
        parents=[common],
        help="embed every audio file of one or more folders (incremental, resumable)",
        description="Embed every audio file of the folders given (none: every folder this data directory has). "
        "Other folders and other models are never touched.",
        epilog=examples(
            "indexer build ~/Music                  # index a folder (run again to update it)",
            "indexer build                          # update every folder already indexed",
            f"indexer build ~/Music --model {example('tags'):6s}  # another model, beside {DEFAULT_MODEL}",
            f"indexer build ~/Music --weights ./{DEFAULT_MODEL}-weights --device cuda",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    build.add_argument("catalog", type=Path, nargs="*", metavar="CATALOG_DIR", help="folders of audio files")
    build.add_argument("--model", default=DEFAULT_MODEL, choices=list(MODELS), metavar="MODEL", help=model_help())
    build.add_argument(
        "--weights",
        help="folder or Hub repo id[@revision] (default $SOUNDALIKE_WEIGHTS, else what this model's last build "
        "used, else the model's repo)",
    )
    add_model_options(build)
    build.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    build.add_argument(
        "--precision",
        default="fp32",
        choices=["fp32", "bf16", "fp16"],
        help="fp32 (default); bf16 on CUDA or CPUs with AVX512-BF16/AMX; fp16 on CUDA",
    )
    build.add_argument("--batch-size", type=int, help="slices per model batch (default per model: docs/models.md)")
    build.add_argument("--workers", type=int, help="decoder processes (default: cores - 1, at most 4)")
    build.add_argument("--timeout", type=float, default=300.0, help="seconds to decode one file (default 300)")
    build.add_argument(
        "--engine",
        default="local",
        choices=["local", "ray"],
        help="local (default): this process and its decoder workers; ray: decode and embed on a Ray cluster "
        "(pip install -e '.[ray]'); on PostgreSQL its workers commit their tracks, on SQLite this process",
    )
    build.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="Ray cluster (host:port, or auto for the one this machine joined with `ray start`; "
        "default: start a local one for this build)",
    )
    build.add_argument("--rebuild", action="store_true", help="re-embed everything with this model (other weights)")
    build.add_argument("--quiet", "-q", action="store_true", help="no progress bar, only errors and the summary")


def run(args: argparse.Namespace) -> int:
    from indexer.build import BuildOptions, build_catalog
    from indexer.commands.summary import format_report

    given = {k.removeprefix("opt_"): str(v) for k, v in vars(args).items() if k.startswith("opt_") and v is not None}
    options = BuildOptions(
        model=args.model,
        weights=args.weights,
        model_options=given,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        timeout=args.timeout,
        rebuild=args.rebuild,
        progress=not args.quiet,
        engine=args.engine,
        ray_address=args.ray_address,
    )
    if args.ray_address and args.engine != "ray":
        raise UsageError("--ray-address needs --engine ray")
    if args.workers:
        options.workers = args.workers
    report = build_catalog(args.catalog, Path(args.data_dir) if args.data_dir else None, options)
    print(format_report(report), file=sys.stderr if report.interrupted else sys.stdout)
    return EXIT_INTERRUPTED if report.interrupted else 0
