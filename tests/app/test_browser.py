"""End to end in a real browser: the page served by `streamlit run app/server.py`, driven by Playwright.

Needs Debian's chromium (/usr/bin/chromium; `.ci/run` installs it). Saves a screenshot
to $SOUNDALIKE_TEST_ARTIFACTS (default test-artifacts/) for people to look at.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

from app.settings import DEFAULT_PER_ALBUM, DEFAULT_PER_ARTIST
from storage.read.catalog import Catalog
from storage.search.caps import Caps
from tests.app.server_process import ROOT, http_get, serve_page
from tests.search_helpers import similar

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("SOUNDALIKE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
# No background traffic: this machine's network is closed and Chromium would keep trying.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
# What each served format starts with.
MAGIC = {b"fLaC": "flac", b"ID3": "mp3", b"\xff\xfb": "mp3", b"\xff\xf3": "mp3", b"RIFF": "wav", b"OggS": "ogg"}


@pytest.fixture(scope="module")
def served(built_catalog, tmp_path_factory):
    """The app served on a free localhost port over the built catalog: yields (base url, data dir)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("Debian chromium not installed")
    _, data = built_catalog
    command = [sys.executable, "-m", "streamlit", "run", "app/server.py"]
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    with serve_page(command, {"SOUNDALIKE_DATA": str(data), "SOUNDALIKE_DB_URL": ""}, log) as url:
        yield url, data


def test_search_pick_listen_and_wander(served):
    from playwright.sync_api import expect, sync_playwright

    url, data = served
    catalog = Catalog.open(data)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        page.goto(url)
        page.get_by_label("Search title, artist, album or file name").fill("bo tides")
        page.keyboard.press("Enter")
        page.locator("[data-testid=stSelectbox]").click()
        page.get_by_role("option", name="Bo Marsh – Ebb · Tides · 0:08").click()

        # The page's default caps (3 per artist, 2 per album) on a catalog of 3 artists.
        caps = Caps(DEFAULT_PER_ARTIST, DEFAULT_PER_ALBUM)
        shown = len(similar(catalog, catalog.resolve("bo/tides/01 ebb.aiff"), 10, caps=caps))
        rows = page.locator("[class*='st-key-neighbour-']")
        expect(rows).to_have_count(shown, timeout=30_000)
        expect(page.locator(".st-key-query-card")).to_contain_text("Ebb")
        for i in range(shown):
            audio = rows.nth(i).locator("audio:not([src*='#t='])")  # the track's own player
            expect(audio).to_have_count(1)
            source = audio.get_attribute("src")
            reply = page.request.get(url + source)
            assert reply.ok and reply.headers["content-type"].startswith("audio/"), (source, reply.status)
            body = reply.body()
            assert len(body) > 10_000
            assert any(body.startswith(m) for m in MAGIC) or body[4:8] == b"ftyp", (source, body[:12])
            # The browser itself decodes it: metadata loads and the duration is the track's.
            duration = audio.evaluate(
                "a => new Promise(done => { a.onloadedmetadata = () => done(a.duration);"
                " a.onerror = () => done(-1); a.preload = 'auto'; a.load(); })"
            )
            track = catalog.track(int(source.rsplit("/", 1)[1]))
            assert duration == pytest.approx(track.duration, abs=0.2), (track.path, duration)

        # Each result's passage players start where the matched passage does, on each side.
        passage_players = rows.nth(0).locator("audio[src*='#t=']")
        expect(passage_players).to_have_count(2)
        for k in range(2):
            player = passage_players.nth(k)
            start = float(player.get_attribute("src").split("#t=")[1])
            position = player.evaluate(
                "a => new Promise(done => { a.onloadedmetadata = () => done(a.currentTime);"
                " a.onerror = () => done(-1); a.preload = 'auto'; a.load(); })"
            )
            assert position == pytest.approx(start, abs=0.05), (player.get_attribute("src"), position)
        expect(rows.nth(0)).to_contain_text("in the query")

        # The aiff query track plays as MP3 transcoded on the fly.
        ebb = catalog.resolve("bo/tides/01 ebb.aiff")
        query_audio = page.locator(".st-key-query-card audio")
        reply = page.request.get(url + query_audio.get_attribute("src"))
        assert reply.headers["content-type"] == "audio/mpeg" and reply.body()[:3] == b"ID3"
        assert query_audio.get_attribute("src") == f"/soundalike/audio/{ebb.id}"

        # Wander: the first neighbour becomes the query.
        first = rows.nth(0)
        first_id = int(first.locator("audio:not([src*='#t='])").get_attribute("src").rsplit("/", 1)[1])
        first.get_by_role("button", name="Find similar").click()
        expect(page.locator(".st-key-query-card")).to_contain_text(catalog.track(first_id).title, timeout=30_000)
        expect(page).to_have_url(f"{url}/?track={first_id}")
        expect(rows).to_have_count(len(similar(catalog, first_id, 10, caps=caps)))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "find-similar.png"), full_page=True)
        browser.close()


