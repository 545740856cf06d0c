"""Find model files: a local directory or a Hugging Face Hub repo (`owner/name[@revision]`).

Shared by every model. The Hub path goes through huggingface_hub and its cache, so
`HF_HUB_OFFLINE=1` and a pre-filled cache (or `HF_HUB_CACHE`) work with no network. A cached copy
is used as it is (`repo@revision` asks for another); otherwise one quick connection decides whether
the Hub is reachable before any download, so offline costs one line, not minutes of retries.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import HubUnreachableError, WeightsError
from storage.core.paths import WEIGHTS_ENV, chosen_weights

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightsFiles:
    """Resolved local paths of a model's files and the revision that names them."""

    paths: dict[str, Path]
    revision: str  # Hub commit sha, or "sha256:<hex>" of the main file for a directory
    source: str  # what the user asked for, for messages


def weights_spec(explicit: str | None, default_repo: str) -> str:
    """The weights the user asked for (storage.core.paths.chosen_weights), else the model's default repo."""
    return chosen_weights(explicit) or default_repo


def _how_to_provide(spec: str, filenames: list[str]) -> str:
    names = " + ".join(filenames)
    return (
        f"provide a folder holding {names} with --weights DIR or {WEIGHTS_ENV}=DIR, "
        f"or fill the Hugging Face cache once while online (`hf download {spec.split('@')[0]}`; "
        "`hf auth login` if the repo is gated) and use HF_HUB_OFFLINE=1 afterwards"
    )


def _file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return "sha256:" + hashlib.file_digest(f, "sha256").hexdigest()[:16]


def _from_directory(directory: Path, filenames: list[str], spec: str) -> WeightsFiles:
    missing = [n for n in filenames if not (directory / n).is_file()]
    if missing:
        raise WeightsError(
            f"weights folder {directory} lacks {', '.join(missing)}; " + _how_to_provide(spec, filenames)
        )
    paths = {n: directory / n for n in filenames}
    return WeightsFiles(paths=paths, revision=_file_digest(paths[filenames[-1]]), source=str(directory))


def _from_hub(spec: str, filenames: list[str]) -> WeightsFiles:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    repo_id, _, revision = spec.partition("@")
    # Read at call time (not at import of huggingface_hub) so tests and users can set it late.
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}
    paths: dict[str, Path] = {}
    try:
        # The cached copy first: a build keeps the revision its vectors came from, and needs no network.
        cached = _cached(repo_id, revision, filenames)
        if cached is None and not offline:
            _check_reachable()
            log.warning("downloading the %s weights from the Hugging Face Hub", spec)
            with _hub_quiet():  # its retry warnings, each printed twice, for ~30 s: one error instead
                for name in filenames:
                    paths[name] = Path(hf_hub_download(repo_id, name, revision=revision or None))
        elif cached is None:
            raise LocalEntryNotFoundError("offline and not cached")
        else:
            paths = cached
    except LocalEntryNotFoundError as exc:
        state = "offline (HF_HUB_OFFLINE is set)" if offline else "unreachable"
        raise HubUnreachableError(
            f"weights '{spec}' not found: the Hub is {state} and they are not in the local cache; "
            + _how_to_provide(spec, filenames)
        ) from exc
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError, HFValidationError) as exc:
        raise WeightsError(
            f"weights '{spec}' not found on the Hub ({type(exc).__name__}); " + _how_to_provide(spec, filenames)
        ) from exc
    except (HfHubHTTPError, OSError) as exc:
        raise WeightsError(
            f"could not download weights '{spec}': {exc.__class__.__name__}; " + _how_to_provide(spec, filenames)
        ) from exc
    # Cached files live in .../snapshots/<commit>/<name>: the commit names the revision.
    commit = paths[filenames[-1]].parent.name
    return WeightsFiles(paths=paths, revision=commit, source=spec)


def _cached(repo_id: str, revision: str, filenames: list[str]) -> dict[str, Path] | None:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return {
            name: Path(hf_hub_download(repo_id, name, revision=revision or None, local_files_only=True))
            for name in filenames
        }
    except LocalEntryNotFoundError:
        return None


def _check_reachable(timeout: float = 5.0) -> None:
    """One quick connection to the Hub's endpoint; LocalEntryNotFoundError (as the library raises for
    "offline, not cached") when it fails, so an unreachable Hub costs seconds and one line."""
    from urllib.parse import urlparse

    from huggingface_hub import constants
    from huggingface_hub.errors import LocalEntryNotFoundError

    endpoint = urlparse(constants.ENDPOINT)
    port = endpoint.port or (443 if endpoint.scheme == "https" else 80)
    try:
        socket.create_connection((endpoint.hostname or "", port), timeout=timeout).close()
    except OSError as exc:
        raise LocalEntryNotFoundError(f"{endpoint.hostname}:{port} unreachable ({exc})") from exc


@contextmanager
def _hub_quiet() -> Iterator[None]:
    from huggingface_hub.utils import logging as hub_logging

    previous = hub_logging.get_verbosity()
    hub_logging.set_verbosity_error()
    try:
        yield
    finally:
        hub_logging.set_verbosity(previous)


def resolve_weights(spec: str, filenames: list[str]) -> WeightsFiles:
    """Resolve `spec` (a local directory, or a Hub repo id with optional `@revision`) to files."""
    candidate = Path(spec).expanduser()
    if candidate.is_dir():
        log.info("loading weights from folder %s", candidate)
        return _from_directory(candidate, filenames, spec)
    if candidate.exists() or spec.startswith((".", "/", "~")) or spec.partition("@")[0].count("/") != 1:
        raise WeightsError(
            f"weights '{spec}' is neither a folder nor a Hub repo id; " + _how_to_provide(spec, filenames)
        )
    log.info("loading weights from Hugging Face Hub repo %s", spec)
    return _from_hub(spec, filenames)
