"""Streamlit pieces of the "Find similar tracks" page: each draws one part and calls the libraries."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import streamlit as st

from app.display import closeness_text, duration_text, track_label
from app.errors import AudioUnavailableError
from app.explain import compare_styles
from app.landing import choose, cover_html
from app.listening import query_peaks, waveform_figure, waveform_html
from app.media import browser_media_type, catalog_file
from app.playlists import path_button
from app.queries import Description, Query, Upload
from app.settings import (
    DEFAULT_K,
    DEFAULT_PER_ALBUM,
    DEFAULT_PER_ARTIST,
    MAX_K,
    MAX_UPLOAD_MB,
    MAX_UPLOAD_MINUTES,
    SEARCH_LIMIT,
    audio_url,
)
from app.teach import thumbs
from indexer.errors import WeightsError
from indexer.models import LICENCES
from indexer.models.registry import labels_word
from indexer.query_audio import catalog_embedder, embed_bytes
from storage.core.errors import SoundalikeError
from storage.core.passages import Passage, clock, describe
from storage.core.paths import resolve_data_dir
from storage.core.tracks import Neighbour, TrackInfo
from storage.read.catalog import Catalog

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile
from storage.search.browse import tagging_catalog
from storage.search.caps import Caps
from storage.search.question import searched_catalog
from storage.search.request import SearchRequest
from storage.search.words import TEXT_MODELS


@st.cache_resource(show_spinner=False)
def cached_catalog(data_dir: str, model: str | None = None) -> Catalog:
    # The page lives long: its index goes on a GPU when faiss has one ($SOUNDALIKE_FAISS_GPU=0: never).
    return Catalog.open(data_dir, model, gpu=True)


def open_catalog() -> Catalog:
    """The data directory's catalog and its index, or a message saying what to run, and stop."""
    try:
        data_dir = str(resolve_data_dir())
        catalog = cached_catalog(data_dir)
        models = catalog.models()
        if len(models) > 1:  # several models' indexes side by side: the person picks one
            model = st.sidebar.selectbox("Model", models, index=_default(models, catalog.model), key="model")
            catalog = cached_catalog(data_dir, model)
        catalog.index()
    except SoundalikeError as exc:
        st.error(str(exc))
        st.caption("`indexer build CATALOG_DIR` indexes a folder of audio; `SOUNDALIKE_DATA` picks the data directory.")
        st.stop()
    return catalog


def _default(models: list[str], preferred: str) -> int:
    return models.index(preferred) if preferred in models else 0


# -- query state: which track (or upload) the page is about --------------------------------------------


def set_query_track(track_id: int) -> None:
    st.session_state["query_track"] = track_id
    st.session_state["query_source"] = "track"


def current_query(catalog: Catalog) -> Query | None:
    if st.session_state.get("query_source") == "upload" and "upload" in st.session_state:
        return Query(upload=st.session_state["upload"])
    if st.session_state.get("query_source") == "text" and st.session_state.get("description") is not None:
        return Query(description=st.session_state["description"])
    track_id = st.session_state.get("query_track") or _track_from_url()
    if track_id is None:
        return None
    try:
        track = catalog.track(int(track_id))
    except SoundalikeError as exc:
        st.warning(str(exc))
        return None
    st.query_params["track"] = str(track.id)  # the address names the query: shareable, reloadable
    return Query(track=track)


def _track_from_url() -> int | None:
    value = st.query_params.get("track", "")
    return int(value) if value.isdigit() else None


# -- inputs ---------------------------------------------------------------------------------------------


