"""Page fixtures: a catalog indexed by the real indexer, and AppTest runs of the page against it."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.catalog_builder import build_page_catalog
from tests.mpd_server import MpdServer, wait_until
from tests.real_data import require

PAGE = Path(__file__).resolve().parents[2] / "app" / "find_similar.py"


@pytest.fixture(scope="session")
def built_catalog(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(catalog folder, data directory), built once; tests that change it take `page_catalog`."""
    base = tmp_path_factory.mktemp("page")
    build_page_catalog(base / "catalog", base / "data")
    return base / "catalog", base / "data"


@pytest.fixture
def page_catalog(built_catalog: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the built catalog and data directory (catalog root re-pointed)."""
    return copy_catalog(built_catalog, tmp_path)


def copy_catalog(built: tuple[Path, Path], root: Path) -> tuple[Path, Path]:
    """(catalog folder, data directory) copied under `root`, the data directory's folder re-pointed."""
    from storage.write.store import Store

    catalog, data = root / "catalog", root / "data"
    shutil.copytree(built[0], catalog)
    shutil.copytree(built[1], data)
    store = Store(data)
    store.relocate_folder(store.folders()[0], catalog)
    return catalog, data


@contextmanager
def served_copy_of(
    built: tuple[Path, Path], root: Path, prepare: Callable[[Path, Path], object] | None = None
) -> Iterator[tuple[str, Path]]:
    """(the page's address, data directory): a real page process (streamlit run app/server.py) on a private
    copy of the built catalog; `prepare(catalog folder, data directory)` runs on the copy first."""
    from tests.app.server_process import serve_page

    catalog, data = copy_catalog(built, root)
    if prepare is not None:
        prepare(catalog, data)
    command = [sys.executable, "-m", "streamlit", "run", "app/server.py"]
    with serve_page(command, {"SOUNDALIKE_DATA": str(data), "SOUNDALIKE_DB_URL": ""}, root / "streamlit.log") as url:
        yield url, data


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., AppTest]]:
    """page(data_dir, capped=False) -> a fresh AppTest of the page reading that data directory, already run;
    unless `capped`, with the artist and album caps set to 0 (no limit), so results are the plain nearest."""
    import streamlit as st

    def open_page(data_dir: Path, capped: bool = False) -> AppTest:
        monkeypatch.setenv("SOUNDALIKE_DATA", str(data_dir))
        monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
        st.cache_resource.clear()
        at = AppTest.from_file(str(PAGE), default_timeout=60).run()
        caps = [w for w in at.number_input if w.key in ("max_per_artist", "max_per_album")]
        if caps and not capped:
            for widget in caps:
                widget.set_value(0)
            at = at.run()
        return at

    yield open_page
    st.cache_resource.clear()


@pytest.fixture
def mpd_server(built_catalog: tuple[Path, Path], tmp_path: Path) -> Iterator[MpdServer]:
    """A real MPD (Debian's `mpd`) on a free loopback port whose music_directory holds the built catalog."""
    if shutil.which("mpd") is None:
        require("MPD (Debian's mpd package)", "no `mpd` on PATH")
    music = built_catalog[0].parent  # MPD's music_directory holds the catalog folder: its names are longer
    server = MpdServer(music, tmp_path / "mpd")
    server.start()
    client = server.client()
    client.update()
    wait_until(lambda: "updating_db" not in client.status())
    assert len(client.listall()) >= 12
    client.disconnect()
    yield server
    server.stop()


def queue_files(server: MpdServer) -> list[str]:
    """The files of MPD's queue, in order."""
    client = server.client()
    try:
        return [entry["file"] for entry in client.playlistinfo()]
    finally:
        client.disconnect()
