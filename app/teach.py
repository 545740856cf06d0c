"""The page's "Teach it your ears" view: three tracks, each playable where it sounds most like itself; which
one is the odd one out (or "can't say")? Answers are kept per listener in the data directory
(storage.answers); the next triplet is one the current metric is unsure about (storage.asking). Thumbs on
ordinary results are answers too (`thumbs`)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app.landing import cover_html
from storage.asking import next_triplet, representative_start
from storage.catalog import Catalog
from storage.display import track_label
from storage.store import Store


def listener_name() -> str:
    """The listener's name (shared by the view and the thumbs, kept while other views show), '' until given."""
    return " ".join(str(st.session_state.get("listener_name") or "").split())


def _keep_name() -> None:
    st.session_state["listener_name"] = st.session_state.get("listener", "")


def answer(catalog: Catalog, listener: str, triplet: tuple[int, int, int], odd: int | None) -> None:
    """A button's callback: keep the answer, then ask the next triplet."""
    Store(catalog.data_dir).add_triplet(listener, triplet, odd)
    st.session_state.pop("triplet", None)


def thumb(catalog: Catalog, listener: str, query: int, result: int, alike: bool) -> None:
    Store(catalog.data_dir).add_thumb(listener, query, result, alike)
    st.session_state["thumbed"] = {**st.session_state.get("thumbed", {}), result: alike}


def show_teach(catalog: Catalog, audio_player) -> None:  # type: ignore[no-untyped-def]
    """The view; `audio_player(catalog, track, start, label)` draws a player (app.views)."""
    st.text_input(
        "Your name",
        value=listener_name(),
        key="listener",
        max_chars=128,
        on_change=_keep_name,
        help="Answers are kept per name in the data directory.",
    )
    listener = listener_name()
    if not listener:
        st.caption("Say who is listening: your answers teach the search what you mean by alike.")
        return
    wanted = (listener, catalog.model)
    if st.session_state.get("triplet_for") != wanted or st.session_state.get("triplet") is None:
        rng = np.random.default_rng()
        st.session_state["triplet"] = next_triplet(catalog, listener, rng)
        st.session_state["triplet_for"] = wanted
    triplet = st.session_state["triplet"]
    mine = len(catalog.answers(listener))
    if triplet is None:
        st.info(f"No new triplet to ask {listener} about in this catalog ({mine} answers so far).")
        return
    st.markdown("**Which one is the odd one out?** Listen to the three, then pick the one least like the others.")
    tracks = catalog.tracks(list(triplet))
    for column, track_id in zip(st.columns(3), triplet, strict=True):
        track = tracks[track_id]
        start = representative_start(catalog, track_id)
        with column, st.container(border=True, key=f"teach-{track_id}"):
            st.html(cover_html(track, 80))
            st.markdown(f"**{track.title or track.path}**  \n{track.artist or 'unknown artist'}")
            audio_player(catalog, track, start, f"{track_label(track)} from {start:.0f} s")
            st.button(
                "Odd one out", key=f"odd-{track_id}", on_click=answer, args=(catalog, listener, triplet, track_id)
            )
    st.button("Can't say", key="cant-say", on_click=answer, args=(catalog, listener, triplet, None))
    st.caption(f"{mine} answer(s) from {listener} so far. They are kept in {catalog.data_dir}; `indexer answers`.")


def thumbs(catalog: Catalog, query_id: int, result_id: int) -> None:
    """👍 / 👎 on a result of a track query, once a listener is named (the view's name)."""
    listener = listener_name()
    if not listener:
        return
    given = st.session_state.get("thumbed", {}).get(result_id)
    if given is not None:
        st.caption("alike 👍" if given else "not like this 👎")
        return
    up, down = st.columns(2)
    up.button(
        "👍", key=f"up-{result_id}", help="alike", on_click=thumb, args=(catalog, listener, query_id, result_id, True)
    )
    down.button(
        "👎",
        key=f"down-{result_id}",
        help="not like this",
        on_click=thumb,
        args=(catalog, listener, query_id, result_id, False),
    )
