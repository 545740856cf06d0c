"""Schema v2 -> v6 on a data directory written by the v2 code (fixtures/v2.sql, see make_v2.py):
nothing lost, nothing re-embedded, fingerprints added by the next build; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, select, text

from indexer.build import BuildOptions, build_catalog
from storage.core.paths import database_url
from storage.core.timelines import CODED, RAW
from storage.db.schema import Embedding, Failure, Meta, Model, TrackFingerprint, TrackStyle
from storage.read.catalog import Catalog
from storage.write.store import Store
from tests.audio_files import write_audio
from tests.fake_embedder import FakeEmbedder
from tests.search_helpers import similar

DUMP = Path(__file__).with_name("fixtures") / "v2.sql"


def v2_rows() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(DUMP.read_text())
    return db


def write_v2(data_dir: Path) -> None:
    """The v2 database in the data directory's database (SQLite file, or $SOUNDALIKE_DB_URL)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    url = database_url(data_dir)
    if url.startswith("sqlite"):
        with sqlite3.connect(data_dir / "soundalike.db") as db:
            db.executescript(DUMP.read_text())
        return
    source = v2_rows()
    engine = create_engine(url)
    with engine.begin() as conn:  # the same tables, in PostgreSQL's types, as SQLAlchemy made them for v2
        order = "ORDER BY type = 'index', name != 'tracks', name"  # parents before children, indexes last
        for name, ddl in source.execute(f"SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL {order}"):
            ddl = ddl.replace("BLOB", "BYTEA").replace("DATETIME", "TIMESTAMP")
            if name == "tracks":
                ddl = re.sub(r"\bid INTEGER NOT NULL", "id SERIAL NOT NULL", ddl)
            conn.exec_driver_sql(ddl)
        for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name != 'tracks'"):
            cursor = source.execute(f'SELECT * FROM "{name}"')
            columns = [c[0] for c in cursor.description]
            rows = [dict(zip(columns, row, strict=True)) for row in cursor]
            if rows:
                quoted = ", ".join(f'"{c}"' for c in columns)
                conn.execute(
                    text(f'INSERT INTO "{name}" ({quoted}) VALUES ({", ".join(":" + c for c in columns)})'), rows
                )
        conn.exec_driver_sql("SELECT setval(pg_get_serial_sequence('tracks', 'id'), (SELECT max(id) FROM tracks))")
    engine.dispose()


def test_v2_to_v7_keeps_everything(tmp_path, backend, monkeypatch):
    data = tmp_path / "data"
    write_v2(data)
    old = v2_rows()
    store = Store(data)  # opening for writing migrates
    with store.sessions() as s:
        assert s.get(Meta, "schema_version").value == "7"
        assert [m.key for m in s.execute(select(Meta)).scalars()] == ["schema_version"]
        vectors = {
            (e.track_id, e.model): (e.vector, e.timeline, e.starts) for e in s.execute(select(Embedding)).scalars()
        }
        styles = sorted((t.track_id, t.model, t.label) for t in s.execute(select(TrackStyle)).scalars())
        failures = sorted((f.track_id, f.model, f.reason) for f in s.execute(select(Failure)).scalars())
        models = {
            m.name: (m.weights, json.loads(m.options), m.vectors_version) for m in s.execute(select(Model)).scalars()
        }
    for track_id, model, vector, timeline, starts in old.execute(
        "SELECT track_id, model, vector, timeline, starts FROM embeddings"
    ):
        assert vectors[(track_id, model)] == (vector, timeline, starts)  # float16 timelines, kept as they were
    assert len(vectors) == 10
    assert styles == sorted(old.execute("SELECT track_id, model, label FROM track_styles").fetchall())
    reason = "ffmpeg: Invalid data found when processing input"
    assert failures == [(1, "maest", reason), (1, "mule", reason)]
    assert models == {"maest": ("/weights/maest", {"variant": "30s-pw-129e"}, 5), "mule": (None, {}, 5)}
    with store.sessions() as s:  # v6: every vector stamped with its model's version, so updates start from here
        assert set(s.execute(select(Embedding.version)).scalars()) == {5}
    [folder] = store.folders()
    root = old.execute("SELECT value FROM meta WHERE key = 'catalog_root'").fetchone()[0]
    assert (str(folder.path), folder.tracks) == (root, 6)

    catalog = Catalog.open(data)
    assert catalog.models() == ["maest", "mule"]
    paths = dict(old.execute("SELECT id, path FROM tracks").fetchall())
    assert {t.id: t.path for t in catalog.search_tracks("song")} == {i: p for i, p in paths.items() if i != 1}
    assert [t.id for t in catalog.search_tracks("song 3")] == [6]
    assert catalog.count_tracks() == {"indexed": 5, "failed": 1}

    # The same audio, regenerated elsewhere: the folder moves, nothing is re-embedded, new files are.
    music = tmp_path / "music"
    for i in range(5):
        write_audio(music / f"artist{i % 2}" / f"song {i}.flac", 3.0 + i, seed=i)
    (music / "broken.mp3").write_text("not audio")
    write_audio(music / "new.flac", 3.0, seed=9)
    store.relocate_folder(folder, music)
    fake = FakeEmbedder("rev-mule")
    report = build_catalog(music, data, BuildOptions(workers=1, progress=False), fake)
    assert (report.indexed, report.unchanged, report.still_failed) == (1, 5, 1), report
    assert len(fake.embedded) == 1 and Catalog.open(data).index().meta.count == 6
    with store.sessions() as s:  # the tracks embedded before fingerprints were fingerprinted, not re-embedded
        assert len(s.execute(select(TrackFingerprint.track_id)).all()) == 6
    np.testing.assert_array_equal(
        Catalog.open(data).vector(catalog.track(2)), np.frombuffer(vectors[(2, "mule")][0], dtype="<f4")
    )

    # The v2 float16 timelines become compact without re-embedding; passages read the same.
    before = Catalog.open(data)
    passages = similar(before, 2, k=3)
    monkeypatch.setattr("storage.core.timelines.FIT_SLICES", 8)
    assert Store(data).compact_timelines("mule") == 6
    with store.sessions() as s:
        formats = dict(s.execute(select(Embedding.model, Embedding.timeline_format).distinct()).all())
    assert formats == {"mule": CODED, "maest": RAW}  # another model's timelines are its own
    after = Catalog.open(data)
    again = similar(after, 2, k=3)
    assert [n.track.id for n in again] == [n.track.id for n in passages]
    for old_n, new_n in zip(passages, again, strict=True):
        assert abs(old_n.passage.start - new_n.passage.start) <= 2
        assert abs(old_n.passage.query_start - new_n.passage.query_start) <= 2
        assert abs(old_n.passage.score - new_n.passage.score) < 0.01
