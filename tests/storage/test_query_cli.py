"""`python -m storage.query`: outputs, lookups, exclusions, each error case, and no torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexer.commands.lookup import main
from storage.search.request import VectorQuery
from storage.search.service import SearchService
from tests.storage.conftest import clustered_vectors, fill_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path, monkeypatch, cli_database) -> Path:
    fill_store(tmp_path / "data", clustered_vectors(40, 24, seed=7))
    monkeypatch.setenv("SOUNDALIKE_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    code = (
        "import sys; from storage.query import main; rc = main(sys.argv[1:]); "
        "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_table_by_default_without_torch(data_dir):
    result = run_cli("3", "-k", "4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Nearest to [3]") and "score" in lines[1] and len(lines) == 2 + 4


def test_json_fields_and_no_self(data_dir, capsys):
    assert main(["3", "-k", "5", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["query"]["id"] == 3 and len(payload["neighbours"]) == 5
    first = payload["neighbours"][0]
    assert set(first) == {
        "id",
        "score",
        "folder",
        "path",
        "title",
        "artist",
        "album",
        "duration",
        "passage",
        "closeness",
        "also_in",
    }
    assert 3 not in [n["id"] for n in payload["neighbours"]]
    scores = [n["score"] for n in payload["neighbours"]]
    assert scores == sorted(scores, reverse=True)


def test_lookup_by_relative_and_absolute_path(data_dir, capsys):
    assert main(["Bob/album 1/track 001.flac", "--json", "-k", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["query"]["id"] == 2
    absolute = data_dir.parent / "catalog" / "Bob/album 1/track 001.flac"
    assert main([str(absolute), "--json", "-k", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["query"]["id"] == 2


def test_m3u_lists_absolute_paths(data_dir, tmp_path, capsys):
    playlist = tmp_path / "near.m3u"
    assert main(["1", "-k", "3", "--m3u", str(playlist)]) == 0
    lines = playlist.read_text().splitlines()
    assert lines[0] == "#EXTM3U" and len(lines) == 1 + 2 * 3
    assert all(Path(line).is_absolute() for line in lines[2::2])
    assert lines[2].startswith(str((data_dir.parent / "catalog").resolve()))


def test_exclusion_flags(data_dir, capsys):
    assert main(["1", "-k", "10", "--json", "--exclude-same-artist"]) == 0
    artists = {n["artist"] for n in json.loads(capsys.readouterr().out)["neighbours"]}
    assert "Ann" not in artists
    assert main(["1", "-k", "10", "--json", "--exclude-same-album"]) == 0
    albums = {n["album"] for n in json.loads(capsys.readouterr().out)["neighbours"]}
    assert "Ann album 0" not in albums


def expect_error(args: list[str], code: int, fragment: str, capsys) -> None:
    assert main(args) == code
    err = capsys.readouterr().err.strip()
    assert fragment in err and err.count("\n") == 0 and "Traceback" not in err


def test_unknown_id_and_path_exit_2(data_dir, capsys):
    expect_error(["999"], 2, "no track with id 999", capsys)
    expect_error(["nope.flac"], 2, "no track with id or path", capsys)


def test_no_data_directory_exit_1(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    expect_error(["1", "--data-dir", str(tmp_path / "missing")], 1, "indexer build", capsys)


def test_empty_index_exit_1(tmp_path, capsys, monkeypatch):
    from storage.write.store import Store

    monkeypatch.delenv("SOUNDALIKE_DB_URL", raising=False)
    Store(tmp_path / "d")
    expect_error(["1", "--data-dir", str(tmp_path / "d")], 2, "no track with id 1", capsys)
    from storage.core.errors import EmptyIndexError
    from storage.read.catalog import Catalog

    with pytest.raises(EmptyIndexError, match="indexer build"):
        SearchService(Catalog.open(tmp_path / "d")).by_vector(VectorQuery(np.ones(24, np.float32)))


def test_stale_index_says_how_to_rebuild(data_dir, capsys):
    from storage.write import sync
    from storage.write.store import Store

    with Store(data_dir).sessions.begin() as s:
        sync.delete_tracks(s, [5])
    expect_error(["1"], 1, "--rebuild-index", capsys)
    assert main(["1", "--allow-stale", "--json"]) == 0
    capsys.readouterr()
    assert main(["--rebuild-index"]) == 0
    assert "rebuilt the mule index: 39 vectors" in capsys.readouterr().out
    assert main(["1", "--json"]) == 0


def test_model_mismatch(data_dir, capsys):
    from storage.core.errors import ModelMismatchError
    from storage.read.catalog import Catalog

    service = SearchService(Catalog.open(data_dir))
    with pytest.raises(ModelMismatchError, match="weights"):
        service.by_vector(VectorQuery(np.ones(24, np.float32), revision="other-rev"))
    with pytest.raises(ModelMismatchError, match="dims"):
        service.by_vector(VectorQuery(np.ones(7, np.float32)))
    expect_error(["1", "--model", "maest"], 2, "has no maest vector", capsys)


def test_corrupt_index_file(data_dir, capsys):
    from storage.index.vectors import current_build

    build = data_dir / "index" / "mule" / current_build(data_dir / "index" / "mule")
    (build / "index.faiss").write_bytes(b"garbage")
    expect_error(["1"], 1, "cannot be read", capsys)


def test_bad_usage_exit_2(data_dir, capsys):
    expect_error([], 2, "give a TRACK_ID (or several), --audio FILE or --text WORDS", capsys)
    with pytest.raises(SystemExit) as info:
        main(["1", "-k", "x"])
    assert info.value.code == 2