def sidebar(catalog: Catalog) -> SearchRequest:
    """The sidebar's options as the search request they describe."""
    with st.sidebar:
        st.header("Options")
        k = st.slider("Neighbours", 1, MAX_K, DEFAULT_K, key="k")
        artist = st.checkbox("Leave out the query's artist", key="exclude_artist")
        album = st.checkbox("Leave out the query's album", key="exclude_album")
        per_artist = st.number_input(
            "At most per artist", 0, MAX_K, DEFAULT_PER_ARTIST, key="max_per_artist", help="0: no limit"
        )
        per_album = st.number_input(
            "At most per album", 0, MAX_K, DEFAULT_PER_ALBUM, key="max_per_album", help="0: no limit"
        )
        styles = style_filter(catalog)
        index = catalog.index()
        fewer_hubs = index.hubs is not None and st.toggle(
            "Fewer ever-present tracks",
            key="rerank",
            help="Re-rank with CSLS: tracks that are near everything (hubs) stop crowding every list.",
        )
        counts = catalog.count_tracks()
        st.caption(
            f"{counts.get('indexed', 0):,} tracks indexed"
            + (f", {counts['failed']:,} unreadable" if counts.get("failed") else "")
            + f" · {catalog.model} · {index.meta.kind} index · data in `{catalog.data_dir}`"
        )
        st.caption(f"{LICENCES.get(catalog.model, catalog.model + ' weights')}. soundalike's code is GPL-3.0.")
    caps = Caps(int(per_artist) or None, int(per_album) or None)
    rerank = "csls" if fewer_hubs else None
    return SearchRequest(
        k, exclude_same_artist=artist, exclude_same_album=album, styles=tuple(styles), caps=caps, rerank=rerank
    )


def style_filter(catalog: Catalog) -> list[str]:
    """Genres and styles to keep, when the model tags tracks (MAEST); [] keeps everything."""
    counts = catalog.style_counts()
    if not counts:
        return []
    genres = sorted({label.split("---")[0] for label, _ in counts if "---" in label})
    return st.multiselect(
        "Only these genres or styles",
        list(dict.fromkeys(genres + [label for label, _ in counts])),
        key="styles",
        help="A genre keeps all of its styles. Styles are the model's top labels per track.",
    )


def search_box(catalog: Catalog) -> None:
    text = st.text_input("Search title, artist, album or file name", key="search", placeholder="e.g. miles blue")
    if not text.strip():
        return
    matches = catalog.search_tracks(text, limit=SEARCH_LIMIT)
    if not matches:
        st.info(f"No indexed track matches “{text}”.")
        return
    more = " (first 50: type more to narrow)" if len(matches) == SEARCH_LIMIT else ""
    labels = {t.id: f"{track_label(t)} · {t.album or ''} · {duration_text(t.duration)}" for t in matches}
    st.selectbox(
        f"{len(matches)} match(es){more}",
        list(labels),
        index=None,
        format_func=labels.__getitem__,
        key="pick",
        placeholder="Choose a track",
        on_change=lambda: set_query_track(st.session_state["pick"]) if st.session_state["pick"] else None,
    )


def upload_box(catalog: Catalog) -> None:
    file = st.file_uploader(
        f"Audio file (any format the indexer reads, up to {MAX_UPLOAD_MB} MB and {MAX_UPLOAD_MINUTES:.0f} min)",
        key="upload_file",
    )
    if file is None:
        if st.session_state.get("query_source") == "upload":  # the upload was removed
            st.session_state["query_source"] = "track"
        return
    if st.session_state.get("upload_id") != (file.file_id, catalog.model):  # new file or model: embed once
        st.session_state["upload_id"] = (file.file_id, catalog.model)
        st.session_state["upload_problem"] = accept_upload(catalog, file)
    problem = st.session_state.get("upload_problem")
    if problem:
        level, message = problem
        (st.warning if level == "warning" else st.error)(message)


