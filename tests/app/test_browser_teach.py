""" "Teach it your ears" in a real browser (Playwright, Debian's chromium): name, play a track of the triplet
from its representative passage, pick the odd one out, and the next triplet comes; the answer is in the data
directory."""

from __future__ import annotations

import pytest

from storage.read.catalog import Catalog
from tests.app.conftest import served_copy_of
from tests.app.test_browser import CHROMIUM, CHROMIUM_ARGS, shot


@pytest.fixture(scope="module")
def served_copy(built_catalog, tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed")  # test_browser.py fails in CI without it
    with served_copy_of(built_catalog, tmp_path_factory.mktemp("teach-page")) as served:
        yield served


def test_play_answer_next(served_copy):
    from playwright.sync_api import expect, sync_playwright

    url, data = served_copy
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.goto(url)
        page.get_by_text("Teach it your ears").click()
        page.get_by_role("textbox", name="Your name").fill("ana")
        page.keyboard.press("Enter")
        cards = page.locator("[class*='st-key-teach-']")
        expect(cards).to_have_count(3, timeout=30_000)
        first = [int(c.split("teach-")[1].split()[0]) for c in _classes(cards)]  # in the order shown
        player = cards.nth(0).locator("audio")
        start = float(player.get_attribute("src").split("#t=")[1])
        position = player.evaluate(
            "a => new Promise(done => { a.onloadedmetadata = () => done(a.currentTime);"
            " a.onerror = () => done(-1); a.preload = 'auto'; a.load(); })"
        )
        assert position == pytest.approx(start, abs=0.05)  # it plays from the representative passage
        cards.nth(1).get_by_role("button", name="Odd one out").click()
        expect(page.get_by_text("1 answer(s) from ana")).to_be_visible(timeout=30_000)
        expect(cards).to_have_count(3)
        second = [int(c.split("teach-")[1].split()[0]) for c in _classes(cards)]
        assert set(second) != set(first)
        [answer] = Catalog.open(data).answers("ana")
        assert answer.tracks == tuple(first) and answer.odd == first[1]
        shot(page, "teach-it-your-ears")
        browser.close()


def _classes(cards) -> list[str]:
    return [cards.nth(i).get_attribute("class") for i in range(cards.count())]
