"""Seeded synthetic catalogs shaped like a music library: genres, artists, albums, tracks.

A track's vector is its genre's centre plus its artist's, album's and its own offsets, so its
nearest neighbours are mostly its album, then its artist, then its genre, as with real
embeddings, where clusters within clusters give nearest neighbours a meaning that isotropic
clusters lack. Generated in chunks, so catalogs bigger than memory can be written to disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import numpy as np

GENRES = 50
ALBUM_BLOCK = 1024  # album offsets are drawn a block at a time, seeded per block: any chunking gives the same
WEIGHTS = (1.0, 0.8, 0.6, 0.5)  # genre, artist, album, track: spreads of each level, per dimension


class SyntheticCatalog:
    def __init__(self, count: int, dim: int, seed: int = 0) -> None:
        self.count, self.dim, self.seed = count, dim, seed
        rng = np.random.default_rng(seed)
        sizes = rng.integers(4, 17, count // 4 + 1)  # tracks per album
        self.album = np.repeat(np.arange(len(sizes)), sizes)[:count]
        albums = int(self.album[-1]) + 1
        self.artist = rng.integers(0, max(1, albums // 3), albums)  # of each album
        self.genre = rng.integers(0, GENRES, albums // 3 + 1)  # of each artist
        self.genres = rng.standard_normal((GENRES, dim), dtype=np.float32)
        self.artists = rng.standard_normal((albums // 3 + 1, dim), dtype=np.float32)

    @lru_cache(maxsize=2)  # noqa: B019 - one catalog per run
    def _album_block(self, block: int) -> np.ndarray:
        return np.random.default_rng((self.seed, 1, block)).standard_normal((ALBUM_BLOCK, self.dim), dtype=np.float32)

    def chunks(self, size: int = 65536) -> Iterator[np.ndarray]:
        """The catalog's L2-normalised vectors in order, `size` rows at a time."""
        g, a, b, t = WEIGHTS
        for lo in range(0, self.count, size):
            hi = min(self.count, lo + size)
            albums = self.album[lo:hi]
            artists = self.artist[albums]
            out = g * self.genres[self.genre[artists]] + a * self.artists[artists]
            for block in np.unique(albums // ALBUM_BLOCK):
                rows = albums // ALBUM_BLOCK == block
                out[rows] += b * self._album_block(int(block))[albums[rows] % ALBUM_BLOCK]
            out += t * np.random.default_rng((self.seed, 2, lo)).standard_normal(out.shape, dtype=np.float32)
            out /= np.linalg.norm(out, axis=1, keepdims=True)
            yield out

    def vectors(self) -> np.ndarray:
        return np.concatenate(list(self.chunks()))
