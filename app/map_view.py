"""The catalog map: every track a point (one WebGL scatter), coloured by a tag, the query and its neighbours
marked; a click on a point makes it the query."""

from __future__ import annotations

import html
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from app.landing import choose
from storage.core.errors import SoundalikeError
from storage.read.catalog import Catalog

if TYPE_CHECKING:
    import plotly.graph_objects as go
from storage.search import browse

MAP_KEY = "catalog_map"
NAMED_GROUPS = 10  # the most common groups get their own colour; the rest share OTHER
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
]  # fmt: skip
OTHER = "#6b7085"
QUERY_COLOUR = "#ffb000"  # amber: seen on light and dark themes alike
NEIGHBOUR_COLOUR = "#ff4b4b"


@st.cache_resource(show_spinner="Reading the map…", max_entries=4)
def cached_points(data_dir: str, model: str, build: str) -> browse.MapPoints | None:
    """The map of one index build (its name is part of the key: a new build, a new map)."""
    catalog = Catalog.open(data_dir, model)
    return browse.map_points(catalog, browse.tagging_catalog(catalog))


def colours(groups: list[str]) -> tuple[np.ndarray, list[tuple[str, str, int]]]:
    """Each point's colour as a code into COLOUR_SCALE (the browser gets one byte a point, not a string),
    and the legend: (group, colour, count) of the named groups."""
    counts = Counter(g for g in groups if g)
    named = {group: i for i, (group, _) in enumerate(counts.most_common(NAMED_GROUPS))}
    legend = [(group, PALETTE[i], counts[group]) for group, i in named.items()]
    return np.array([named.get(g, NAMED_GROUPS) for g in groups], dtype=np.uint8), legend


def _colour_scale() -> list[tuple[float, str]]:
    """Code i (0..NAMED_GROUPS) -> PALETTE[i], the last (others) -> OTHER: one flat step per code."""
    steps = [*PALETTE[:NAMED_GROUPS], OTHER]
    scale = []
    for i, colour in enumerate(steps):
        scale += [(i / len(steps), colour), ((i + 1) / len(steps), colour)]
    return scale


COLOUR_SCALE = _colour_scale()


def on_click() -> None:
    """A point was clicked: its track becomes the query."""
    selection = st.session_state.get(MAP_KEY)
    points = (selection or {}).get("selection", {}).get("points", []) if selection else []
    if points and points[0].get("customdata") is not None:
        choose(int(_first(points[0]["customdata"])))


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list | tuple) else value


def show_map(catalog: Catalog, query_id: int | None, neighbour_ids: list[int]) -> None:
    try:
        points = cached_points(str(catalog.data_dir), catalog.model, catalog.index().name)
    except SoundalikeError as exc:
        st.warning(str(exc))
        return
    if points is None:
        st.info(
            "This index was built before maps existed: `indexer build CATALOG_DIR` (or "
            "`python -m storage.query --rebuild-index`) computes the map with the index."
        )
        return
    available = [name for name in browse.MAP_COLOURINGS if any(points.groups[name])]
    colour_by = st.selectbox("Colour by", available or ["artist"], key="map_colour")
    codes, legend = colours(points.groups.get(colour_by, [""] * len(points.ids)))
    st.plotly_chart(
        figure(points, codes, query_id, neighbour_ids),
        key=MAP_KEY,
        on_select=on_click,
        selection_mode="points",
        config={"scrollZoom": True, "displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
        alt=f"Map of {len(points.ids):,} tracks, alike tracks close together",
    )
    st.html(legend_html(legend, colour_by))
    st.caption(
        f"{len(points.ids):,} tracks; alike tracks lie close together. Hover for a title, click a point to make "
        "it the query (amber star: the query, red rings: its neighbours). Scroll to zoom, drag to pan. "
        "Without a mouse, Search and Browse reach the same tracks."
    )


def figure(points: browse.MapPoints, codes: np.ndarray, query_id: int | None, neighbour_ids: list[int]) -> go.Figure:
    """The map as one WebGL scatter, plus a small one for the query and its neighbours. Built from plain
    dicts without plotly's validation: at 100k points validation alone took 1.9 s a rerun."""
    import plotly.graph_objects as go

    size = 6 if len(points.ids) < 5_000 else 4 if len(points.ids) < 50_000 else 3
    tracks = {
        "type": "scattergl",
        "x": points.x,
        "y": points.y,
        "mode": "markers",
        "marker": {
            "size": size,
            "color": codes,
            "colorscale": COLOUR_SCALE,
            "cmin": -0.5,
            "cmax": NAMED_GROUPS + 0.5,
            "opacity": 0.85,
        },
        "selected": {"marker": {"opacity": 0.85}},  # a click picks a query: it must not dim the rest
        "unselected": {"marker": {"opacity": 0.85}},
        "customdata": _compact(points.ids),
        "hovertext": points.labels,
        "hoverinfo": "text",
        "name": "tracks",
    }
    data = [tracks]
    rows = {int(i): r for r, i in enumerate(points.ids.tolist())}
    marked = [(rows[i], NEIGHBOUR_COLOUR, 11, "circle-open") for i in neighbour_ids if i in rows]
    if query_id is not None and query_id in rows:
        marked.append((rows[query_id], QUERY_COLOUR, 16, "star"))
    if marked:
        at = np.array([m[0] for m in marked])
        colour = [m[1] for m in marked]
        data.append(
            {
                "type": "scattergl",
                "x": points.x[at],
                "y": points.y[at],
                "mode": "markers",
                "marker": {
                    "size": [m[2] for m in marked],
                    "color": colour,
                    "symbol": [m[3] for m in marked],
                    "line": {"width": 2, "color": colour},
                },
                "selected": {"marker": {"opacity": 1.0}},
                "unselected": {"marker": {"opacity": 1.0}},
                "customdata": _compact(points.ids[at]),
                "hovertext": [points.labels[r] for r in at.tolist()],
                "hoverinfo": "text",
                "name": "query and neighbours",
            }
        )
    layout = {
        "height": 560,
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
        "showlegend": False,
        "dragmode": "pan",
        "clickmode": "event+select",
        "hovermode": "closest",
        "xaxis": {"visible": False},
        "yaxis": {"visible": False, "scaleanchor": "x"},
    }
    return go.Figure(data=data, layout=layout, _validate=False)


def _compact(ids: np.ndarray) -> np.ndarray:
    """Ids as plotly.js reads typed arrays (it has no 64-bit integers)."""
    return ids.astype(np.int32) if len(ids) and int(ids.max()) < 2**31 else ids.astype(np.float64)


def legend_html(legend: list[tuple[str, str, int]], colour_by: str) -> str:
    if not legend:
        return f'<p style="font-size:0.8rem;opacity:0.7">No {html.escape(colour_by)} tags to colour by.</p>'
    items = "".join(
        f'<span style="display:inline-flex;align-items:center;gap:4px;margin-right:12px">'
        f'<span aria-hidden="true" style="width:10px;height:10px;border-radius:50%;background:{colour}"></span>'
        f"{html.escape(group)} ({count:,})</span>"
        for group, colour, count in legend
    )
    others = "<span>· others in grey</span>"
    return f'<div class="map-legend" style="font-size:0.8rem;line-height:1.8">{items} {others}</div>'
