"""The storage layer's exception tree; the CLI and the page turn these into one-line messages."""


class StorageError(Exception):
    """Root of every error the storage layer raises on purpose."""

    exit_code = 1


class UsageError(StorageError):
    """The request itself is wrong (unknown id or path, bad option)."""

    exit_code = 2


class UnknownTrackError(UsageError):
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


class FolderError(UsageError):
    """A catalog folder cannot be added, built or forgotten as asked."""
