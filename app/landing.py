"""The ways in before a query: what the catalog holds, random and recent picks, surprise me, browse."""

from __future__ import annotations

import html

import numpy as np
import streamlit as st

from app.display import duration_text, track_label
from app.settings import cover_url
from storage.core.errors import SoundalikeError
from storage.core.tracks import TrackInfo
from storage.read.catalog import Catalog
from storage.search import browse

PICKS = 6
RECENT = 6


def cover_html(track: TrackInfo, pixels: int) -> str:
    """The track's cover (or the placeholder) from the cover route, by id; lazily loaded, described."""
    alt = html.escape(f"Cover of {track.album or track_label(track)}")
    return (
        f'<img class="cover" src="{cover_url(track.id)}" alt="{alt}" width="{pixels}" height="{pixels}" '
        f'loading="lazy" style="border-radius:6px;object-fit:cover;display:block">'
    )


def _build_key(catalog: Catalog) -> tuple[str, str, str]:
    """Names what the catalog holds now: a new index build (any change of vectors) makes a new key."""
    try:
        build = catalog.index().name
    except SoundalikeError:
        build = ""
    return str(catalog.data_dir), catalog.model, build


@st.cache_data(show_spinner=False, max_entries=8)
def _summary(_catalog: Catalog, key: tuple[str, str, str]) -> browse.Summary:
    return browse.summary(_catalog)  # counts over every track: once per build, not on every rerun


@st.cache_data(show_spinner=False, max_entries=8)
def _artists(_catalog: Catalog, key: tuple[str, str, str]) -> list[tuple[str, int]]:
    return browse.artists(_catalog)


def choose(track_id: int) -> None:
    """Make `track_id` the query (a button's callback: it runs before the page does)."""
    st.session_state["query_track"] = track_id
    st.session_state["query_source"] = "track"
    st.session_state["pick"] = None  # the search pick no longer names the query


def surprise(catalog: Catalog) -> None:
    picked = browse.random_tracks(catalog, 1)
    if picked:
        choose(picked[0].id)


def show_discover(catalog: Catalog, has_query: bool) -> None:
    """The landing: the catalog in figures, surprise me, random picks, the tracks added last. With a query
    already chosen, it folds away so the results stay near the top."""
    box = st.expander("Random picks and recently added", expanded=False) if has_query else st.container()
    with box:
        facts = _summary(catalog, _build_key(catalog))
        columns = st.columns(4)
        columns[0].metric("Tracks", f"{facts.tracks:,}")
        columns[1].metric("Artists", f"{facts.artists:,}")
        columns[2].metric("Albums", f"{facts.albums:,}")
        columns[3].metric(
            "Playing time", f"{facts.hours:,.1f} h" if facts.hours >= 1 else f"{facts.hours * 60:.0f} min"
        )
        st.caption("Models built: " + ", ".join(facts.models) + f" · searching with {catalog.model}")
        left, right = st.columns(2)
        left.button(
            "Surprise me",
            key="surprise",
            on_click=surprise,
            args=(catalog,),
            help="A random track of the catalog becomes the query.",
            icon=":material/casino:",
            width="stretch",
        )
        right.button("New picks", key="shuffle", on_click=_reshuffle, width="stretch", icon=":material/refresh:")
        st.markdown("**Random picks**")
        track_grid(_random_picks(catalog), "pick")
        st.markdown("**Recently added**")
        track_grid(browse.recent_tracks(catalog, RECENT), "recent")


def _reshuffle() -> None:
    st.session_state.pop("picks", None)


def _random_picks(catalog: Catalog) -> list[TrackInfo]:
    """The same picks on every rerun (a click elsewhere keeps them) until "New picks" or another model."""
    kept = st.session_state.get("picks")
    if kept is None or kept[0] != catalog.model:
        ids = [t.id for t in browse.random_tracks(catalog, PICKS, np.random.default_rng())]
        kept = (catalog.model, ids)
        st.session_state["picks"] = kept
    found = catalog.tracks(kept[1])
    return [found[i] for i in kept[1] if i in found]


def track_grid(tracks: list[TrackInfo], prefix: str) -> None:
    """Tracks as cards of three a row (one a row on a phone): cover, title, artist, a button to query."""
    for start in range(0, len(tracks), 3):
        for column, track in zip(st.columns(3), tracks[start : start + 3], strict=False):
            with column.container(border=True, key=f"{prefix}-card-{track.id}"):
                image, words = st.columns([1, 2], vertical_alignment="center")
                with image:
                    st.html(cover_html(track, 72))
                words.markdown(f"**{_md(track.title or track.path)}**  \n{_md(track.artist or 'unknown artist')}")
                words.button(
                    "Find similar",
                    key=f"{prefix}-{track.id}",
                    on_click=choose,
                    args=(track.id,),
                    help=f"Make “{track_label(track)}” the query",
                )


def show_browse(catalog: Catalog) -> None:
    """Artist, then album, then its tracks, each with a button to make it the query."""
    artists = _artists(catalog, _build_key(catalog))
    if not artists:
        st.info("No indexed tracks to browse yet.")
        return
    names = [name for name, _ in artists]
    counts = dict(artists)
    artist = st.selectbox(
        f"Artist ({len(names):,})",
        names,
        index=None,
        key="browse_artist",
        placeholder="Choose an artist",
        format_func=lambda name: f"{name} ({counts[name]})",
    )
    if artist is None:
        return
    albums = browse.albums(catalog, artist)
    album_counts = dict(albums)
    album = st.selectbox(
        "Album",
        [name for name, _ in albums],
        key="browse_album",
        format_func=lambda name: f"{name} ({album_counts[name]})",
    )
    if album is None:
        return
    for track in browse.album_tracks(catalog, artist, album):
        with st.container(key=f"browse-row-{track.id}"):
            words, action = st.columns([5, 1.4], vertical_alignment="center")
            number = f"{track.track_number}. " if track.track_number else ""
            words.markdown(f"{number}**{_md(track.title or track.path)}** · {duration_text(track.duration)}")
            action.button("Find similar", key=f"browse-{track.id}", on_click=choose, args=(track.id,))


def _md(text: str) -> str:
    """Text shown literally in markdown (tags may hold *, _, [ ...)."""
    return "".join("\\" + c if c in "\\`*_{}[]()#+-.!|<>~" else c for c in text)
