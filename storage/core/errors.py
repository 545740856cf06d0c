"""The product's exception tree: one root, one UsageError. Each package adds its own errors under them
(indexer.errors, app.errors); the CLI, the page and the HTTP API catch `SoundalikeError` and turn it into
one line: a message with the exit code or HTTP status of `OUTCOMES`, the one table of them."""

from __future__ import annotations


class SoundalikeError(Exception):
    """Root of every error soundalike raises on purpose."""


class UsageError(SoundalikeError):
    """The request itself is wrong (unknown id or path, bad option): exit code 2."""


class QuestionError(UsageError):
    """The parts of a question do not go together (a passage of a description, moments without words)."""


class StorageError(SoundalikeError):
    """Root of the storage layer's own errors (the data directory, its database and indexes)."""


class UnknownTrackError(UsageError, StorageError):
    """No track has that id or path."""


class NoDataError(StorageError):
    """The data directory or its database does not exist yet."""


class EmptyIndexError(StorageError):
    """There is no index to search (nothing embedded yet)."""


class StaleIndexError(StorageError):
    """The index on disk was built before the latest changes to the stored vectors."""


class ModelMismatchError(StorageError):
    """Vectors of another model or weights revision than the ones asked for."""


class CorruptIndexError(StorageError):
    """An index file cannot be read."""


class BuildLockedError(StorageError):
    """Another build (or forget) holds the data directory's writer lock."""


class FolderError(UsageError, StorageError):
    """A catalog folder cannot be added, built or forgotten as asked."""


# What an error means at each edge: (exit code of a command, HTTP status of the API); the first class that
# matches wins, so the more particular ones come first. 0 done and 130 interrupted are the CLI's own.
OUTCOMES: tuple[tuple[type[SoundalikeError], int, int], ...] = (
    (UnknownTrackError, 2, 404),
    (QuestionError, 2, 422),
    (UsageError, 2, 400),
    (SoundalikeError, 1, 400),
)


def exit_code(exc: SoundalikeError) -> int:
    return next(code for kind, code, _ in OUTCOMES if isinstance(exc, kind))


def http_status(exc: SoundalikeError) -> int:
    return next(status for kind, _, status in OUTCOMES if isinstance(exc, kind))
