"""A reader of TensorFlow 1 checkpoints (tensor bundles), with no TensorFlow.

A bundle is `PREFIX.index`, a LevelDB-format table mapping each tensor's name to a BundleEntryProto
(dtype, shape, shard, offset, size, masked CRC-32C), and `PREFIX.data-00000-of-00001`, the tensors'
raw little-endian bytes. The table: data blocks of prefix-compressed entries with a restart array, an
index block pointing at them, and a 48-byte footer ending in the table's magic number; each block is
followed by a compression byte (0: none, as TensorFlow writes bundles) and its masked CRC-32C. Every block
and every tensor read is checked against its checksum.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import google_crc32c
import numpy as np

from indexer.errors import WeightsError

MAGIC = 0xDB4775248B80FB57
FOOTER = 48
MASK_DELTA = 0xA282EAD8
DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 10: np.bool_, 19: np.float16}


def masked_crc32c(data: bytes) -> int:
    """LevelDB's and TensorFlow's masked CRC-32C (rotated, offset: a CRC of CRCs stays informative)."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: varints as ints, length-delimited as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire == 2:
            size, pos = _varint(buf, pos)
            yield number, buf[pos : pos + size]
            pos += size
        elif wire == 5:
            yield number, struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        elif wire == 1:
            yield number, struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        else:
            raise WeightsError(f"checkpoint index: unsupported protobuf wire type {wire}")


@dataclass(frozen=True)
class Entry:
    """Where one tensor lies in the data shard, and what it is."""

    dtype: int
    shape: tuple[int, ...]
    shard: int
    offset: int
    size: int
    crc: int | None


def _entry(value: bytes) -> Entry:
    dtype = shard = offset = size = 0
    shape: list[int] = []
    crc = None
    for number, field in _fields(value):
        if number == 1:
            dtype = int(field)
        elif number == 2:
            assert isinstance(field, bytes)
            shape = [int(d) for n, dim in _fields(field) if n == 2 for m, d in _fields(dim) if m == 1]  # type: ignore[arg-type]
        elif number == 3:
            shard = int(field)
        elif number == 4:
            offset = int(field)
        elif number == 5:
            size = int(field)
        elif number == 6:
            crc = int(field)
        elif number == 7:
            raise WeightsError("checkpoint index: sliced tensors are not supported")
    return Entry(dtype, tuple(shape), shard, offset, size, crc)


def _block(table: bytes, offset: int, size: int, what: str) -> bytes:
    """A table block's contents, its checksum verified."""
    end = offset + size
    if end + 5 > len(table):
        raise WeightsError(f"{what}: block past the end of the file")
    kind = table[end]
    (stored,) = struct.unpack_from("<I", table, end + 1)
    if masked_crc32c(table[offset : end + 1]) != stored:
        raise WeightsError(f"{what}: block checksum mismatch (the file is damaged)")
    if kind != 0:
        raise WeightsError(f"{what}: compressed table blocks (type {kind}) are not supported")
    return table[offset:end]


def _block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of a block, keys restored from their shared prefixes."""
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * restarts
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        length, pos = _varint(block, pos)
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        yield key, block[pos : pos + length]
        pos += length


def read_index(table: bytes, what: str = "checkpoint index") -> dict[str, Entry]:
    """Every tensor's entry in a bundle's `.index` table, by name."""
    if len(table) < FOOTER or struct.unpack_from("<Q", table, len(table) - 8)[0] != MAGIC:
        raise WeightsError(f"{what}: not a TensorFlow checkpoint index (no table magic number)")
    footer = table[len(table) - FOOTER :]
    _, pos = _varint(footer, 0)  # the metaindex handle (unused by bundles)
    _, pos = _varint(footer, pos)
    index_offset, pos = _varint(footer, pos)
    index_size, _ = _varint(footer, pos)
    entries: dict[str, Entry] = {}
    for _, handle in _block_entries(_block(table, index_offset, index_size, what)):
        offset, pos = _varint(handle, 0)
        size, _ = _varint(handle, pos)
        for key, value in _block_entries(_block(table, offset, size, what)):
            if key:  # the empty key holds the bundle's header
                entries[key.decode()] = _entry(value)
    return entries


def read_tensors(index: bytes, data: bytes, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """The named tensors (all, when None) of a single-shard bundle, each checked against its CRC-32C."""
    entries = read_index(index)
    wanted = list(entries) if names is None else names
    missing = [n for n in wanted if n not in entries]
    if missing:
        raise WeightsError(f"checkpoint lacks {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
    out = {}
    for name in wanted:
        entry = entries[name]
        if entry.shard != 0:
            raise WeightsError(f"checkpoint tensor {name} lies in shard {entry.shard}; one shard is supported")
        raw = data[entry.offset : entry.offset + entry.size]
        if len(raw) != entry.size:
            raise WeightsError(f"checkpoint tensor {name} runs past the end of the data file")
        if entry.crc is not None and masked_crc32c(raw) != entry.crc:
            raise WeightsError(f"checkpoint tensor {name} fails its checksum (the data file is damaged)")
        dtype = DTYPES.get(entry.dtype)
        if dtype is None:
            raise WeightsError(f"checkpoint tensor {name} has an unsupported dtype ({entry.dtype})")
        out[name] = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(entry.shape).copy()
    return out
