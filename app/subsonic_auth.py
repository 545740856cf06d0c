"""Subsonic authentication for the OpenSubsonic endpoints: `u` + `t` + `s` (token = md5(password + salt)),
`u` + `p` (plain or `enc:` hex), or OpenSubsonic's `apiKey`. Credentials come from the environment:
SOUNDALIKE_SUBSONIC_USER with SOUNDALIKE_SUBSONIC_PASSWORD, and/or SOUNDALIKE_API_KEY. With none
configured, only clients on this machine (loopback) are served, without credentials."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping

from app.errors import AuthError

USER_ENV = "SOUNDALIKE_SUBSONIC_USER"
PASSWORD_ENV = "SOUNDALIKE_SUBSONIC_PASSWORD"
API_KEY_ENV = "SOUNDALIKE_API_KEY"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def check(params: Mapping[str, str], client_host: str | None) -> None:
    """Nothing when the request may go on; AuthError with the Subsonic code otherwise."""
    user, password, key = os.environ.get(USER_ENV), os.environ.get(PASSWORD_ENV), os.environ.get(API_KEY_ENV)
    if "apiKey" in params:
        if "u" in params:
            raise AuthError(43, "give either apiKey or u, not both")
        if not key or not hmac.compare_digest(params["apiKey"], key):
            raise AuthError(44, "invalid API key")
        return
    if "u" in params:
        if not user or not password or not hmac.compare_digest(params["u"], user):
            raise AuthError(40, "wrong username or password")
        if not _password_matches(params, password):
            raise AuthError(40, "wrong username or password")
        return
    if user or key:
        raise AuthError(10, "required parameter is missing: u with t and s (or p), or apiKey")
    if client_host not in LOOPBACK:
        raise AuthError(
            40, f"set {USER_ENV} and {PASSWORD_ENV} (or {API_KEY_ENV}) to serve clients beyond this machine"
        )


def _password_matches(params: Mapping[str, str], password: str) -> bool:
    if "t" in params and "s" in params:
        token = hashlib.md5((password + params["s"]).encode(), usedforsecurity=False).hexdigest()
        return hmac.compare_digest(params["t"].lower(), token)
    given = params.get("p")
    if given is None:
        return False
    if given.startswith("enc:"):
        try:
            given = bytes.fromhex(given[4:]).decode()
        except ValueError:
            return False
    return hmac.compare_digest(given, password)
