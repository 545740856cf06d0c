"""Duplicates, other versions and passage edges on real music with MusiCNN's real weights, built by the real
indexer (tests/real_variants.py makes the catalog with FFmpeg): every variant is one recording with its
original and no two different tracks are; an outside copy is "in your catalog"; a remaster is another
version, listed; planted passages are found with their edges and offset."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from indexer.build import BuildOptions, build_catalog
from indexer.models import load_embedder
from indexer.query_audio import embed_file
from storage.core.tracks import Neighbour
from storage.read.catalog import Catalog
from storage.recordings.duplicates import OTHER_VERSION
from storage.recordings.groups import group_of, read_fingerprints
from storage.search.request import SearchRequest
from storage.search.service import SearchService
from tests import real_data
from tests.real_variants import VariantCatalog, ffmpeg, make_catalog

EDGE, OFFSET = 2.0, 1.0  # seconds: the tolerances
RECALL = 0.95


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Catalog, VariantCatalog]:
    try:
        wheel = real_data.musicnn_wheel()
        sources = real_data.soundtracks()
    except real_data.Missing as exc:
        real_data.require("the musicnn wheel and the soundtracks", str(exc))
        raise
    if shutil.which("ffmpeg") is None:
        real_data.require("ffmpeg", "apt-get install ffmpeg")
    root = tmp_path_factory.mktemp("variants")
    made = make_catalog(sources, root / "music")
    options = BuildOptions(model="musicnn", weights=str(wheel), workers=2, progress=False)
    report = build_catalog(root / "music", root / "data", options)
    assert not report.failed, report.failed
    return Catalog.open(root / "data", "musicnn"), made


def ids(catalog: Catalog, paths: list[str]) -> dict[str, int]:
    return {p: catalog.resolve(p).id for p in paths}


def test_variants_are_one_recording_and_different_tracks_never(built):
    catalog, made = built
    every = ids(catalog, [*made.originals, *made.variants, *made.remasters, *(p.mix for p in made.planted)])
    with catalog.reading() as s:
        prints = read_fingerprints(s, list(every.values()))
        groups = group_of(s, list(every.values()))
    assert set(prints) == set(every.values())  # every track has its fingerprint
    copy = {path: groups[i][1] for path, i in every.items()}
    grouped = [v for v, original in made.variants.items() if copy[v] == copy[original]]
    assert len(grouped) / len(made.variants) >= RECALL, sorted(set(made.variants) - set(grouped))
    distinct = [*made.originals, *made.remasters, *(p.mix for p in made.planted)]  # all different recordings
    merged = [(a, b) for a, b in itertools.combinations(distinct, 2) if copy[a] == copy[b]]
    assert merged == []  # precision 1.0
    listed = {t.path for entry in catalog.duplicates() for t in entry.tracks}
    assert set(made.variants) <= listed


def test_an_outside_variant_is_in_the_catalog(built, tmp_path):
    catalog, made = built
    original = made.originals[0]
    outside = ffmpeg(made.root / original, tmp_path / "outside.ogg", [], ["-c:a", "libvorbis", "-q:a", "3"])
    weights, options = catalog.model_settings()
    query = embed_file(outside, load_embedder("musicnn", weights, "cpu", "fp32", None, **options))
    result = SearchService(catalog).by_vector(query, SearchRequest(10))
    found = {t.path for t in result.in_catalog}
    assert original in found and {v for v, o in made.variants.items() if o == original} & found
    assert not found & {n.track.path for n in result.neighbours}


def test_a_remaster_is_another_version_and_still_listed(built):
    catalog, made = built
    for remaster, original in made.remasters.items():
        with catalog.reading() as s:
            mine, theirs = (group_of(s, [catalog.resolve(p).id])[catalog.resolve(p).id] for p in (remaster, original))
        assert mine[0] == theirs[0] and mine[1] != theirs[1]  # the same recording, another master
        found = SearchService(catalog).by_track(catalog.resolve(original), SearchRequest(20)).neighbours
        labelled = {n.track.path: n.relation for n in found}
        assert labelled.get(remaster) == OTHER_VERSION, labelled


def test_planted_passages_have_their_edges_and_offset(built):
    catalog, made = built
    service = SearchService(catalog)
    hits, misses = 0, []
    for planted in made.planted:
        donor, mix = catalog.resolve(planted.donor), catalog.resolve(planted.mix)
        with catalog.reading() as s:
            heard = read_fingerprints(s, [donor.id]).get(donor.id)
        timeline = catalog.timeline(donor)
        passage = service.with_passages(timeline, [Neighbour(mix, 0.0)], heard)[0].passage
        assert passage is not None
        planted_offset = planted.start - planted.query_start
        errors = (
            abs(passage.query_start - planted.query_start),
            abs(passage.query_end - planted.query_end),
            abs(passage.start - planted.start),
            abs(passage.end - planted.end),
        )
        if max(errors) <= EDGE and abs(passage.offset - planted_offset) <= OFFSET:
            hits += 1
        else:
            planted_at = [round(x, 1) for x in (planted.query_start, planted.query_end, planted.start, planted.end)]
            misses.append((Path(planted.mix).name, planted_at, passage.as_dict()))
    assert hits >= 9, misses


def test_search_by_passage_finds_the_mix_first(built):
    catalog, made = built
    service = SearchService(catalog)
    firsts = []
    for planted in made.planted[:5]:
        donor = catalog.resolve(planted.donor)
        found = service.by_passage(donor, planted.query_start, planted.query_end, SearchRequest(3)).neighbours
        firsts.append(found[0].track.path == planted.mix)
    assert all(firsts), firsts
