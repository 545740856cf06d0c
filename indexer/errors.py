"""The indexer's exception tree: one root, turned into one-line messages at the CLI edge."""


class IndexerError(Exception):
    """Root of every error the indexer raises on purpose."""

    exit_code = 1


class UsageError(IndexerError):
    """The request itself is wrong (bad usage: exit code 2)."""

    exit_code = 2


class UnknownModelError(UsageError):
    """No model of that name is registered."""


class WeightsError(IndexerError):
    """Model weights could not be found, fetched or read."""


class CheckpointMismatchError(WeightsError):
    """A checkpoint's tensors do not match the model (missing, unexpected or misshapen keys)."""


class EmbeddingInputError(IndexerError):
    """A waveform handed to an embedder is unusable (empty, not mono, NaN/inf)."""


class DeviceError(IndexerError):
    """The requested device or precision is not available here."""


class AudioTooLongError(IndexerError):
    """An outside file given as a query is longer than the configured limit."""
