"""The page's "Teach it your ears" view: three tracks, each playable where it sounds most like itself; which
one is the odd one out (or "can't say")? Answers are kept per listener in the data directory
(storage.listeners.answers); the next triplet is one the metric in force is unsure about
(storage.search.asking). Thumbs on ordinary results are answers too (`thumbs`). "Learn from my answers"
fits the listener's metric (storage.listeners.metrics); the sidebar's "My ears" searches by it (`my_ears`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from app.display import track_label
from app.landing import cover_html
from storage.core.errors import SoundalikeError
from storage.listeners import metrics as learned
from storage.listeners.metrics import MetricInfo
from storage.read.catalog import Catalog

if TYPE_CHECKING:
    from collections.abc import Callable
from storage.search.asking import next_triplet, representative_start
from storage.search.question import searched_catalog
from storage.write.store import Store


def listener_name() -> str:
    """The listener's name (shared by the view and the thumbs, kept while other views show), '' until given."""
    return " ".join(str(st.session_state.get("listener_name") or "").split())


def _keep_name() -> None:
    st.session_state["listener_name"] = st.session_state.get("listener", "")


def asking_catalog(catalog: Catalog, listener: str) -> Catalog:
    """The catalog as the listener's metric in force sees it (the plain one before any is learned): the next
    triplet is one *that* metric is unsure about."""
    if learned.latest(catalog.data_dir, catalog.model, listener) is None:
        return catalog
    return searched_catalog(catalog, metric="mine", listener=listener)


def next_question(catalog: Catalog, listener: str, rng: np.random.Generator) -> tuple[int, int, int] | None:
    """The triplet to ask `listener` next (storage.search.asking), by their metric in force."""
    return next_triplet(asking_catalog(catalog, listener), listener, rng)


def keep_answer(catalog: Catalog, listener: str, triplet: tuple[int, int, int], odd: int | None) -> None:
    """Keep which of the three `listener` found the odd one out (None: can't say)."""
    Store(catalog.data_dir).add_triplet(listener, triplet, odd)


def relearn(catalog: Catalog, listener: str) -> MetricInfo:
    """Fit `listener`'s metric for the page's model from every answer so far (storage.listeners.metrics) and make its
    index; what it rests on and how it did."""
    store = Store(catalog.data_dir)
    with store.lock("learn"):
        metric, _ = store.learn(catalog.model, listener)
    return metric.info


def answer(catalog: Catalog, listener: str, triplet: tuple[int, int, int], odd: int | None) -> None:
    """A button's callback: keep the answer, then ask the next triplet."""
    keep_answer(catalog, listener, triplet, odd)
    st.session_state.pop("triplet", None)


def _learn_now(catalog: Catalog, listener: str) -> None:
    """The "Learn from my answers" button's callback."""
    try:
        st.session_state["learned_note"] = ("ok", relearn(catalog, listener).describe())
    except SoundalikeError as exc:  # no answers yet, a build holding the data directory
        st.session_state["learned_note"] = ("error", str(exc))
    st.session_state.pop("triplet", None)  # the next question by the new metric


def my_ears(catalog: Catalog) -> Catalog:
    """The sidebar's "My ears" switch, shown once the named listener has a metric for this model: the catalog
    searched by it, and a line saying what it rests on; the catalog as it is otherwise."""
    listener = listener_name()
    metric = learned.latest(catalog.data_dir, catalog.model, listener) if listener else None
    if metric is None:
        return catalog
    info = metric.info
    if not st.toggle(
        "My ears",
        key="my_ears",
        help=f"Search by {listener}'s learned similarity (Teach it your ears) instead of the model's cosine.",
    ):
        return catalog
    try:
        mine = searched_catalog(catalog, metric="mine", listener=listener)
    except SoundalikeError as exc:
        st.caption(str(exc))
        return catalog
    plain = "" if info.learned else "; no better than the plain cosine yet, so that is what it uses"
    st.caption(
        f"Using {listener}'s ears: learned from {info.answers} answers, held-out agreement "
        f"{info.agreement_before:.2f} → {info.agreement_after:.2f}{plain}."
    )
    return mine


def thumb(catalog: Catalog, listener: str, query: int, result: int, alike: bool) -> None:
    Store(catalog.data_dir).add_thumb(listener, query, result, alike)
    st.session_state["thumbed"] = {**st.session_state.get("thumbed", {}), result: alike}


def show_teach(catalog: Catalog, audio_player: Callable[..., None]) -> None:
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
        st.session_state["triplet"] = next_question(catalog, listener, np.random.default_rng())
        st.session_state["triplet_for"] = wanted
    triplet = st.session_state["triplet"]
    mine = len(catalog.answers(listener))
    _show_learning(catalog, listener, mine)
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


def _show_learning(catalog: Catalog, listener: str, answered: int) -> None:
    """What the listener's metric rests on, and the button that fits it again from every answer so far."""
    note = st.session_state.pop("learned_note", None)
    if note is not None:
        (st.success if note[0] == "ok" else st.error)(note[1])
    metric = learned.latest(catalog.data_dir, catalog.model, listener)
    if metric is not None and note is None:
        st.caption(metric.info.describe())
    label = "Learn from my answers" if metric is None else f"Learn again ({answered} answers now)"
    st.button(label, key="learn", on_click=_learn_now, args=(catalog, listener), disabled=not answered)


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
