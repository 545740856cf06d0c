"""`indexer serve`: the JSON API, OpenSubsonic and the audio and cover routes (app/routes.py) without the
page, from one or several worker processes (uvicorn's). The workers share the listening socket; each
opens the data directory itself, and the vector indexes are memory-mapped, so N workers hold one copy of
the vectors in the page cache, not N. The page (`streamlit run app/server.py`) can run beside it on the
same data directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.routes import ROUTES
from storage import __version__


async def health(request: Request) -> JSONResponse:
    """Up, and which worker answered (a load balancer's check; the tests count workers with it)."""
    return JSONResponse({"status": "ok", "version": __version__, "worker": os.getpid()})


# Read by OpenMP (FAISS's search), BLAS and torch when a worker starts: without them each of N workers
# would run a search on every core, and N workers would be no faster than one.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

app = Starlette(routes=[Route("/health", health), *ROUTES])


def serve(host: str, port: int, workers: int, data_dir: Path | None = None, log_level: str = "warning") -> None:
    """Serve until interrupted. Several workers need the app by its import name, so settings travel by
    environment (the data directory as SOUNDALIKE_DATA)."""
    import uvicorn

    if data_dir is not None:
        os.environ["SOUNDALIKE_DATA"] = str(data_dir)
    if workers > 1:  # each worker answers one search at a time: its share of the cores, not all of them
        share = str(max(1, (os.cpu_count() or 1) // workers))
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, share)
    uvicorn.run("app.http_server:app", host=host, port=port, workers=workers, log_level=log_level)
