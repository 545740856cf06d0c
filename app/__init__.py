"""The Streamlit front end: thin pages over the `storage` and `indexer` libraries."""
