"""The beets plugin with the real beets: a temporary library imported with `beet import -A -q` from
generated, tagged files; the import hook indexes them (MusiCNN, random weights); `beet similar` lists
what `storage.query --json` lists for the same seed, in beets' format."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.read.catalog import Catalog
from tests.audio_files import tag, write_audio

BIN = Path(sys.executable).parent
# (artist, album, title): three artists, one of them on two albums
SONGS = [
    ("Ana Lune", "First Light", "Morning"),
    ("Ana Lune", "First Light", "Noon"),
    ("Ana Lune", "Second Sky", "Dusk"),
    ("Bo Marsh", "Tides", "Ebb"),
    ("Bo Marsh", "Tides", "Flow"),
    ("Cy Okafor", "Solo", "One"),
    ("Cy Okafor", "Solo", "Two"),
]


@pytest.fixture(scope="module")
def beets_library(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    """(environment with BEETSDIR, data directory) after `beet import -A -q` of SONGS."""
    from indexer.models.musicnn.testing import write_random_musicnn

    base = tmp_path_factory.mktemp("beets")
    incoming = base / "incoming"
    for i, (artist, album, title) in enumerate(SONGS):
        path = write_audio(incoming / f"{album}/{i:02d} {title}.flac", 4.0 + i % 3, seed=40 + i)
        tag(path, artist=artist, album=album, title=title, albumartist=artist)
    weights = write_random_musicnn(base / "musicnn")
    config = base / "beetsdir" / "config.yaml"
    config.parent.mkdir()
    config.write_text(
        f"directory: {base / 'music'}\nlibrary: {base / 'library.db'}\nplugins: soundalike\n"
        "import:\n  copy: yes\n  write: no\n  log: null\n"
        f"soundalike:\n  data_dir: {base / 'data'}\n  model: musicnn\n  weights: {weights}\n  auto: yes\n"
    )
    env = {**os.environ, "BEETSDIR": str(config.parent), "SOUNDALIKE_DB_URL": ""}
    env.pop("SOUNDALIKE_DATA", None)
    done = beet(env, "import", "-A", "-q", str(incoming))
    assert done.returncode == 0, done.stderr
    return env, base / "data"


def beet(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "beet"), *args], env=env, capture_output=True, text=True, timeout=300)


def query_json(data: Path, track_id: int, *flags: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "storage.query", str(track_id), "--json", "--data-dir", str(data), *flags],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SOUNDALIKE_DB_URL": ""},
    )
    assert done.returncode == 0, done.stderr
    return [str(Path(n["folder"]) / n["path"]) for n in json.loads(done.stdout)["neighbours"]]


def test_the_import_hook_indexes_and_build_is_incremental(beets_library):
    env, data = beets_library
    assert Catalog.open(data, "musicnn").count_tracks()["indexed"] == len(SONGS)  # by `auto: yes`
    done = beet(env, "soundalike", "build", "--quiet")
    assert done.returncode == 0, done.stderr
    assert "indexed 0 " in done.stdout and f"unchanged {len(SONGS)}," in done.stdout


def test_similar_lists_what_storage_query_lists(beets_library):
    env, data = beets_library
    catalog = Catalog.open(data, "musicnn")
    morning = next(t for t in catalog.all_tracks() if t.title == "Morning")
    done = beet(env, "similar", "title:Morning", "-k", "4", "-f", "$path")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == query_json(data, morning.id, "-k", "4")
    flags = ["--exclude-same-album", "--max-per-artist", "1"]
    done = beet(env, "similar", "title:Morning", "-k", "3", *flags, "-f", "$path")
    assert done.stdout.splitlines() == query_json(data, morning.id, "-k", "3", *flags)
    shown = beet(env, "similar", "title:Morning", "-k", "2").stdout.splitlines()  # beets' own item format
    assert len(shown) == 2 and all(" - " in line for line in shown)


def test_several_seeds_and_errors_as_beets_reports_them(beets_library):
    env, data = beets_library
    catalog = Catalog.open(data, "musicnn")
    seeds = sorted(t.id for t in catalog.all_tracks() if t.artist == "Bo Marsh")
    done = beet(env, "similar", "artist:Bo Marsh", "-k", "3", "-f", "$path")
    assert done.returncode == 0, done.stderr
    query = subprocess.run(
        [sys.executable, "-m", "storage.query", *map(str, seeds), "--json", "-k", "3", "--data-dir", str(data)],
        capture_output=True,
        text=True,
        env={**os.environ, "SOUNDALIKE_DB_URL": ""},
    )
    listed = [str(Path(n["folder"]) / n["path"]) for n in json.loads(query.stdout)["neighbours"]]
    assert done.stdout.splitlines() == listed
    missing = beet(env, "similar", "title:Nothing Like It")
    assert missing.returncode != 0 and "soundalike: no item matches" in missing.stderr
    wrong = beet(env, "similar", "title:Morning", "--model", "maest")
    assert wrong.returncode != 0 and wrong.stderr.strip().startswith("error: soundalike:")
