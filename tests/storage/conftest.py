"""Stores filled with seeded synthetic vectors, on SQLite and on the machine's PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from storage.write.store import Store
from storage.write.sync import FileState, FolderChanges


def clustered_vectors(n: int, dim: int, seed: int = 0, clusters: int = 50) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    labels = rng.integers(0, clusters, n)
    return (centres[labels] + 0.6 * rng.standard_normal((n, dim))).astype(np.float32)


ARTISTS = ["Ann", "Bob", "Cy", "Dee"]


def fill_store(data_dir: Path, vectors: np.ndarray, model: str = "mule", revision: str = "rev1") -> Store:
    """Tracks 1..n with tags in one catalog folder, their vectors, and an index."""
    store = Store(data_dir)
    root = data_dir.parent / "catalog"
    root.mkdir(exist_ok=True)
    folder = store.add_folder(root)
    paths = [f"{ARTISTS[i % 4]}/album {i % 3}/track {i:03d}.flac" for i in range(len(vectors))]
    store.apply_changes(folder, FolderChanges(new=[FileState(p, 1, 0.0, f"h{i}") for i, p in enumerate(paths)]), model)
    for i, v in enumerate(vectors):
        tags = {"title": f"Song {i}", "artist": ARTISTS[i % 4], "album": f"{ARTISTS[i % 4]} album {i % 3}"}
        store.save_embedding(
            i + 1, model, revision, tags | {"duration": 30.0 + i}, v, np.stack([v, v]), np.array([0.0, 2.0])
        )
    store.rebuild_index(model)
    return store
