"""The page's ways in and listening tools, with AppTest: landing, browse, map, covers, play all, M3U,
the query's waveform. Each state of the page is run against a really indexed catalog."""

from __future__ import annotations

import base64
import json
import re

from app.display import m3u_text
from app.map_view import MAP_KEY
from storage.read.catalog import Catalog
from storage.search import browse
from tests.app.catalog_builder import TRACKS
from tests.app.test_page import neighbour_ids, pick


def buttons(at, prefix: str) -> list[int]:
    return [int(b.key.removeprefix(prefix)) for b in at.button if b.key and re.fullmatch(prefix + r"\d+", b.key)]


def html_bodies(at) -> list[str]:
    return [h.proto.body for h in at.html]


def test_landing_invites_before_any_search(page, built_catalog):
    _, data = built_catalog
    at = page(data)
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tracks"] == str(len(TRACKS)) and metrics["Artists"] == "3" and metrics["Albums"] == "4"
    assert metrics["Playing time"].endswith("min")
    assert "Models built: mule" in " ".join(c.value for c in at.caption)
    picks = buttons(at, "pick-")
    assert len(picks) == 6 and len(set(picks)) == 6
    assert buttons(at, "recent-") == sorted((t.id for t in Catalog.open(data).all_tracks()), reverse=True)[:6]
    # Every card shows its cover from the cover route, by id, described for screen readers.
    covers = [b for b in html_bodies(at) if 'class="cover"' in b]
    assert len(covers) == 12 and all(re.search(r'src="/soundalike/cover/\d+" alt="Cover of ', b) for b in covers)
    at.checkbox(key="exclude_artist").check().run()  # any rerun keeps the same picks
    assert buttons(at, "pick-") == picks
    at.button(key="shuffle").click().run()
    assert buttons(at, "pick-") != picks
    # A pick becomes the query.
    chosen = buttons(at, "pick-")[0]
    at.button(key=f"pick-{chosen}").click().run()
    assert at.query_params["track"] == str(chosen) and len(neighbour_ids(at)) > 0
    assert not any(c.value.startswith("Search, browse") for c in at.caption)


def test_surprise_me_makes_a_random_track_the_query(page, built_catalog):
    _, data = built_catalog
    at = page(data)
    at.button(key="surprise").click().run()
    chosen = int(at.query_params["track"])
    assert chosen in {t.id for t in Catalog.open(data).all_tracks()}
    assert chosen not in neighbour_ids(at) and neighbour_ids(at)
    assert at.expander, "with a query, the landing folds away above the results"


def test_browse_artist_then_album_then_track(page, built_catalog):
    _, data = built_catalog
    at = page(data)
    at.radio(key="view").set_value("Browse").run()
    assert at.selectbox(key="browse_artist").options == ["Ana Lune (4)", "Bo Marsh (3)", "Cy Okafor (5)"]
    at.selectbox(key="browse_artist").set_value("Ana Lune").run()
    assert at.selectbox(key="browse_album").options == ["First Light (2)", "Second Sky (2)"]
    at.selectbox(key="browse_album").set_value("Second Sky").run()
    catalog = Catalog.open(data)
    dusk, night = (catalog.resolve(p).id for p in ("ana/second/01 dusk.ogg", "ana/second/02 night.wav"))
    assert buttons(at, "browse-") == [dusk, night]
    at.button(key=f"browse-{night}").click().run()
    assert at.query_params["track"] == str(night) and night not in neighbour_ids(at)


def test_map_shows_every_track_and_marks_the_query_and_its_neighbours(page, built_catalog):
    _, data = built_catalog
    at = pick(page(data), "bo tides")
    at.radio(key="view").set_value("Map").run()
    assert not at.exception
    chart = next(c for c in at.get("plotly_chart") if c.proto.id and MAP_KEY in c.proto.id)
    figure = json.loads(chart.proto.spec)
    tracks, marked = figure["data"]
    assert tracks["type"] == "scattergl" and len(tracks["hovertext"]) == len(TRACKS)
    catalog = Catalog.open(data)
    query = int(at.query_params["track"])
    points = browse.map_points(catalog)
    assert "Bo Marsh – Ebb" in tracks["hovertext"]
    # The marked points: each neighbour (a ring), then the query (a star), where the map puts them.
    neighbours = neighbour_ids(at)
    assert marked["marker"]["symbol"] == ["circle-open"] * len(neighbours) + ["star"]
    assert len(marked["hovertext"]) == len(neighbours) + 1
    assert marked["hovertext"][-1] == points.labels[points.ids.tolist().index(query)]
    assert at.selectbox(key="map_colour").options == ["artist", "album", "folder"]  # no genres or styles here
    assert any("map-legend" in b and "Ana Lune (4)" in b for b in html_bodies(at))
    at.selectbox(key="map_colour").set_value("album").run()
    assert any("First Light (2)" in b for b in html_bodies(at))


