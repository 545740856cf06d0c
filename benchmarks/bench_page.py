"""The page in a real browser at catalog scale: first paint of the landing, the map's render, how smoothly
it pans, and the map drawn again (its data cached on the server), at --tracks against a --baseline-tracks
catalog measured in the same run.

Catalogs: synthetic clustered 1728-d tracks (as bench_search.py) in real data directories, indexed with
their map. The page runs as users run it (`streamlit run app/server.py`), driven by Debian's chromium
(software WebGL: a GPU makes it faster still).

    python benchmarks/bench_page.py [--tracks 100000] [--baseline-tracks 1000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import clustered, fill_store  # noqa: E402

from tests.app.server_process import serve_page  # noqa: E402
from tests.app.test_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

MAP_DRAWN = "() => { const gd = document.querySelector('.js-plotly-plot'); return gd && gd._fullLayout && gd.querySelector('canvas'); }"  # noqa: E501
# Frames the browser draws while the map is dragged for a second and a half.
COUNT_FRAMES = """() => new Promise(done => { let frames = 0; const start = performance.now();
  const tick = (now) => { frames++; if (now - start < 1500) requestAnimationFrame(tick);
                          else done(frames / ((now - start) / 1000)); };
  requestAnimationFrame(tick); })"""


def measure(data: Path, log: Path, screenshot: Path | None = None) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    command = [sys.executable, "-m", "streamlit", "run", "app/server.py"]
    with (
        serve_page(command, {"SOUNDALIKE_DATA": str(data), "SOUNDALIKE_DB_URL": ""}, log) as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto(url)  # warm: the server's caches load once per process, as for a user's second visit
        page.get_by_text("Random picks").wait_for(timeout=120_000)
        page.goto(url)
        page.get_by_text("Random picks").wait_for(timeout=120_000)
        paint = page.evaluate("() => performance.getEntriesByName('first-contentful-paint')[0].startTime")
        started = time.perf_counter()
        page.get_by_text("Map", exact=True).click()
        page.wait_for_function(MAP_DRAWN, timeout=300_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        render = (time.perf_counter() - started) * 1000
        box = page.locator(".js-plotly-plot").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        fps = page.evaluate_handle(COUNT_FRAMES)
        for step in range(30):
            page.mouse.move(x + 8 * step, y + 3 * step)
            page.wait_for_timeout(50)
        page.mouse.up()
        frames = fps.json_value()
        page.get_by_text("Discover", exact=True).click()  # away and back: the map drawn again, warm
        page.get_by_text("Random picks").wait_for(timeout=120_000)
        started = time.perf_counter()
        page.get_by_text("Map", exact=True).click()
        page.wait_for_function(MAP_DRAWN, timeout=300_000)
        page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        again = (time.perf_counter() - started) * 1000
        if screenshot is not None:
            page.locator(".st-key-explore").screenshot(path=str(screenshot))
        browser.close()
    return {"first paint ms": paint, "map render ms": render, "map again ms": again, "pan fps": frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--baseline-tracks", type=int, default=1000)
    parser.add_argument("--screenshot", type=Path, help="save the large catalog's map here (PNG)")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (args.baseline_tracks, args.tracks):
            data = Path(tmp) / f"catalog-{n}" / "data"
            started = time.perf_counter()
            fill_store(data, clustered(n))
            print(f"{n:,} tracks stored and indexed with their map in {time.perf_counter() - started:.0f} s")
            shot = args.screenshot if n == args.tracks else None
            results[n] = measure(data, Path(tmp) / f"streamlit-{n}.log", shot)
            print(f"{n:>9,} tracks: " + ", ".join(f"{k} {v:,.0f}" for k, v in results[n].items()))
    base, big = results[args.baseline_tracks], results[args.tracks]
    ratios = ", ".join(f"{k} {big[k] / base[k]:.2f}x" for k in big)
    print(f"{args.tracks:,} / {args.baseline_tracks:,} tracks: {ratios}")


if __name__ == "__main__":
    main()
