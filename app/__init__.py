"""The front ends: the page (Streamlit), the JSON API and OpenSubsonic served by one process, MPD radio, the beets
plugin, and how tracks and results read to a person (app.display). Each parses its input, asks storage.search and
renders the answer."""
