"""Find similar tracks: pick a catalog track (search, browse, random picks, the map) or upload a file, then
listen to its nearest neighbours and see why they are near.

Run with `streamlit run app/server.py` (the server adds the audio and cover routes this page uses).
"""

from __future__ import annotations

import streamlit as st

from app import landing, listening, map_view, playlists, teach, views
from app.display import track_label
from app.queries import ask
from storage.core.errors import SoundalikeError
from storage.read.catalog import Catalog
from storage.search.question import searched_catalog
from storage.search.request import SearchResult
from storage.search.service import SearchService

VIEWS = ["Discover", "Browse", "Map", "Teach it your ears"]

st.set_page_config(page_title="Find similar tracks", page_icon="🎧", layout="wide")
st.title("Find similar tracks", anchor=False)


def show_page(catalog: Catalog) -> None:
    """The page for one model's catalog: inputs, the catalog's views, the query, its results."""
    options = views.sidebar(catalog)
    with st.sidebar:
        searched = teach.my_ears(catalog)  # the catalog searched by the listener's learned metric, or as it is
    views.search_box(catalog)
    with st.expander("Or upload a file", expanded=st.session_state.get("query_source") == "upload"):
        views.upload_box(catalog)
    with st.expander("Or describe what you want to hear", expanded=st.session_state.get("query_source") == "text"):
        views.describe_box(catalog)
    view = st.radio("Explore the catalog", VIEWS, horizontal=True, key="view")

    explore = st.container(key="explore")  # filled once the results are known: the map marks them
    query = views.current_query(catalog)
    results: SearchResult | None = None
    region = None
    if query is not None:
        if query.description is not None:  # words are answered by a model that understands them (CLAP)
            catalog = searched = searched_catalog(catalog, words=True)
        query_card = st.container()
        words = views.steering_boxes(catalog, query)
        playlists.radio_button(query)
        if query.description is None:
            region = views.passage_picker(catalog, query)  # before the search: the region it searches by
        try:
            results = ask(SearchService(searched), query, options, region, words)
        except SoundalikeError as exc:
            st.error(str(exc))

    neighbour_ids = [n.track.id for n in results.neighbours] if results else []
    with explore:
        if view == "Browse":
            landing.show_browse(catalog)
        elif view == "Map":
            map_view.show_map(catalog, query.track.id if query and query.track else None, neighbour_ids)
        elif view == "Teach it your ears":
            teach.show_teach(catalog, views.audio_player)
        else:
            landing.show_discover(catalog, has_query=query is not None)

    if query is None:
        st.caption("Search, browse, pick from the map or upload a file: its nearest neighbours appear here.")
        return

    with query_card:
        views.show_query(catalog, query, region)
    playlists.show_playlist(searched, query)
    if region is not None and options.styles:
        st.caption("The style filter applies to whole-track search; passages come from every style.")
    if results is None:
        return
    for track in results.in_catalog:
        st.info(f"This is “{track_label(track)}” in your catalog ({track.path}): it is left out of its own results.")
    if results.pending_changes:
        st.info(
            f"The index is being updated ({results.pending_changes} change(s) since it was built): "
            "results come from the previous index until `indexer build` finishes."
        )
    for step in results.steps:
        if step.startswith("steered"):
            st.caption(f"Results {step} (docs/words.md).")
        elif step.startswith("by "):
            st.caption(f"Results {step} (Teach it your ears).")
    with st.container(key="listening-tools"):
        listening.play_all([n.track for n in results.neighbours], "results")
        listening.results_m3u(results.neighbours, query)
    views.show_neighbours(catalog, query, results.neighbours, region)


catalog = views.open_catalog()
with catalog.reading():  # one database session for the whole run (storage.read.catalog)
    show_page(catalog)
