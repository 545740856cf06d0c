"""The page's playlists: a radio from the query track, a path from it to a result; listed, with an M3U."""

from __future__ import annotations

import html

import streamlit as st

from app.queries import Query
from app.radio import radio
from storage.catalog import Catalog, Neighbour, TrackInfo
from storage.errors import StorageError
from storage.query import m3u_text
from storage.song_path import song_path

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
    key = (spec, catalog.model)
    built = st.session_state.get("playlist_built")
    if built is None or built[0] != key:
        built = (key, _build(catalog, query.track, spec))
        st.session_state["playlist_built"] = built
    return built[1]


def _build(catalog: Catalog, start: TrackInfo, spec: tuple) -> tuple[str, list[TrackInfo]]:
    if spec[0] == "radio":
        return f"Radio from {start.label}", radio(catalog, [start], RADIO_LENGTH)
    end = catalog.track(spec[2])
    steps = song_path(catalog, start, end, PATH_LENGTH)
    return f"Path from {start.label} to {end.label}", [t for t, _ in steps]


def show_playlist(catalog: Catalog, query: Query) -> None:
    try:
        chosen = playlist(catalog, query)
    except StorageError as exc:
        st.warning(str(exc))
        return
    if chosen is None:
        return
    title, tracks = chosen
    st.subheader(title, anchor=False)
    with st.container(border=True, key="playlist"):
        lines = [
            f"{i}. {html.escape(t.label)} · {html.escape(t.album or '')} · {t.duration_text}"
            for i, t in enumerate(tracks, 1)
        ]
        st.markdown("  \n".join(lines))
        st.download_button(
            "Download M3U",
            m3u_text([Neighbour(t, 0.0) for t in tracks]),
            file_name="soundalike.m3u",
            mime="audio/x-mpegurl",
            key="m3u",
        )
