"""Words in a real browser (Playwright, Debian's chromium): a description typed into the page finds the tracks
the search service finds, and its moments play from where they start. The catalog: the page's, with a
random-weight CLAP built beside MULE (behaviour, not quality)."""

from __future__ import annotations

import pytest

from app.settings import DEFAULT_PER_ALBUM, DEFAULT_PER_ARTIST
from indexer.models.clap.testing import write_random_clap
from storage.read.catalog import Catalog
from storage.search.caps import Caps
from storage.search.request import SearchRequest
from storage.search.service import SearchService
from tests.app.conftest import served_copy_of
from tests.app.test_browser import CHROMIUM, CHROMIUM_ARGS, shot
from tests.app.test_page import build_beside


@pytest.fixture(scope="module")
def served_words(built_catalog, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")  # test_browser.py fails in CI without it
    root = tmp_path_factory.mktemp("words-page")

    def with_clap(catalog_dir, data):
        build_beside(catalog_dir, data, "clap", write_random_clap(root / "clap", "small", seed=9))

    with served_copy_of(built_catalog, root, with_clap) as served:
        yield served


def test_describe_then_hear_the_moments(served_words):
    from playwright.sync_api import expect, sync_playwright

    from indexer.query_text import text_query

    url, data = served_words
    clap = Catalog.open(data, "clap")
    words = "calm piano with rain"
    request = SearchRequest(10, caps=Caps(DEFAULT_PER_ARTIST, DEFAULT_PER_ALBUM))  # the page's defaults
    expected = SearchService(clap).by_text(text_query(clap, words), request).neighbours
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        page.goto(url)
        page.get_by_text("Or describe what you want to hear").click()
        page.get_by_role("textbox", name="Describe what you want to hear").fill(words)
        page.keyboard.press("Enter")
        rows = page.locator("[class*='st-key-neighbour-']")
        expect(rows).to_have_count(len(expected), timeout=60_000)
        expect(page.locator(".st-key-query-card")).to_contain_text(f"“{words}”")
        for i, n in enumerate(expected):
            expect(rows.nth(i).locator("audio").first).to_have_attribute("src", f"/soundalike/audio/{n.track.id}")

        page.get_by_text("Find moments, not whole tracks").click()
        players = page.locator("[class*='st-key-neighbour-'] audio[src*='#t=']")
        expect(players.first).to_be_visible(timeout=60_000)
        expect(rows.first).to_contain_text("fits the words")
        player = players.first
        start = float(player.get_attribute("src").split("#t=")[1])
        position = player.evaluate(
            "a => new Promise(done => { a.onloadedmetadata = () => done(a.currentTime);"
            " a.onerror = () => done(-1); a.preload = 'auto'; a.load(); })"
        )
        assert position == pytest.approx(start, abs=0.05)
        shot(page, "describe-moments")
        browser.close()