def test_an_index_without_a_map_says_how_to_get_one(page, page_catalog):
    _, data = page_catalog
    catalog = Catalog.open(data)
    (catalog.index().directory / "map.npy").unlink()
    at = page(data)
    at.radio(key="view").set_value("Map").run()
    assert "computes the map with the index" in " ".join(i.value for i in at.info)


def test_results_come_with_covers_play_all_an_m3u_and_the_waveform(page, built_catalog):
    _, data = built_catalog
    at = pick(page(data), "ana first")
    ids = neighbour_ids(at)
    bodies = html_bodies(at)
    query = int(at.query_params["track"])
    shown_covers = [int(i) for b in bodies for i in re.findall(r'class="cover" src="/soundalike/cover/(\d+)"', b)]
    assert shown_covers[-len(ids) - 1 :] == [query, *ids]  # the query's card, then each result's
    # Play all: one player walking the results in order.
    player = next(b for b in bodies if 'class="play-all"' in b)
    listed = json.loads(re.search(r"const list = (\[.*?\]);", player).group(1))
    assert [item["src"] for item in listed] == [f"/soundalike/audio/{i}" for i in ids]
    assert 'aria-label="Play all results"' in player
    # The results as M3U: the query first, then each result, in order.
    catalog = Catalog.open(data)

    download = next(d for d in at.get("download_button") if d.proto.id and "results_m3u" in d.proto.id)
    assert download.proto.label == "Download these results (M3U)"
    expected = m3u_text([catalog.track(i) for i in [query, *ids]])
    assert expected.count("#EXTINF") == len(ids) + 1
    # The query's waveform; searching by passage, it becomes a chart to drag the region across, shaded.
    waveform = waveform_picture(html_bodies(at))
    assert waveform.count("<rect") > 100 and 'class="region"' not in waveform
    at.toggle(key="by_passage").set_value(True).run()
    query_key = f"track-{query}"
    chart = next(c for c in at.get("plotly_chart") if c.proto.id and f"wave-{query_key}" in c.proto.id)
    spec = json.loads(chart.proto.spec)
    assert spec["layout"]["dragmode"] == "select" and len(spec["data"][0]["y"]["bdata"]) > 0
    assert (spec["layout"]["shapes"][0]["x0"], spec["layout"]["shapes"][0]["x1"]) == (0, 4)
    assert not any('class="query-waveform"' in b for b in html_bodies(at))  # one waveform at a time


def test_a_drag_across_the_waveform_sets_the_region(monkeypatch):
    """What the chart reports for a box dragged from 1.2 s to 2.6 s (or backwards, or past either end)."""
    import app.views as views

    for box, expected in (([1.2, 2.6], (1, 3)), ([6.4, 2.2], (2, 6)), ([-3, 0.1], (0, 1)), ([7.7, 99], (8, 9))):
        state = {"wave": {"selection": {"box": [{"x": box, "y": [0, 1]}], "points": []}}}
        monkeypatch.setattr(views.st, "session_state", state)
        views.region_from_drag("wave", "region", 9)
        assert state["region"] == expected, box
    state = {"wave": {"selection": {"box": [], "points": []}}, "region": (0, 4)}
    monkeypatch.setattr(views.st, "session_state", state)
    views.region_from_drag("wave", "region", 9)
    assert state["region"] == (0, 4)  # a click without a drag changes nothing


def waveform_picture(bodies: list[str]) -> str:
    """The SVG inside the query's waveform picture."""
    body = next(b for b in bodies if 'class="query-waveform"' in b)
    found = re.search(r"base64,([^\"]+)", body)
    assert found is not None
    return base64.b64decode(found.group(1)).decode()
