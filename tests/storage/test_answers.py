"""The listeners' answers (odd one out, thumbs): kept per listener in the data directory, on SQLite and
PostgreSQL; never about unknown tracks; kept by a rebuild; exported; forgotten with their tracks' folder."""

from __future__ import annotations

import json
from itertools import combinations

import pytest

from indexer.build import BuildOptions, build_catalog
from indexer.commands.main import main as indexer
from storage.core.errors import UsageError
from storage.read.catalog import Catalog
from storage.write.store import Store
from tests.audio_files import write_audio
from tests.fake_embedder import FakeEmbedder


@pytest.fixture
def two_folders(tmp_path, backend):
    """A data directory of two folders (3 + 2 tracks) built with the fake model."""
    for i in range(3):
        write_audio(tmp_path / "one" / f"a{i}.flac", 2.0 + i, seed=i)
    for i in range(2):
        write_audio(tmp_path / "two" / f"b{i}.flac", 2.0 + i, seed=10 + i)
    for folder in ("one", "two"):
        build_catalog(tmp_path / folder, tmp_path / "data", BuildOptions(workers=1, progress=False), FakeEmbedder())
    return tmp_path / "data"


def ids(catalog: Catalog, *paths: str) -> list[int]:
    return [catalog.resolve(p).id for p in paths]


def test_answers_are_kept_per_listener_and_checked(two_folders):
    store, catalog = Store(two_folders), Catalog.open(two_folders)
    a0, a1, a2, b0 = ids(catalog, "a0.flac", "a1.flac", "a2.flac", "b0.flac")
    store.add_triplet("ana", [a0, a1, b0], odd=b0)
    store.add_triplet(" ana ", [a2, a1, a0], odd=None)  # can't say; names are trimmed
    store.add_thumb("bo", a0, b0, alike=False)
    assert catalog.listeners() == [("ana", 2), ("bo", 1)]
    mine = catalog.answers("ana")
    assert [(a.kind, a.tracks, a.odd) for a in mine] == [("triplet", (a0, a1, b0), b0), ("triplet", (a2, a1, a0), None)]
    assert catalog.asked("ana") == {frozenset((a0, a1, b0)), frozenset((a0, a1, a2))}
    assert catalog.asked("bo") == set()
    [thumb] = catalog.answers("bo")
    assert (thumb.kind, thumb.tracks, thumb.verdict) == ("thumb", (a0, b0), -1)
    for bad, message in [
        (lambda: store.add_triplet("ana", [a0, a1], None), "three tracks"),
        (lambda: store.add_triplet("ana", [a0, a0, a1], None), "different tracks"),
        (lambda: store.add_triplet("ana", [a0, a1, a2], b0), "one of the three"),
        (lambda: store.add_triplet("ana", [a0, a1, 999], None), "no track 999"),
        (lambda: store.add_thumb("", a0, a1, True), "1 to 128 characters"),
    ]:
        with pytest.raises(UsageError, match=message):
            bad()
    assert len(catalog.answers()) == 3  # nothing half-written


def test_answers_outlive_a_rebuild_and_go_with_their_folder(two_folders, capsys):
    store, catalog = Store(two_folders), Catalog.open(two_folders)
    a0, a1, b0, b1 = ids(catalog, "a0.flac", "a1.flac", "b0.flac", "b1.flac")
    store.add_triplet("ana", [a0, a1, b0], odd=b0)
    store.add_thumb("ana", b0, b1, alike=True)
    store.add_thumb("ana", a0, a1, alike=True)
    folder = two_folders.parent / "one"
    options = BuildOptions(workers=1, progress=False, rebuild=True)
    build_catalog(folder, two_folders, options, FakeEmbedder("another revision"))
    assert len(Catalog.open(two_folders).answers("ana")) == 3

    assert indexer(["answers", "--data-dir", str(two_folders), "--json"]) == 0
    exported = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert exported[0] | {"answered_at": None} == {
        "listener": "ana",
        "kind": "triplet",
        "tracks": [a0, a1, b0],
        "paths": ["a0.flac", "a1.flac", "b0.flac"],
        "odd": b0,
        "answered_at": None,
    }
    assert exported[1]["verdict"] == 1 and exported[0]["answered_at"].endswith("Z")

    assert indexer(["forget", str(folder), "--yes", "--data-dir", str(two_folders)]) == 0
    assert "2 listener answer(s) about them" in capsys.readouterr().out  # the triplet and the a0/a1 thumb
    left = Catalog.open(two_folders).answers()
    assert [(a.kind, a.tracks) for a in left] == [("thumb", (b0, b1))]
    assert indexer(["answers", "--data-dir", str(two_folders)]) == 0
    assert capsys.readouterr().out == "ana\t1 answer(s)\n"


def test_the_next_triplet_is_unsure_new_and_played_where_it_sounds_like_itself(two_folders):
    import numpy as np

    from storage.search.asking import next_triplet, representative_start, uncertainty_gap

    catalog = Catalog.open(two_folders)
    rng = np.random.default_rng(3)
    store, seen = Store(two_folders), set()
    for _ in range(10):  # 5 tracks make 10 triplets: each asked once, then none is left
        triplet = next_triplet(catalog, "ana", rng)
        assert triplet is not None and len(set(triplet)) == 3 and frozenset(triplet) not in seen
        seen.add(frozenset(triplet))
        store.add_triplet("ana", triplet, odd=None)
    assert next_triplet(catalog, "ana", rng) is None
    assert next_triplet(catalog, "bo", rng) is not None  # per listener

    index = catalog.index()
    vectors = {int(i): np.asarray(index.vectors[r]) for r, i in enumerate(index.ids)}
    fresh = next_triplet(Catalog.open(two_folders), "cy", np.random.default_rng(0))
    assert fresh is not None

    def gap(triplet) -> float:
        return uncertainty_gap(np.stack([vectors[i] for i in triplet]))

    # Its anchor (one of the three) had every other track among its 10 nearest: of all the triplets with that
    # anchor, the one asked is the one the cosine is least sure about.
    assert any(gap(fresh) == min(gap(t) for t in combinations(vectors, 3) if anchor in t) for anchor in fresh)

    track = catalog.resolve("a2.flac").id
    timeline = catalog.timelines([track])[track]
    unit = timeline.vectors / np.linalg.norm(timeline.vectors, axis=1, keepdims=True)
    centre = unit.mean(0) / np.linalg.norm(unit.mean(0))
    assert representative_start(catalog, track) == float(timeline.starts[int(np.argmax(unit @ centre))])
