"""The product's exception tree: one root, one UsageError. Each package adds its own errors under them
(indexer.errors, app.errors); the CLI, the page and the HTTP API catch `SoundalikeError` and turn it into
one line (an exit code, a message, a status)."""


class SoundalikeError(Exception):
    """Root of every error soundalike raises on purpose."""

    exit_code = 1


class UsageError(SoundalikeError):
    """The request itself is wrong (unknown id or path, bad option): exit code 2."""

    exit_code = 2


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