def test_audio_route_serves_only_catalog_tracks(served):
    url, data = served
    catalog = Catalog.open(data)

    def get(path: str, headers: dict | None = None) -> tuple[int, str, bytes]:
        return http_get(url + path, headers)

    status, _, body = get("/soundalike/audio/999999")
    assert status == 404 and b"no track" in body
    for sneaky in ("/soundalike/audio/..%2F..%2Fetc%2Fpasswd", "/soundalike/audio/%2Fetc%2Fpasswd"):
        status, kind, body = get(sneaky)
        assert b"root:" not in body and not (kind or "").startswith("audio/")
    morning = catalog.resolve("ana/first/01 morning.flac")
    status, kind, body = get(f"/soundalike/audio/{morning.id}", {"Range": "bytes=0-99"})
    assert status == 206 and kind == "audio/flac" and body[:4] == b"fLaC" and len(body) == 100


# Where a track's point is on screen: the map's own axes turn its coordinates into pixels.
POINT_ON_SCREEN = """(id) => {
  const gd = document.querySelector('.js-plotly-plot');
  const trace = gd._fullData[0], layout = gd._fullLayout, box = gd.getBoundingClientRect();
  const i = Array.from(trace.customdata).indexOf(id);
  if (i < 0) return null;
  return [box.left + layout._size.l + layout.xaxis.l2p(trace.x[i]),
          box.top + layout._size.t + layout.yaxis.l2p(trace.y[i])];
}"""
# Where a time (seconds) of the query's waveform is on screen, halfway up the chart.
SECONDS_ON_SCREEN = """([selector, seconds]) => {
  const gd = document.querySelector(selector), layout = gd._fullLayout, box = gd.getBoundingClientRect();
  return [box.left + layout._size.l + layout.xaxis.l2p(seconds), box.top + layout._size.t + layout._size.h / 2];
}"""
UNLABELLED_CONTROLS = """() => Array.from(document.querySelectorAll(
    'button, input, select, textarea, [role=slider], [role=combobox], [role=switch], audio'))
  .filter(el => el.offsetParent !== null && el.type !== 'file')
  .filter(el => !(el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.getAttribute('title')
                  || (el.labels && el.labels.length) || el.textContent.trim()))
  .map(el => el.outerHTML.slice(0, 120))"""


