"""`indexer build --engine ray`: the engine that runs a build's decode and embed steps as a Ray Data pipeline.

Planning, the writer lock, failures and the index stay with the builder in the driver (indexer.build),
and every write goes through the same store API and the same steps (indexer.engine_steps) as the in-process
engine; Ray runs the steps in between:

    tracks -> decode (CPU tasks; each file in a child process, with the same timeout and crash handling)
           -> embed (an actor pool: the model loaded once per GPU, or once per node without GPUs)
           -> commit, one transaction per track: by each actor on PostgreSQL (several writers at once),
              by the driver on SQLite (a file on its machine, one writer); progress in the driver

A crash of a worker is retried by Ray; a crash of the driver loses only tracks not yet committed,
which the next build (either engine) finds pending and finishes. Ray is imported only here.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from indexer.audio import second_levels, slice_loudness
from indexer.engine_steps import EmbedJob, TrackOutcome, commit_track, failure_reason, load_track
from indexer.errors import IndexerError, UsageError
from indexer.models.base import Embedder, TrackEmbedding
from storage.write.store import Store

log = logging.getLogger(__name__)

TRACKS_PER_BLOCK = 4  # tracks per decode task: small, so a retry redoes little
TRACKS_PER_CALL = 16  # tracks per embedding call: the model's batches stay full across tracks
DECODE_MEMORY = 512 * 2**20  # reserved per decode task: a 60-minute track decodes to 230 MB, plus the decoder


def ray_module() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise UsageError("--engine ray needs Ray: pip install -e '.[ray]'") from exc
    return ray


def _decode_rows(batch: dict[str, np.ndarray], sample_rate: int, timeout: float) -> dict[str, list]:
    """Decode task: each file in a child process (a decoder that hangs or crashes takes only that child)."""
    from pebble import concurrent

    run = concurrent.process(timeout=timeout)(load_track)
    out: dict[str, list] = {"id": [], "payload": []}
    for track_id, path in zip(batch["id"], batch["path"], strict=True):
        try:
            wave, tags, heard = run(str(path), sample_rate).result()
            tags = replace(tags, duration=wave.size / sample_rate)
            item: tuple = (None, wave, tags, second_levels(wave, sample_rate), heard)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is this file's failure
            item = (failure_reason(exc, timeout), None, None, None, None)
        out["id"].append(int(track_id))
        out["payload"].append(pickle.dumps(item, protocol=5))
    return out


class EmbedActor:
    """Holds the model once; embeds decoded tracks a block at a time."""

    def __init__(self, job: EmbedJob, threads: int) -> None:
        import torch

        from indexer import models

        # A server database (PostgreSQL): this actor commits its own tracks, several writing at once.
        where = Path(tempfile.gettempdir()) / "soundalike-ray-writer"
        self.store = Store(where, job.database) if job.database else None
        self.job = job

        torch.set_num_threads(threads)  # Ray sets one thread per CPU it reserved; decoding shares the node
        self.embedder = models.load_embedder(
            job.model, job.weights, job.device, job.precision, job.batch_size, **job.options
        )
        if self.embedder.revision != job.revision:
            raise IndexerError(f"a Ray worker loaded weights {self.embedder.revision}, the driver {job.revision}")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        items = {int(i): pickle.loads(p) for i, p in zip(batch["id"], batch["payload"], strict=True)}
        results: dict[int, Any] = {}  # an embedding, or the reason it failed
        decoded = ((i, wave) for i, (error, wave, _, _, _) in items.items() if error is None)
        try:
            for track_id, embedded in self.embedder.embed_stream(decoded):
                results[track_id] = embedded
        except Exception as exc:  # noqa: BLE001 - a bad input fails its block's tracks, one at a time below
            log.warning("embedding a block failed (%s); retrying its tracks one by one", exc)
            results = self._one_by_one(items)
        out: dict[str, list] = {"id": [], "payload": []}
        for track_id, (error, _, tags, levels, heard) in items.items():
            result: TrackEmbedding | None = None
            found = results.get(track_id)
            if isinstance(found, str):
                error = found
            else:
                result = found
            loudness = slice_loudness(levels, result.starts) if result is not None else None
            written = None
            if result is not None and self.store is not None:
                assert loudness is not None
                job = self.job
                written = commit_track(self.store, job.model, job.revision, track_id, tags, result, loudness, heard)
                result, loudness, heard = None, None, None  # committed: only the outcome goes back
            out["id"].append(track_id)
            out["payload"].append(pickle.dumps((error, tags, result, loudness, written, heard), protocol=5))
        return out

    def _one_by_one(self, items: dict[int, tuple]) -> dict[int, Any]:
        results: dict[int, Any] = {}
        for track_id, (error, wave, _, _, _) in items.items():
            if error is not None:
                continue
            try:
                results[track_id] = next(iter(self.embedder.embed_stream([(track_id, wave)])))[1]
            except Exception as exc:  # noqa: BLE001 - the one track that fails is recorded, its block goes on
                results[track_id] = f"{type(exc).__name__}: {exc}"
        return results


class RayEngine:
    """Turns tracks into outcomes on a Ray cluster (`address`: None starts a local one for the build)."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address

    def run(self, tracks: list[tuple[int, Path]], job: EmbedJob, embedder: Embedder) -> Iterator[TrackOutcome]:
        ray = ray_module()
        started_here = not ray.is_initialized()
        if started_here:
            self._connect(ray)
        try:
            for track_id, payload in self._pipeline(ray, tracks, job):
                error, tags, result, loudness, written, heard = pickle.loads(payload)
                yield TrackOutcome(track_id, tags, result, loudness, error, written, heard)
        finally:
            if started_here:
                ray.shutdown()

    def _connect(self, ray: Any) -> None:
        address = self.address or "local"  # "auto": the cluster this machine joined with `ray start`
        try:
            ray.init(
                address=address,
                log_to_driver=False,
                logging_level=logging.WARNING,
                include_dashboard=False,
                configure_logging=False,
            )
        except ConnectionError as exc:
            raise IndexerError(f"cannot reach the Ray cluster at {address}: {str(exc).splitlines()[0]}") from exc

    def _pipeline(self, ray: Any, tracks: list[tuple[int, Path]], job: EmbedJob) -> Iterator[tuple[int, bytes]]:
        import ray.data

        if not log.isEnabledFor(logging.DEBUG):  # Ray Data's own chatter, as the decoders' (indexer/quiet.py)
            logging.getLogger("ray.data").setLevel(logging.WARNING)
            warnings.filterwarnings("ignore", message="The minimum number of concurrent actors")
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        gpus = int(ray.cluster_resources().get("GPU", 0))
        nodes = max(1, len([n for n in ray.nodes() if n["Alive"]]))
        actors = gpus or nodes
        node_cpus = max(1, int(ray.cluster_resources().get("CPU", 1)) // nodes)
        # Without GPUs an actor reserves half its node's CPUs (none on a 1-CPU node), so decode tasks always
        # find one; its torch uses them all, sharing them with decoding as the in-process build does.
        actor_cpus = 0 if gpus else node_cpus // 2
        items = [{"id": track_id, "path": str(path)} for track_id, path in tracks]
        ds = ray.data.from_items(items, override_num_blocks=len(items))  # a block a track: results stream
        ds = ds.map_batches(
            _decode_rows,
            fn_kwargs={"sample_rate": job.sample_rate, "timeout": job.timeout},
            batch_size=TRACKS_PER_BLOCK,
            num_cpus=1,
            memory=DECODE_MEMORY,  # also keeps decoding its own step: Ray fuses steps asking the same resources
        )
        ds = ds.map_batches(
            EmbedActor,
            fn_constructor_kwargs={"job": job, "threads": node_cpus},
            batch_size=TRACKS_PER_CALL,
            concurrency=actors,
            num_gpus=1 if gpus else 0,
            num_cpus=actor_cpus,
        )
        for row in ds.iter_rows():
            yield int(row["id"]), row["payload"]
