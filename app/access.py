"""Who may call the JSON API: everyone on this machine (loopback) while no API key is set; with
SOUNDALIKE_API_KEY set, every request must carry it (header `X-API-Key`, or `apiKey=`)."""

from __future__ import annotations

import hmac
import os

from app.errors import AccessError
from app.subsonic_auth import API_KEY_ENV, LOOPBACK


def check_access(given_key: str | None, client_host: str | None) -> None:
    key = os.environ.get(API_KEY_ENV)
    if key:
        if given_key is None or not hmac.compare_digest(given_key, key):
            raise AccessError("an API key is needed: header X-API-Key or apiKey=")
        return
    if client_host not in LOOPBACK:
        raise AccessError(f"set {API_KEY_ENV} to serve clients beyond this machine")
