"""The page's words (AppTest, a catalog built by the real indexer with MULE and a random-weight CLAP beside it):
a description finds tracks or moments, the words steer a track query, and a data directory without a
text-capable model says how to get one."""

from __future__ import annotations

import re

import pytest

from indexer.models.clap.testing import write_random_clap
from storage.read.catalog import Catalog
from storage.search.request import SearchRequest
from storage.search.service import SearchService
from tests.app.test_page import audio_sources, build_beside, messages, neighbour_ids, pick


@pytest.fixture
def words_catalog(page_catalog, tmp_path):
    catalog_dir, data = page_catalog
    weights = write_random_clap(tmp_path / "clap", "small", seed=6)
    build_beside(catalog_dir, data, "clap", weights, tags_top="2", tags_min="0")
    return data


def test_a_description_finds_tracks_then_moments(page, words_catalog):
    at = page(words_catalog)
    assert at.selectbox(key="model").value == "mule"  # words go to CLAP whatever model the page shows
    at.text_input(key="describe").set_value("calm piano with rain").run()
    assert not at.exception and not messages(at)
    clap = Catalog.open(words_catalog, "clap")
    from indexer.query_text import text_query

    expected = SearchService(clap).by_text(text_query(clap, "calm piano with rain"), SearchRequest(k=10))
    assert neighbour_ids(at) == [n.track.id for n in expected.neighbours]
    assert any("tracks that fit the words" in m.value for m in at.markdown)
    closeness = [c.value for c in at.caption if re.match(r"closer than \d", c.value)]
    assert len(closeness) == len(expected.neighbours)

    at.toggle(key="moments").set_value(True).run()
    assert any(s.value.endswith("moments") for s in at.subheader)
    moments = [c.value for c in at.caption if c.value.startswith("the moment:")]
    assert len(moments) == len(neighbour_ids(at)) and all("fits the words" in m for m in moments)
    assert len(audio_sources(at, passages=True)) == len(moments)  # each player starts at its moment

    at.text_input(key="describe").set_value("").run()
    assert not neighbour_ids(at)


def test_words_steer_a_track_query(page, words_catalog):
    at = page(words_catalog)
    at.selectbox(key="model").set_value("clap").run()
    at = pick(at, "three")
    plain = neighbour_ids(at)
    at.text_input(key="steer_more").set_value("vocals").run()
    assert any(c.value == "Results steered: more vocals (docs/words.md)." for c in at.caption)
    clap = Catalog.open(words_catalog, "clap")
    from indexer.query_text import steering

    three = clap.resolve("cy/solo/03 three.flac")
    request = SearchRequest(k=10, steering=steering(clap, ["vocals"]))
    assert neighbour_ids(at) == [n.track.id for n in SearchService(clap).by_track(three, request).neighbours]
    assert sorted(plain) != [] and not at.exception


def test_without_a_text_model_the_page_says_what_to_build(page, built_catalog):
    at = page(built_catalog[1])
    said = " ".join(c.value for c in at.caption)
    assert "Search by words needs a model that understands them" in said and "--model clap" in said
    with pytest.raises(KeyError):
        at.text_input(key="describe")


def test_tags_on_cards_in_the_filter_and_compared(page, words_catalog):
    at = page(words_catalog)
    at.selectbox(key="model").set_value("clap").run()
    at = pick(at, "three")
    assert "Apache-2.0" in " ".join(c.value for c in at.sidebar.caption)
    shown = [c.value for c in at.caption if c.value.startswith("sounds:")]
    assert len(shown) == 1 + len(neighbour_ids(at)) and re.fullmatch(r"sounds: .+ \d+% · .+ \d+%", shown[0])
    assert all(re.search(r"(both|only this track|only the query): ", c) for c in shown[1:])  # against the query
    clap = Catalog.open(words_catalog, "clap")
    counts = dict(clap.style_counts())
    assert at.multiselect(key="styles").options == [label for label, _ in clap.style_counts()]
    rare = min(counts, key=lambda label: (counts[label], label))
    at.multiselect(key="styles").set_value([rare]).run()
    three = clap.resolve("cy/solo/03 three.flac").id
    tagged, kept = clap.tracks_with_styles([rare]) - {three}, set(neighbour_ids(at))
    assert kept <= tagged and len(kept) == min(10, len(tagged))  # random weights tag most tracks alike
    at.multiselect(key="styles").set_value([]).run()
    at.selectbox(key="model").set_value("mule").run()  # MULE's results, compared by CLAP's tags
    compared = [c.value for c in at.caption if c.value.startswith("sounds:")][1:]
    assert compared and all(re.search(r"(both|only this track|only the query): ", c) for c in compared)
