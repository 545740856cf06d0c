"""Random-weight MusiCNN checkpoints in the wheel's published layout (TensorFlow 1 tensor bundles beside a
configuration.py of tag names), for tests and benchmarks that must not depend on the real wheel."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

from indexer.models.musicnn.bundle import MAGIC, masked_crc32c
from indexer.models.musicnn.checkpoint import tf_names
from indexer.models.musicnn.config import DATA_FILE, INDEX_FILE, LABELS_FILE, PACKAGE, VARIANTS
from indexer.models.musicnn.network import MusiCNN


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | int, wire: int = 0) -> bytes:
    key = _varint(number << 3 | wire)
    if wire == 0:
        assert isinstance(payload, int)
        return key + _varint(payload)
    if wire == 5:
        assert isinstance(payload, int)
        return key + struct.pack("<I", payload)
    assert isinstance(payload, bytes)
    return key + _varint(len(payload)) + payload


def _entry(array: np.ndarray, offset: int, data: bytes) -> bytes:
    shape = b"".join(_field(2, _field(1, size), 2) for size in array.shape)
    return (
        _field(1, 1)  # DT_FLOAT
        + _field(2, shape, 2)
        + _field(4, offset)
        + _field(5, len(data))
        + _field(6, masked_crc32c(data), 5)
    )


def _block(entries: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(_varint(0) + _varint(len(k)) + _varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack("<II", 0, 1)  # one restart point, at the first entry


def _with_trailer(block: bytes) -> bytes:
    return block + b"\x00" + struct.pack("<I", masked_crc32c(block + b"\x00"))


def write_bundle(folder: Path, tensors: dict[str, np.ndarray], stem: str = "") -> None:
    """`folder/STEM.index` + `folder/STEM.data-00000-of-00001`, as TensorFlow's BundleWriter lays them out (the
    wheel's checkpoints have an empty stem)."""
    data, entries = bytearray(), []
    for name in sorted(tensors):
        raw = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        entries.append((name.encode(), _entry(tensors[name], len(data), raw)))
        data += raw
    header = _field(1, 1) + _field(3, _field(1, 1), 2)  # one shard, little-endian, version 1
    table = bytearray()
    data_block = _block([(b"", header), *entries])
    table += _with_trailer(data_block)
    meta_block = _block([])
    meta_at = len(table)
    table += _with_trailer(meta_block)
    index_block = _block([(entries[-1][0] + b"\xff", _varint(0) + _varint(len(data_block)))])
    index_at = len(table)
    table += _with_trailer(index_block)
    footer = _varint(meta_at) + _varint(len(meta_block)) + _varint(index_at) + _varint(len(index_block))
    table += footer.ljust(40, b"\x00") + struct.pack("<Q", MAGIC)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / (stem + INDEX_FILE)).write_bytes(bytes(table))
    (folder / (stem + DATA_FILE)).write_bytes(bytes(data))


def random_tensors(seed: int = 0, tags: int = 50) -> dict[str, np.ndarray]:
    """Every inference variable of the authors' graph, random (batch-norm variances positive, scales of
    both signs as in the real checkpoints), plus a piece of Adam state the reader must skip."""
    rng = np.random.default_rng(seed)
    network = MusiCNN(tags)
    shapes = _tf_shapes(network)
    out = {}
    for name in tf_names():
        shape = shapes[name]
        if name.endswith("moving_variance"):
            out[name] = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("gamma"):
            out[name] = rng.normal(0.0, 1.0, shape)  # negative scales too: max over frequency must cope
        elif name.endswith("kernel"):
            fan_in = int(np.prod(shape[:-1]))
            out[name] = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        else:
            out[name] = rng.normal(0.0, 0.1, shape)
    out["dense/kernel/Adam"] = rng.normal(0.0, 1.0, shapes["dense/kernel"])
    return {k: v.astype(np.float32) for k, v in out.items()}


def _tf_shapes(network: MusiCNN) -> dict[str, tuple[int, ...]]:
    from indexer.models.musicnn.checkpoint import CONVS, DENSE, MID_CONVS, NORM_PARTS, NORMS

    state = network.state_dict()
    shapes: dict[str, tuple[int, ...]] = {}
    for layer, module in CONVS:
        out, inp, time, freq = state[f"{module}.weight"].shape
        shapes[f"{layer}/kernel"], shapes[f"{layer}/bias"] = (time, freq, inp, out), (out,)
    for layer, module in MID_CONVS:
        out, inp, width = state[f"{module}.weight"].shape
        shapes[f"{layer}/kernel"], shapes[f"{layer}/bias"] = (width, inp, 1, out), (out,)
    for layer, module in DENSE:
        out, inp = state[f"{module}.weight"].shape
        shapes[f"{layer}/kernel"], shapes[f"{layer}/bias"] = (inp, out), (out,)
    for layer, module in NORMS:
        for part in NORM_PARTS:
            shapes[f"{layer}/{part}"] = tuple(state[f"{module}.weight"].shape)
    return shapes


def write_random_musicnn(directory: Path, seed: int = 0) -> Path:
    """An unpacked wheel with random weights: `directory/musicnn/{configuration.py, MSD_musicnn/, MTT_musicnn/}`
    (tag names "msd tag 0", ..., "mtt tag 49"). Returns `directory`."""
    package = directory / PACKAGE
    names = []
    for i, variant in enumerate(VARIANTS.values()):
        write_bundle(package / variant.folder, random_tensors(seed + i))
        names.append(f"{variant.labels} = {[f'{variant.name} tag {t}' for t in range(50)]!r}")
    (package / LABELS_FILE).write_text("SR = 16000\n" + "\n".join(names) + "\n")
    return directory


def write_random_wheel(path: Path, seed: int = 0) -> Path:
    """The same as a wheel file: the wheel's member names and a .dist-info pip accepts (musicnn 0.1.0)."""
    unpacked = write_random_musicnn(path.parent / f".{path.stem}-unpacked", seed)
    info = "musicnn-0.1.0.dist-info"
    with zipfile.ZipFile(path, "w") as wheel:
        for file in sorted(unpacked.rglob("*")):
            if file.is_file():
                wheel.write(file, file.relative_to(unpacked).as_posix())
        wheel.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: musicnn\nVersion: 0.1.0\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path


def write_random(directory: Path, model: str, seed: int = 0) -> Path:
    """The registry's writer: an unpacked wheel with random weights (the network is small as published)."""
    return write_random_musicnn(directory, seed)
