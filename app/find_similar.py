"""Find similar tracks: pick a catalog track or upload a file, then listen to its nearest neighbours.

Run with `streamlit run app/server.py` (the server adds the audio route this page plays from).
"""

from __future__ import annotations

import streamlit as st

from app import playlists, views
from app.queries import find_neighbours, find_passages
from storage.errors import StorageError

st.set_page_config(page_title="Find similar tracks", page_icon="🎧", layout="wide")
st.title("Find similar tracks", anchor=False)

catalog = views.open_catalog()
options = views.sidebar(catalog)

pick, upload = st.tabs(["Pick from the catalog", "Upload a file"])
with pick:
    views.search_box(catalog)
with upload:
    views.upload_box(catalog)

query = views.current_query(catalog)
if query is None:
    st.info("Search the catalog for a track, or upload a file, to hear what sounds like it.")
    st.stop()

views.show_query(catalog, query)
playlists.radio_button(query)
playlists.show_playlist(catalog, query)
region = views.passage_picker(query)
if region is not None and options.styles:
    st.caption("The style filter applies to whole-track search; passages come from every style.")
try:
    if region is not None:
        results = find_passages(
            catalog, query, region, options.k, options.exclude_same_artist, options.exclude_same_album
        )
    else:
        results = find_neighbours(
            catalog,
            query,
            options.k,
            options.exclude_same_artist,
            options.exclude_same_album,
            options.styles,
            options.caps,
            options.rerank,
        )
except StorageError as exc:
    st.error(str(exc))
    st.stop()
for track in results.in_catalog:
    st.info(f"This is “{track.label}” in your catalog ({track.path}): it is left out of its own results.")
if results.pending_changes:
    st.info(
        f"The index is being updated ({results.pending_changes} change(s) since it was built): "
        "results come from the previous index until `indexer build` finishes."
    )
views.show_neighbours(catalog, query, results.neighbours, region)
