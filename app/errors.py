"""The app's errors, under the product's root (storage.core.errors.SoundalikeError); pages and routes turn
them into messages and status codes."""

from storage.core.errors import SoundalikeError


class AppError(SoundalikeError):
    """Root of the app's own errors (the page, the HTTP API, OpenSubsonic)."""


class AudioUnavailableError(AppError):
    """A track's audio cannot be served: unknown to the catalog (404) or its file is gone (410)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class AccessError(AppError):
    """A JSON API request without the API key it needs (401)."""


class SubsonicError(AppError):
    """An OpenSubsonic request that fails with a Subsonic error code (answered with status "failed")."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class AuthError(SubsonicError):
    """Subsonic credentials missing or wrong (codes 10, 40, 43, 44)."""


class MpdError(AppError):
    """MPD radio cannot go on: a refused password, a bad address or option (exit 1)."""