def drag_across(page, wave: str, seconds: tuple[float, float], shows, attempts: int = 3) -> None:
    """Drag across a plotly waveform from one time to another until `shows` is visible. A drag measured while
    Streamlit is still laying the page out (the rerun after the toggle) can land beside the chart and be
    lost, as it is for a person, who drags again: so does this, at most `attempts` times."""
    from playwright.sync_api import expect

    for _ in range(attempts):
        page.locator(wave).scroll_into_view_if_needed()  # mouse events outside the viewport reach nothing
        page.wait_for_function(f"() => document.querySelector('{wave}')?._fullLayout?._size")
        (x1, y), (x2, _) = (page.evaluate(SECONDS_ON_SCREEN, [wave, t]) for t in seconds)
        page.mouse.move(x1, y)
        page.mouse.down()
        page.mouse.move((x1 + x2) / 2, y, steps=4)
        page.mouse.move(x2, y, steps=4)
        page.mouse.up()
        try:
            expect(shows).to_be_visible(timeout=10_000)
            return
        except AssertionError:
            continue
    pytest.fail(f"{attempts} drags across {wave} did not choose {seconds}")


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_landing_covers_map_and_listening_tools(served):
    from playwright.sync_api import expect, sync_playwright

    url, data = served
    catalog = Catalog.open(data)
    timings: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.goto(url)

        # The landing: the catalog in figures, random picks with their covers, recently added.
        expect(page.get_by_text("Random picks")).to_be_visible(timeout=30_000)
        expect(page.locator("[data-testid=stMetricValue]").first).to_have_text(str(len(catalog.all_tracks())))
        picks = page.locator("[class*='st-key-pick-card-']")
        expect(picks).to_have_count(6)
        covers = page.locator("img.cover")
        expect(covers).to_have_count(12)
        covers.last.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => Array.from(document.querySelectorAll('img.cover')).every(i => i.naturalWidth > 0)"
        )
        timings["first_contentful_paint_ms"] = page.evaluate(
            "() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"
        )
        assert page.evaluate(UNLABELLED_CONTROLS) == []
        shot(page, "landing")

        # Keyboard only: Tab to "Surprise me", Enter: a random track becomes the query.
        for _ in range(40):
            page.keyboard.press("Tab")
            focused = "document.activeElement"
            if page.evaluate(f"() => {focused}.tagName === 'BUTTON' && {focused}.textContent.includes('Surprise me')"):
                break
        else:
            pytest.fail("Surprise me is not reachable with Tab")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"\?track=\d+$"), timeout=30_000)
        expect(page.locator("[class*='st-key-neighbour-']").first).to_be_visible(timeout=30_000)

        # The map: a WebGL canvas with every track; a click on a point makes it the query.
        page.get_by_text("Map", exact=True).click()
        started = time.perf_counter()
        expect(page.locator(".js-plotly-plot canvas").first).to_be_visible(timeout=30_000)
        page.wait_for_function("() => document.querySelector('.js-plotly-plot')?._fullLayout?._size")
        timings["map_render_ms"] = (time.perf_counter() - started) * 1000
        target = catalog.resolve("cy/solo/04 four.ogg")
        x, y = page.evaluate(POINT_ON_SCREEN, target.id)
        page.mouse.click(x, y)
        expect(page).to_have_url(f"{url}/?track={target.id}", timeout=30_000)
        expect(page.locator(".st-key-query-card")).to_contain_text("Four")
        shot(page, "map")

        # Results: covers by id, a passage player that starts at its passage, the results as M3U.
        rows = page.locator("[class*='st-key-neighbour-']")
        expect(rows.first).to_be_visible(timeout=30_000)
        passage = rows.nth(0).locator("audio[src*='#t=']").first
        start = float(passage.get_attribute("src").split("#t=")[1])
        position = passage.evaluate(
            "a => new Promise(done => { a.muted = true; a.onplaying = () => done(a.currentTime);"
            " a.onerror = () => done(-1); a.play().catch(() => done(-2)); })"
        )
        assert start <= position < start + 1.0, (start, position)
        with page.expect_download() as download:
            page.get_by_role("button", name="Download these results (M3U)").click()
        lines = Path(download.value.path()).read_text().splitlines()
        files = [line for line in lines if line and not line.startswith("#")]
        shown = [int(r.locator("audio:not([src*='#t='])").get_attribute("src").rsplit("/", 1)[1]) for r in rows.all()]
        assert lines[0] == "#EXTM3U" and files == [str(catalog.track(i).file) for i in [target.id, *shown]]
        waveform = page.locator("img.query-waveform")
        expect(waveform).to_have_count(1)
        assert waveform.evaluate("i => i.complete && i.naturalWidth > 0")
        assert page.evaluate(UNLABELLED_CONTROLS) == []
        shot(page, "results")

        # Search by passage: drag across the query's waveform from 1 s to 3 s: that region is searched.
        page.get_by_text("Search by passage").click()
        wave = ".st-key-passage-search .js-plotly-plot"
        expect(page.locator(wave)).to_be_visible(timeout=30_000)
        # By passage the picker draws the query's waveform, not the card: once the card's is gone the layout
        # is still (a drag measured before it went would land 64 px low, on the axis, and be lost).
        expect(page.locator("img.query-waveform")).to_have_count(0, timeout=30_000)
        drag_across(page, wave, (1.0, 3.0), page.get_by_text("searching with 0:01–0:03 of the query"))
        expect(page.get_by_text(re.compile(r"nearest passages to 0:01–0:03"))).to_be_visible(timeout=30_000)
        shot(page, "passage-search")

        # Browse: artist, album, track.
        page.get_by_text("Browse", exact=True).click()
        page.get_by_label(re.compile(r"^Artist")).click()
        page.get_by_role("option", name="Bo Marsh (3)").click()
        expect(page.locator("[class*='st-key-browse-row-']")).to_have_count(3, timeout=30_000)
        shot(page, "browse")

        # A phone: one column, nothing wider than the screen.
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        phone.goto(f"{url}/?track={target.id}")
        expect(phone.locator(".st-key-query-card")).to_contain_text("Four", timeout=30_000)
        expect(phone.locator("[class*='st-key-neighbour-']").first).to_be_visible(timeout=30_000)
        phone.wait_for_load_state("networkidle")
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
        shot(phone, "phone")
        browser.close()
    (ARTIFACTS / "page-timings.json").write_text(json.dumps(timings, indent=1))
    print("page timings (12 tracks):", timings)


def test_cover_art_served_by_id_only(served):
    import io

    from PIL import Image

    from tests.app.catalog_builder import EMBEDDED_COVER, FOLDER_COVER

    url, data = served
    catalog = Catalog.open(data)
    for relative, colour in (("ana/first/02 noon.mp3", FOLDER_COVER[1]), (EMBEDDED_COVER[0], EMBEDDED_COVER[1])):
        status, kind, body = http_get(f"{url}/soundalike/cover/{catalog.resolve(relative).id}")
        assert status == 200 and kind == "image/jpeg", relative
        with Image.open(io.BytesIO(body)) as image:
            pixel = image.getpixel((10, 10))
            assert max(image.size) <= 320 and all(abs(a - b) < 12 for a, b in zip(pixel, colour, strict=True))
    status, kind, body = http_get(f"{url}/soundalike/cover/{catalog.resolve('cy/solo/01 one.mp3').id}")
    assert status == 200 and kind.startswith("image/svg+xml") and b"no cover art" in body  # the placeholder
    status, _, body = http_get(f"{url}/soundalike/cover/999999")
    assert status == 404 and b"no track" in body
    for sneaky in ("/soundalike/cover/..%2F..%2Fetc%2Fpasswd", "/soundalike/cover/-1"):
        status, kind, body = http_get(url + sneaky)
        assert not kind.startswith("image/") and b"<svg" not in body  # no cover, no placeholder: no track