def describe_box(catalog: Catalog) -> None:
    """Words to search by (a text-capable model: CLAP), and whether to list moments instead of tracks."""
    try:
        words_catalog = searched_catalog(catalog, words=True)
    except SoundalikeError as exc:
        st.caption(f"Search by words needs a model that understands them: {exc}.")
        return
    text = st.text_input(
        "Describe what you want to hear",
        key="describe",
        placeholder="e.g. calm piano with rain",
        help=f"English words, as {words_catalog.model} learnt them: instruments, moods, genres, voices, sounds "
        "(docs/words.md).",
    )
    moments = st.toggle("Find moments, not whole tracks", key="moments", help="The passage of each track that fits.")
    if not text.strip():
        if st.session_state.get("query_source") == "text":
            st.session_state["query_source"] = "track"
        return
    wanted = (text.strip(), words_catalog.model)
    if st.session_state.get("description_of") != wanted:
        from indexer.query_text import text_query

        try:
            with st.spinner("Reading the words…"):
                query = text_query(words_catalog, text)
        except SoundalikeError as exc:
            st.error(str(exc))
            return
        st.session_state["description_of"] = wanted
        st.session_state["description_query"] = query
        st.session_state["query_source"] = "text"
    st.session_state["description"] = Description(st.session_state["description_query"], moments)


def steering_boxes(catalog: Catalog, query: Query) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Two small text boxes under a track or file query: words to move it toward and away from (CLAP), as
    (more, less); words the model cannot read are said here and left out."""
    if catalog.model not in TEXT_MODELS or query.description is not None:
        return (), ()
    more_box, less_box = st.columns(2)
    more = more_box.text_input("More of", key="steer_more", placeholder="e.g. vocals", max_chars=200)
    less = less_box.text_input("Less of", key="steer_less", placeholder="e.g. drums", max_chars=200)
    words = (tuple([more] if more.strip() else []), tuple([less] if less.strip() else []))
    if not any(words):
        return (), ()
    from indexer.query_text import steering

    try:
        steering(catalog, *words)  # embedded once here (the search reuses it): a problem is said by the boxes
    except SoundalikeError as exc:
        st.error(str(exc))
        return (), ()
    return words


def accept_upload(catalog: Catalog, file: UploadedFile) -> tuple[str, str] | None:
    """Embed an uploaded file and make it the query; (level, message) when it can't be used."""
    if file.size > MAX_UPLOAD_MB * 1024 * 1024:
        return "error", f"{file.name} is {file.size / 2**20:.0f} MB; uploads are limited to {MAX_UPLOAD_MB} MB."
    try:
        with st.spinner("Loading the model for uploads…"):
            embedder = catalog_embedder(catalog)  # once per process: the API and the page share it
    except WeightsError as exc:
        return "warning", (
            f"Uploads need the {catalog.model} weights, which could not be loaded: {exc}. "
            "Picking catalog tracks works without them."
        )
    try:
        with st.spinner(f"Embedding {file.name}…"):
            query = embed_bytes(file.getvalue(), file.name, embedder, MAX_UPLOAD_MINUTES * 60)
    except SoundalikeError as exc:
        return "error", f"{file.name} can't be used: {exc}"
    st.session_state["upload"] = Upload(file.name, file.getvalue(), query)
    st.session_state["query_source"] = "upload"
    return None


# -- results --------------------------------------------------------------------------------------------


def audio_player(catalog: Catalog, track: TrackInfo, start: float | None = None, label: str = "") -> None:
    """A player for a catalog track; `start`: it begins there (a media fragment, `#t=SECONDS`). A file
    that is gone is said once, by the track's own player (none at a passage)."""
    try:
        _, path = catalog_file(catalog, track.id)
    except AudioUnavailableError as exc:
        if start is None:
            st.warning(str(exc))
        return
    # Direct files preload their header (duration shows); transcodes start only on play.
    preload = "metadata" if browser_media_type(path) else "none"
    source = audio_url(track.id) + (f"#t={start:.1f}" if start is not None else "")
    label = label or track_label(track)  # every player says what it plays, to screen readers too
    title = f' aria-label="{html.escape(label)}" title="{html.escape(label)}"'
    st.html(f'<audio controls preload="{preload}" src="{html.escape(source)}"{title} style="width:100%"></audio>')


def similarity_strip(passage: Passage) -> str:
    """The neighbour's timeline as a strip: darker where it sounds more like the query's passage."""
    values = np.asarray(passage.strip, dtype=np.float32)
    if values.size == 0:
        return ""
    span = float(values.max() - values.min()) or 1.0
    cells = "".join(
        f'<span style="flex:1;height:10px;background:rgba(255,75,75,{0.1 + 0.9 * (v - values.min()) / span:.2f})">'
        "</span>"
        for v in values
    )
    return (
        f'<div class="similarity-strip" role="img" aria-label="similarity along this track" '
        f'style="display:flex;gap:1px;margin:2px 0 6px 0">{cells}</div>'
    )


