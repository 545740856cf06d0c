"""soundalike for beets: `plugins: soundalike` in beets' config, after `pip install soundalike`.

    beet soundalike build [--model M]     index the library's files (incremental, as `indexer build`)
    beet similar QUERY [-k N] [-f FMT]    the items that sound most like the item(s) QUERY matches

Configuration, under `soundalike:` in beets' config: `data_dir` (default: soundalike's own,
$SOUNDALIKE_DATA or ~/.local/share/soundalike), `model` (default: as `storage.query`), `weights`, and
`auto: yes` to index newly imported items after each `beet import`. Thin over soundalike's libraries: the
build is `indexer.build`, the answers are the search service's (storage.search.service), so `beet similar`
lists what `python -m storage.query --json` lists for the same seed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from beets import ui
from beets.library import Item, Library
from beets.plugins import BeetsPlugin
from beets.ui import UserError  # beets prints it as "error: ..." and exits 1

from indexer.models.registry import DEFAULT_MODEL
from storage.core.errors import SoundalikeError
from storage.core.paths import file_place

log = logging.getLogger("beets.soundalike")


def item_file(item: Item) -> Path:
    """The item's file as the indexer names it (storage.core.paths.file_place: a symlink stays a symlink)."""
    return file_place(os.fsdecode(item.path))


def library_folders(lib: Library) -> list[Path]:
    """The catalog folders that hold the library's files: beets' music directory when it holds them, and
    the outermost folders of items kept elsewhere (imported without copying)."""
    music = Path(os.fsdecode(lib.directory)).resolve()
    outside: set[Path] = set()
    inside = False
    for item in lib.items():
        parent = item_file(item).parent
        if parent.is_relative_to(music):
            inside = True
        else:
            outside.add(parent)
    roots = sorted(p for p in outside if not any(p != q and p.is_relative_to(q) for q in outside))
    return ([music] if inside else []) + roots


class SoundalikePlugin(BeetsPlugin):
    def __init__(self, name: str | None = None) -> None:
        super().__init__(name)
        self.config.add({"data_dir": None, "model": None, "weights": None, "auto": False})
        if self.config["auto"].get(bool):
            self.register_listener("import", self.imported)

    # -- settings --------------------------------------------------------------------------------------

    def _setting(self, name: str) -> str | None:
        value = self.config[name].get()
        return None if value in (None, "") else os.path.expanduser(str(value))

    def catalog(self, model: str | None = None) -> Any:
        from storage.read.catalog import Catalog

        return Catalog.open(self._setting("data_dir"), model or self._setting("model"))

    # -- commands --------------------------------------------------------------------------------------

    def commands(self) -> list[ui.Subcommand]:
        build = ui.Subcommand("soundalike", help="soundalike: `beet soundalike build` indexes the library")
        build.parser.usage = "%prog build [--model M] [--quiet]"
        build.parser.add_option(
            "--model", help=f"the embedding model (default: the plugin's `model`, else {DEFAULT_MODEL})"
        )
        build.parser.add_option("-q", "--quiet", action="store_true", help="no progress bar")
        build.func = self._soundalike
        similar = ui.Subcommand("similar", help="items that sound like the items a query matches")
        similar.parser.usage = "%prog QUERY [-k N] [-f FORMAT] [--exclude-same-artist] [--max-per-artist N] ..."
        similar.parser.add_option("-k", type=int, default=10, help="how many (default 10)")
        similar.parser.add_option("--model", help="the model to search (default: the plugin's `model`)")
        similar.parser.add_option("--exclude-same-artist", action="store_true", help="leave out the seeds' artists")
        similar.parser.add_option("--exclude-same-album", action="store_true", help="leave out the seeds' albums")
        similar.parser.add_option("--max-per-artist", type=int, help="at most N results by one artist")
        similar.parser.add_option("--max-per-album", type=int, help="at most N results from one album")
        similar.parser.add_format_option(target="item")
        similar.func = self._similar
        return [build, similar]

    def _soundalike(self, lib: Library, opts: Any, args: list[str]) -> None:
        if args != ["build"]:
            raise UserError("soundalike: the command is `beet soundalike build`")
        try:
            report = self.build(lib, opts.model, progress=not opts.quiet)
        except SoundalikeError as exc:
            raise UserError(f"soundalike: {exc}") from None
        ui.print_(report)

    def _similar(self, lib: Library, opts: Any, args: list[str]) -> None:
        seeds = list(lib.items(args))
        if not seeds:
            raise UserError(f"soundalike: no item matches {' '.join(args)!r}")
        try:
            found = self.similar(lib, seeds, opts)
        except SoundalikeError as exc:
            raise UserError(f"soundalike: {exc}") from None
        for item, path in found:
            ui.print_(format(item, opts.format or "") if item is not None else str(path))

    # -- library functions -----------------------------------------------------------------------------

    def build(self, lib: Library, model: str | None = None, progress: bool = True) -> str:
        """Index the folders that hold the library's items (incremental); the build's summary."""
        from indexer.build import BuildOptions, build_catalog
        from indexer.commands.summary import format_report
        from storage.core.paths import DEFAULT_MODEL

        folders = library_folders(lib)
        if not folders:
            return "soundalike: nothing to index"
        model = model or self._setting("model") or DEFAULT_MODEL
        options = BuildOptions(model=model, weights=self._setting("weights"), progress=progress)
        data = self._setting("data_dir")
        return format_report(build_catalog(folders, Path(data) if data else None, options))

    def similar(self, lib: Library, seeds: list[Item], opts: Any) -> list[tuple[Item | None, Path]]:
        """(the library's item or None, the file) of each result, nearest first."""
        from storage.search.caps import Caps
        from storage.search.question import Question
        from storage.search.request import SearchRequest
        from storage.search.service import SearchService

        catalog = self.catalog(opts.model)
        tracks = [catalog.resolve(str(item_file(s))) for s in seeds]
        request = SearchRequest(
            opts.k,
            exclude_same_artist=opts.exclude_same_artist,
            exclude_same_album=opts.exclude_same_album,
            caps=Caps(opts.max_per_artist, opts.max_per_album),
            passages=False,
        )
        result = SearchService(catalog).ask(Question(seeds=tuple(t.id for t in tracks)), request)
        by_file = {item_file(i): i for i in lib.items()}
        return [(by_file.get(file_place(n.track.file)), n.track.file) for n in result.neighbours]

    def imported(self, lib: Library, paths: list[bytes]) -> None:
        """After `beet import` (with `auto: yes`): index the library's folders again (incremental: only
        what came in is embedded)."""
        try:
            log.info("%s", self.build(lib, progress=False))
        except SoundalikeError as exc:
            log.warning("soundalike could not index the import: %s", exc)
