"""The page's "Teach it your ears" view (AppTest, a catalog built by the real indexer): three players at
representative passages, an answer kept per listener, never the same triplet twice, "can't say", thumbs on
results, answers still there after a restart."""

from __future__ import annotations

from storage.read.catalog import Catalog
from tests.app.test_page import audio_sources, messages, pick


def teach(at, name: str = "ana"):
    at.radio(key="view").set_value("Teach it your ears").run()
    at.text_input(key="listener").set_value(name).run()
    return at


def shown_triplet(at) -> tuple[int, ...]:
    return tuple(int(b.key.removeprefix("odd-")) for b in at.button if b.key and b.key.startswith("odd-"))


def test_answer_triplets_then_thumb_a_result(page, page_catalog):
    _, data = page_catalog
    at = teach(page(data))
    assert not at.exception and not messages(at)
    first = shown_triplet(at)
    assert len(first) == 3 and len(set(first)) == 3
    assert len(audio_sources(at, passages=True)) == 3  # each plays from its representative passage
    at.button(key=f"odd-{first[1]}").click().run()
    [answer] = Catalog.open(data).answers("ana")
    assert (answer.tracks, answer.odd) == (first, first[1])
    second = shown_triplet(at)
    assert len(second) == 3 and frozenset(second) != frozenset(first)
    at.button(key="cant-say").click().run()
    kept = Catalog.open(data).answers("ana")
    assert [a.odd for a in kept] == [first[1], None] and kept[1].tracks == second
    assert any("2 answer(s) from ana" in c.value for c in at.caption)

    # Thumbs on ordinary results, under the same name (kept while another view shows).
    at.radio(key="view").set_value("Discover").run()
    at = pick(at, "three")
    catalog = Catalog.open(data)
    three = catalog.resolve("cy/solo/03 three.flac").id
    ups = [b for b in at.button if b.key and b.key.startswith("up-")]
    assert ups
    result = int(ups[0].key.removeprefix("up-"))
    at.button(key=f"down-{result}").click().run()
    thumb = Catalog.open(data).answers("ana")[-1]
    assert (thumb.kind, thumb.tracks, thumb.verdict) == ("thumb", (three, result), -1)
    assert any(c.value == "not like this 👎" for c in at.caption)


def test_answers_survive_a_restart_and_no_triplet_repeats(page, page_catalog):
    _, data = page_catalog
    seen = set()
    at = teach(page(data), "bo")
    for _ in range(6):
        triplet = shown_triplet(at)
        assert frozenset(triplet) not in seen
        seen.add(frozenset(triplet))
        at.button(key=f"odd-{triplet[0]}").click().run()
    again = teach(page(data), "bo")  # a new session: the answers are in the data directory
    assert frozenset(shown_triplet(again)) not in seen
    assert any("6 answer(s) from bo" in c.value for c in again.caption)
    assert len(Catalog.open(data).answers("bo")) == 6 and Catalog.open(data).answers("ana") == []


def test_without_a_name_nothing_is_asked(page, built_catalog):
    at = page(built_catalog[1])
    at.radio(key="view").set_value("Teach it your ears").run()
    assert shown_triplet(at) == () and any("Say who is listening" in c.value for c in at.caption)
    assert not [b for b in at.button if b.key and b.key.startswith("up-")]


def test_learn_from_the_answers_then_search_by_my_ears(page, tmp_path):
    """The learn button fits the listener's metric and says how it did; the sidebar's "My ears" then answers by
    it and the results say so."""
    import numpy as np

    from storage.search.request import SearchRequest
    from storage.search.service import SearchService
    from tests.learning_catalog import build, listener_by, write_catalog
    from tests.test_my_ears import answer_through_page, folders

    write_catalog(tmp_path / "catalog")
    build(tmp_path / "catalog", tmp_path / "data")
    catalog = Catalog.open(tmp_path / "data")
    answer_through_page(catalog, "ana", listener_by(folders(catalog)), np.random.default_rng(0))
    at = teach(page(tmp_path / "data"))
    assert not [t for t in at.toggle if t.key == "my_ears"]  # nothing learned yet
    at.button(key="learn").click().run()
    [said] = [s.value for s in at.success]
    assert "ana's ears for mule (version 1): 50 odd-one-out answer(s)" in said and "(learned); stretched" in said
    at.toggle(key="my_ears").set_value(True).run()
    assert any("Using ana's ears: learned from 50 answers, held-out agreement" in c.value for c in at.sidebar.caption)
    at = pick(at, "track001")
    assert any(c.value.startswith("Results by ana's ears (50 answers)") for c in at.caption)
    query = catalog.resolve("dry/track001.flac").id
    expected = SearchService(catalog.with_metric("ana")).by_track(query, SearchRequest(10)).neighbours
    shown = [int(b.key.removeprefix("up-")) for b in at.button if b.key and b.key.startswith("up-")]
    assert shown == [n.track.id for n in expected]
    at.button(key="radio").click().run()
    assert any(h.value == "Radio from track001 by ana's ears" for h in at.subheader)