def passage_players(catalog: Catalog, query: Query, neighbour: Neighbour) -> None:
    """The matched passage in words, its strip, and a player at each side of it."""
    passage = neighbour.passage
    if passage is None:
        return
    if passage.moment:
        st.caption(f"the moment: {describe(passage)} (similarity {passage.score:.3f})")
        st.html(similarity_strip(passage))
        label = f"{track_label(neighbour.track)} from {clock(passage.start)}"
        audio_player(catalog, neighbour.track, passage.start, label)
        return
    same = ", the same audio" if passage.shared_audio else ""  # the fingerprints found it in both
    st.caption(f"matched passage: {describe(passage)} (similarity {passage.score:.3f}{same})")
    st.html(similarity_strip(passage))
    here, there = st.columns(2)
    with here:
        st.caption(f"this track from {clock(passage.start)}")
        audio_player(
            catalog, neighbour.track, passage.start, f"{track_label(neighbour.track)} from {clock(passage.start)}"
        )
    with there:
        st.caption(f"the query from {clock(passage.query_start)}")
        if query.track is not None:
            audio_player(catalog, query.track, passage.query_start, f"the query from {clock(passage.query_start)}")
        elif query.upload is not None:
            st.audio(query.upload.data, start_time=int(passage.query_start))


def track_details(track: TrackInfo) -> str:
    parts = [track.artist or "unknown artist", track.album or "", duration_text(track.duration)]
    return " · ".join(html.escape(p) for p in parts if p)


def tags_word(tagger: Catalog | None) -> str:
    """What a card calls a model's labels: CLAP's zero-shot tags say how a track sounds."""
    return labels_word(tagger.model if tagger is not None else None)


def styles_text(styles: dict[str, float] | None) -> str:
    return " · ".join(f"{label.replace('---', ' / ')} {p:.0%}" for label, p in (styles or {}).items())


def show_query(catalog: Catalog, query: Query, region: tuple[float, float] | None = None) -> None:
    st.subheader("Query", anchor=False)
    with st.container(border=True, key="query-card"):
        if query.track is not None:
            image, words = st.columns([1, 5], vertical_alignment="center")
            with image:
                st.html(cover_html(query.track, 120))
            words.markdown(f"**{query.track.title or query.track.path}**  \n{track_details(query.track)}")
            words.caption(query.track.path)
            tagger = tagging_catalog(catalog)
            styles = tagger.styles([query.track.id])[query.track.id] if tagger else {}
            if styles:
                words.caption(f"{tags_word(tagger)}: {styles_text(styles)}")
            audio_player(catalog, query.track)
        elif query.description is not None:
            what = "moments" if query.description.moments else "tracks"
            st.markdown(f"**{html.escape(query.label)}**  \n{what} that fit the words")
            st.caption(
                f"closeness: how the result ranks among the whole catalog's cosines to these words "
                f"({catalog.model}; {LICENCES.get(catalog.model, '')})"
            )
            return
        else:
            assert query.upload is not None
            upload = query.upload.query
            st.markdown(
                f"**{upload.title}** (uploaded)  \n{upload.artist or 'unknown artist'} · {query.duration / 60:.1f} min"
            )
            st.audio(query.upload.data)
        levels = query_peaks(catalog, query) if region is None else None  # by passage: the picker draws it
        if levels is not None:
            st.html(waveform_html(levels, query.duration, region))


