"""The page's playlists: a radio from the query track, a path from it to a result; listed, with an M3U."""

from __future__ import annotations

import html

import streamlit as st

from app.display import duration_text, m3u_text, track_label
from app.queries import Query
from storage.core.errors import SoundalikeError
from storage.core.tracks import Neighbour, TrackInfo
from storage.read.catalog import Catalog
from storage.search.service import SearchService

RADIO_LENGTH = 25
PATH_LENGTH = 10


def _choose(spec: tuple) -> None:
    st.session_state["playlist"] = spec


def radio_button(query: Query) -> None:
    if query.track is not None:
        st.button("Radio from this track", key="radio", on_click=_choose, args=(("radio", query.track.id),))


def path_button(query: Query, neighbour: Neighbour) -> None:
    if query.track is not None:
        spec = ("path", query.track.id, neighbour.track.id)
        st.button("Path to here", key=f"path-{neighbour.track.id}", on_click=_choose, args=(spec,))


def playlist(catalog: Catalog, query: Query) -> tuple[str, list[TrackInfo]] | None:
    """The playlist chosen for this query: (title, tracks), or None. Built once per choice: the page reruns
    on every widget change, and a radio is 25 searches."""
    spec = st.session_state.get("playlist")
    if not spec or query.track is None or spec[1] != query.track.id:
        return None
    metric = catalog.metric
    key = (spec, catalog.model, (metric.listener, metric.version) if metric else None)  # "My ears" makes another
    built = st.session_state.get("playlist_built")
    if built is None or built[0] != key:
        built = (key, _build(catalog, query.track, spec))
        st.session_state["playlist_built"] = built
    return built[1]


def _build(catalog: Catalog, start: TrackInfo, spec: tuple) -> tuple[str, list[TrackInfo]]:
    service = SearchService(catalog)
    ears = f" by {catalog.metric.listener}'s ears" if catalog.metric else ""
    if spec[0] == "radio":
        return f"Radio from {track_label(start)}{ears}", service.radio([start], RADIO_LENGTH)
    end = catalog.track(spec[2])
    steps = service.path(start, end, PATH_LENGTH)
    return f"Path from {track_label(start)} to {track_label(end)}{ears}", [t for t, _ in steps]


def show_playlist(catalog: Catalog, query: Query) -> None:
    try:
        chosen = playlist(catalog, query)
    except SoundalikeError as exc:
        st.warning(str(exc))
        return
    if chosen is None:
        return
    title, tracks = chosen
    st.subheader(title, anchor=False)
    with st.container(border=True, key="playlist"):
        lines = [
            f"{i}. {html.escape(track_label(t))} · {html.escape(t.album or '')} · {duration_text(t.duration)}"
            for i, t in enumerate(tracks, 1)
        ]
        st.markdown("  \n".join(lines))
        st.download_button(
            "Download M3U",
            m3u_text(tracks),
            file_name="soundalike.m3u",
            mime="audio/x-mpegurl",
            key="m3u",
        )
