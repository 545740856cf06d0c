"""The `indexer` command: one subcommand a module (indexer.commands.<name>: its parser and its run), assembled
here. Thin over the libraries; each command imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import logging
import sys
from types import ModuleType

from indexer.commands import (
    answers,
    build,
    duplicates,
    evaluate,
    export,
    forget,
    learn,
    mpd,
    reindex,
    serve,
    status,
    tracks,
)
from indexer.commands.console import run_cli
from indexer.commands.options import examples
from storage import __version__

COMMANDS: dict[str, ModuleType] = {
    "build": build,
    "status": status,
    "tracks": tracks,
    "duplicates": duplicates,
    "answers": answers,
    "learn": learn,
    "evaluate": evaluate,
    "export": export,
    "serve": serve,
    "mpd": mpd,
    "forget": forget,
    "reindex": reindex,
}


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default $SOUNDALIKE_DATA or ~/.local/share/soundalike)")
    common.add_argument("--verbose", "-v", action="store_true", help="debug logging and tracebacks")

    parser = argparse.ArgumentParser(
        prog="indexer",
        description="Index music catalog folders for soundalike.",
        epilog=examples(
            "indexer build ~/Music",
            "indexer status",
            "indexer tracks miles blue",
            "indexer COMMAND --help",
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"soundalike {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    level = logging.DEBUG if args.verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    return run_cli(lambda: COMMANDS[args.command].run(args), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
