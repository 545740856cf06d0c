"""A small tagged catalog in several formats, indexed by the real indexer (fake embedder)."""

from __future__ import annotations

from pathlib import Path

from indexer.build import BuildOptions, build_catalog
from tests.audio_files import embed_cover, image_bytes, tag, write_audio
from tests.fake_embedder import FakeEmbedder

# Cover art as people have it: a cover.jpg beside one album, a picture embedded in one file, none elsewhere.
FOLDER_COVER = ("ana/first/cover.jpg", (230, 160, 40))
EMBEDDED_COVER = ("bo/tides/03 swell.flac", (40, 120, 230))

# (file, artist, album, title): three artists, two albums of one artist, six formats.
TRACKS = [
    ("ana/first/01 morning.flac", "Ana Lune", "First Light", "Morning"),
    ("ana/first/02 noon.mp3", "Ana Lune", "First Light", "Noon"),
    ("ana/second/01 dusk.ogg", "Ana Lune", "Second Sky", "Dusk"),
    ("ana/second/02 night.wav", "Ana Lune", "Second Sky", "Night"),
    ("bo/tides/01 ebb.aiff", "Bo Marsh", "Tides", "Ebb"),
    ("bo/tides/02 flow.m4a", "Bo Marsh", "Tides", "Flow"),
    ("bo/tides/03 swell.flac", "Bo Marsh", "Tides", "Swell"),
    ("cy/solo/01 one.mp3", "Cy Okafor", "Solo", "One"),
    ("cy/solo/02 two.wav", "Cy Okafor", "Solo", "Two"),
    ("cy/solo/03 three.flac", "Cy Okafor", "Solo", "Three"),
    ("cy/solo/04 four.ogg", "Cy Okafor", "Solo", "Four"),
    ("cy/solo/05 five.flac", "Cy Okafor", "Solo", "Five"),
]


def build_page_catalog(root: Path, data_dir: Path, embedder: FakeEmbedder | None = None) -> Path:
    """Write TRACKS under `root` (4-9 s each) and index them into `data_dir`; returns `data_dir`."""
    for i, (relative, artist, album, title) in enumerate(TRACKS):
        path = write_audio(root / relative, 4.0 + i % 6, seed=i)
        tag(path, artist=artist, album=album, title=title)
    (root / FOLDER_COVER[0]).write_bytes(image_bytes(FOLDER_COVER[1], size=500))
    embed_cover(root / EMBEDDED_COVER[0], image_bytes(EMBEDDED_COVER[1], size=400))
    options = BuildOptions(workers=1, progress=False, timeout=60)
    report = build_catalog(root, data_dir, options, embedder or FakeEmbedder())
    assert report.indexed == len(TRACKS), report.failed
    return data_dir
