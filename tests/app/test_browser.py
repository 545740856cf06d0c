"""End to end in a real browser: the page served by `streamlit run app/server.py`, driven by Playwright.

Needs Debian's chromium (/usr/bin/chromium; `.ci/run` installs it). Saves a screenshot
to $SOUNDALIKE_TEST_ARTIFACTS (default test-artifacts/) for people to look at.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.settings import DEFAULT_PER_ALBUM, DEFAULT_PER_ARTIST
from storage.caps import Caps
from storage.catalog import Catalog
from tests.app.server_process import ROOT, http_get, serve_page

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
def served(built_catalog, tmp_path_factory):  # type: ignore[no-untyped-def]
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


def test_search_pick_listen_and_wander(served):  # type: ignore[no-untyped-def]
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
        shown = len(catalog.similar(catalog.resolve("bo/tides/01 ebb.aiff"), 10, caps=caps))
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
        expect(rows).to_have_count(len(catalog.similar(first_id, 10, caps=caps)))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "find-similar.png"), full_page=True)
        browser.close()


def test_audio_route_serves_only_catalog_tracks(served):  # type: ignore[no-untyped-def]
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
