"""The app's exception root; pages and routes turn these into messages and status codes."""


class AppError(Exception):
    """Root of every error the app raises on purpose."""


class AudioUnavailableError(AppError):
    """A track's audio cannot be served: unknown to the catalog (404) or its file is gone (410)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