def passage_picker(catalog: Catalog, query: Query) -> tuple[float, float] | None:
    """A region of the query to search by, or None: whole tracks. Chosen by dragging across the query's
    waveform, or with the range slider under it (keyboard)."""
    with st.container(key="passage-search"):
        if not st.toggle(
            "Search by passage",
            key="by_passage",
            help="Find the catalog passages that sound most like a region of the query, one per track.",
        ):
            return None
        length = max(1, int(np.ceil(query.duration)))
        region_key = f"region-{query.key}"  # a new query starts from its own first 30 s
        st.session_state.setdefault(region_key, (0, min(30, length)))  # the slider's value: set here or by a drag
        levels = query_peaks(catalog, query)
        if levels is not None:
            chosen = st.session_state[region_key]
            wave_key = f"wave-{query.key}"
            st.plotly_chart(
                waveform_figure(levels, query.duration, chosen),
                key=wave_key,
                on_select=lambda: region_from_drag(wave_key, region_key, length),
                selection_mode="box",
                config={"displayModeBar": False},
                alt="Waveform of the query: drag across it to choose the region to search with",
            )
        # A range: the value session state holds for this key is a (start, end) pair.
        start, end = cast(
            tuple[int, int], st.slider("Region of the query (seconds)", 0, length, step=1, key=region_key)
        )
        st.caption(f"searching with {clock(start)}–{clock(end)} of the query (drag across the waveform to change)")
    return (float(start), float(max(end, start + 1)))


def region_from_drag(wave_key: str, region_key: str, length: int) -> None:
    """A box dragged across the waveform becomes the slider's region (whole seconds, at least one)."""
    boxes = (st.session_state.get(wave_key) or {}).get("selection", {}).get("box", [])
    if not boxes or len(boxes[0].get("x", [])) < 2:
        return
    low, high = sorted(float(x) for x in boxes[0]["x"][:2])
    start = int(min(max(round(low), 0), length - 1))
    st.session_state[region_key] = (start, int(min(max(round(high), start + 1), length)))


def show_neighbours(
    catalog: Catalog, query: Query, neighbours: list[Neighbour], region: tuple[float, float] | None = None
) -> None:
    heading = f"{len(neighbours)} nearest"
    if query.description is not None and query.description.moments:
        heading = f"{len(neighbours)} moments"
    if region is not None:
        heading += f" passages to {clock(region[0])}–{clock(region[1])}"
    st.subheader(heading, anchor=False)
    styles = _compared_styles(catalog, query, neighbours)
    word = tags_word(tagging_catalog(catalog))
    for rank, n in enumerate(neighbours, 1):
        with st.container(border=True, key=f"neighbour-{rank}"):
            image, info, player, action = st.columns([1, 4, 4, 1.4], vertical_alignment="center")
            with image:
                st.html(cover_html(n.track, 80))
            label = f" · *{n.relation}*" if n.relation else ""
            info.markdown(f"{rank}. **{n.track.title or n.track.path}**{label}  \n{track_details(n.track)}")
            info.caption(closeness_text(n), help=f"cosine similarity {n.score:.4f} ({catalog.model})")
            if n.also_in:
                info.caption("also in: " + ", ".join(Path(p).name for p in n.also_in), help="\n".join(n.also_in))
            if n.track.id in styles:
                info.caption(f"{word}: {styles[n.track.id]}")
            with player:
                audio_player(catalog, n.track)
            action.button("Find similar", key=f"use-{n.track.id}", on_click=choose, args=(n.track.id,))
            with action:
                path_button(query, n)
                if query.track is not None:
                    thumbs(catalog, query.track.id, n.track.id)
            passage_players(catalog, query, n)


def _compared_styles(catalog: Catalog, query: Query, neighbours: list[Neighbour]) -> dict[int, str]:
    """Per result, its styles against the query's in words (when a model tags styles: MAEST)."""
    tagger = tagging_catalog(catalog)
    if tagger is None or not neighbours:
        return {}
    ids = [n.track.id for n in neighbours] + ([query.track.id] if query.track is not None else [])
    stored = tagger.styles(ids)
    if query.track is None:  # an upload has no stored styles: each result's own
        return {i: styles_text(stored[i]) for i in ids if stored[i]}
    mine = stored[query.track.id]
    said = {n.track.id: compare_styles(mine, stored[n.track.id]).sentence() for n in neighbours}
    return {i: text for i, text in said.items() if text}
