"""`streamlit run app/server.py`: the "Find similar tracks" page plus the routes every soundalike server
serves (app/routes.py: the page's audio and covers, OpenSubsonic under `/rest/`, the JSON API under
`/api`). Streamlit's ASGI `App` serves the page script and those routes beside it.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app.routes import ROUTES

app = st.App(Path(__file__).with_name("find_similar.py"), routes=ROUTES)
