"""`indexer serve`: the HTTP API and OpenSubsonic from one or several worker processes."""

from __future__ import annotations

import argparse
import sys

from indexer.commands.options import examples
from storage.core.errors import UsageError


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the HTTP API and OpenSubsonic (no page) from one or several worker processes",
        description="The JSON API (/api), OpenSubsonic (/rest), the audio and cover routes and /health, without "
        "the page, answered by --workers processes that share the port and the memory-mapped indexes. "
        "The page (streamlit run app/server.py) can run beside it on the same data directory.",
        epilog=examples("indexer serve --workers 2", "indexer serve --host 0.0.0.0 --port 8080 --workers 4"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1; about one per core)")


def run(args: argparse.Namespace) -> int:
    from app.http_server import serve
    from storage.core.paths import resolve_data_dir

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    data = resolve_data_dir(args.data_dir)
    if not data.exists():
        raise UsageError(f"no data directory at {data}; build one with `indexer build CATALOG_DIR`")
    print(f"serving {data} on http://{args.host}:{args.port} with {args.workers} worker(s) (Ctrl-C stops)")
    sys.stdout.flush()
    serve(args.host, args.port, args.workers, data, "debug" if args.verbose else "warning")
    return 0
