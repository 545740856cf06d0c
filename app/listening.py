"""Listening tools under the results: play them all in order, take them away as M3U, and the query's
waveform with the region a passage search uses."""

from __future__ import annotations

import base64
import html
import json
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from app.display import m3u_text, track_label
from app.queries import Query
from app.settings import audio_url
from indexer.errors import IndexerError
from indexer.waveform import bytes_peaks, file_peaks
from storage.core.passages import clock
from storage.core.tracks import Neighbour, TrackInfo
from storage.read.catalog import Catalog

if TYPE_CHECKING:
    import plotly.graph_objects as go

# One <audio> element that walks the list: the next track starts when one ends (or fails to load).
PLAYER_SCRIPT = """
(() => {
  const root = document.getElementById(%(id)s);
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  const list = %(tracks)s;
  const audio = root.querySelector("audio"), now = root.querySelector(".play-all-now");
  let at = -1;
  const go = (n) => {
    if (n >= list.length) { now.textContent = "Finished the list."; return; }
    at = n;
    audio.src = list[n].src;
    now.textContent = `Playing ${n + 1} of ${list.length}: ${list[n].label}`;
    audio.play().catch(() => {});
  };
  root.querySelector(".play-all-start").addEventListener("click", () => go(0));
  root.querySelector(".play-all-next").addEventListener("click", () => go(at + 1));
  audio.addEventListener("ended", () => go(at + 1));
  audio.addEventListener("error", () => { if (at >= 0) go(at + 1); });
})();
"""


BUTTON_STYLE = (
    "padding:0.35rem 0.8rem;border-radius:0.5rem;border:1px solid rgba(128,128,128,0.45);"
    "background:transparent;color:inherit;font:inherit;cursor:pointer"
)


def play_all(tracks: list[TrackInfo], key: str) -> None:
    """Buttons that play `tracks` one after another in a single player (keyboard reachable)."""
    if not tracks:
        return
    element = f"play-all-{key}"
    listing = [{"src": audio_url(t.id), "label": track_label(t)} for t in tracks]
    script = PLAYER_SCRIPT % {"id": json.dumps(element), "tracks": json.dumps(listing)}
    st.html(
        f'<div id="{element}" class="play-all" role="group" aria-label="Play all results">'
        f'<button type="button" class="play-all-start" style="{BUTTON_STYLE}">Play all in order</button> '
        f'<button type="button" class="play-all-next" style="{BUTTON_STYLE}">Next</button> '
        '<span class="play-all-now" aria-live="polite"></span>'
        '<audio controls preload="none" style="width:100%;margin-top:4px" aria-label="Play all player"></audio>'
        f"</div><script>{script}</script>",
        unsafe_allow_javascript=True,
    )


def results_m3u(neighbours: list[Neighbour], query: Query) -> None:
    """The results (after the query track, when it is a catalog track) as an M3U playlist to download."""
    listed = ([query.track] if query.track is not None else []) + [n.track for n in neighbours]
    st.download_button(
        "Download these results (M3U)",
        m3u_text(listed),
        file_name="soundalike-results.m3u",
        mime="audio/x-mpegurl",
        key="results_m3u",
        help="The query and its results, in order, for any player (paths are the catalog's files).",
    )


@st.cache_data(show_spinner=False, max_entries=64)
def _track_peaks(path: str, mtime: float) -> np.ndarray | None:
    try:
        return file_peaks(path)
    except IndexerError:
        return None


@st.cache_data(show_spinner=False, max_entries=8)
def _upload_peaks(data: bytes, name: str) -> np.ndarray | None:
    try:
        return bytes_peaks(data, name)
    except IndexerError:
        return None


def query_peaks(catalog: Catalog, query: Query) -> np.ndarray | None:
    if query.track is not None:
        path = query.track.file
        try:
            return _track_peaks(str(path), path.stat().st_mtime)
        except OSError:
            return None
    assert query.upload is not None
    return _upload_peaks(query.upload.data, query.upload.name)


def waveform_html(levels: np.ndarray, duration: float, region: tuple[float, float] | None) -> str:
    """The query's waveform as bars, the searched region shaded: an SVG picture (st.html keeps no inline
    SVG), described in words for screen readers."""
    width, height = len(levels), 48
    bars = "".join(
        f'<rect x="{i}" y="{(1 - v) * height / 2:.1f}" width="0.8" height="{max(v * height, 0.5):.1f}"/>'
        for i, v in enumerate(levels.tolist())
    )
    shade = ""
    label = "waveform of the query"
    if region is not None and duration > 0:
        start, end = (width * min(1.0, t / duration) for t in region)
        shade = f'<rect class="region" x="{start:.1f}" y="0" width="{max(end - start, 1):.1f}" height="{height}" '
        shade += 'fill="rgba(255,75,75,0.35)"/>'
        label += f", region {clock(region[0])} to {clock(region[1])} selected"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" preserveAspectRatio="none">'
        f'{shade}<g fill="#8a8fa8">{bars}</g></svg>'
    )
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    return (
        f'<img class="query-waveform" src="{source}" alt="{html.escape(label)}" '
        f'style="width:100%;height:{height}px;display:block">'
    )


def waveform_figure(levels: np.ndarray, duration: float, region: tuple[float, float]) -> go.Figure:
    """The query's waveform to drag a region across (seconds on x), the chosen region shaded."""
    import plotly.graph_objects as go

    seconds = np.linspace(0, duration, len(levels))
    bars = {"type": "bar", "x": seconds, "y": levels, "marker": {"color": "#8a8fa8"}, "hoverinfo": "skip"}
    shade = {
        "type": "rect",
        "xref": "x",
        "yref": "paper",
        "x0": region[0],
        "x1": region[1],
        "y0": 0,
        "y1": 1,
        "fillcolor": "rgba(255,75,75,0.28)",
        "line": {"width": 0},
        "layer": "below",
    }
    layout = {
        "height": 110,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 24},
        "bargap": 0,
        "dragmode": "select",
        "selectdirection": "h",
        "showlegend": False,
        "xaxis": {"range": [0, duration], "fixedrange": True, "ticksuffix": " s"},
        "yaxis": {"visible": False, "fixedrange": True, "range": [0, 1.05]},
        "shapes": [shade],
    }
    return go.Figure(data=[bars], layout=layout, _validate=False)
