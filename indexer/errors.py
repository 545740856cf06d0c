"""The indexer's errors, under the product's root (storage.core.errors): front ends catch SoundalikeError."""

from storage.core.errors import SoundalikeError, UsageError

__all__ = [
    "AudioTooLongError",
    "CheckpointMismatchError",
    "DeviceError",
    "EmbeddingInputError",
    "HubUnreachableError",
    "IndexerError",
    "UnknownModelError",
    "UsageError",
    "WeightsError",
]


class IndexerError(SoundalikeError):
    """Root of the indexer's own errors (models, weights, audio)."""


class UnknownModelError(UsageError, IndexerError):
    """No model of that name is registered."""


class WeightsError(IndexerError):
    """Model weights could not be found, fetched or read."""


class HubUnreachableError(WeightsError):
    """The weights are on the Hub, which is offline or unreachable, and not in the local cache."""


class CheckpointMismatchError(WeightsError):
    """A checkpoint's tensors do not match the model (missing, unexpected or misshapen keys)."""


class EmbeddingInputError(IndexerError):
    """A waveform handed to an embedder is unusable (empty, not mono, NaN/inf)."""


class DeviceError(IndexerError):
    """The requested device or precision is not available here."""


class AudioTooLongError(IndexerError):
    """An outside file given as a query is longer than the configured limit."""
