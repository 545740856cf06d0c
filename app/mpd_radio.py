"""MPD radio: an MPD server's queue that never runs dry.

`indexer mpd` connects to MPD as its own clients do (host, port and password flags, or `MPD_HOST` as
`[password@]host` and `MPD_PORT`; a host starting with `/` or `@` is a local socket), follows what plays,
and whenever fewer than `keep` tracks remain after the current one it appends the next tracks of a
radio (storage.search.radio.RadioStream) that follows what has been playing: the listener's own choices steer
it, nothing is played twice (the queue counts as played), no artist again within the artist window, the
caps on top. It only ever appends: it never clears, removes or moves what is queued. When MPD goes away
it says so once and reconnects with backoff until MPD is back.

MPD names files relative to its `music_directory`: `TrackMap` finds a file's catalog track under a
given music directory, or else by the unique catalog path that ends with MPD's (learning the music
directory from the first match, so the radio's picks can be named back to MPD).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from app.errors import MpdError
from storage.core.paths import file_place
from storage.core.tracks import TrackInfo
from storage.read.catalog import Catalog
from storage.search.caps import Caps
from storage.search.radio import RadioStream
from storage.search.service import SearchService

log = logging.getLogger(__name__)

DEFAULT_PORT = 6600
RELOAD_AFTER_S = 30.0  # an unknown file re-reads the catalog's tracks at most this often (a build may add it)
BACKOFF_S = (0.5, 10.0)  # first and longest wait between reconnections
POLL_S = 0.25  # how often MPD's status is read: a low queue is topped up within about this


@dataclass(frozen=True)
class MpdAddress:
    host: str = "localhost"
    port: int = DEFAULT_PORT
    password: str | None = None

    @classmethod
    def resolve(cls, host: str | None = None, port: int | None = None, password: str | None = None) -> MpdAddress:
        """Flags first, then MPD's own variables: `MPD_HOST` ([password@]host) and `MPD_PORT`."""
        raw = host or os.environ.get("MPD_HOST") or "localhost"
        at = raw.find("@", 1)  # "@name" alone is an abstract socket, not a password
        if at > 0:
            password, raw = password or raw[:at], raw[at + 1 :]
        try:
            number = port or int(os.environ.get("MPD_PORT") or DEFAULT_PORT)
        except ValueError:
            raise MpdError(f"MPD_PORT must be a port number, not {os.environ.get('MPD_PORT')!r}") from None
        return cls(raw, number, password)

    def __str__(self) -> str:
        return self.host if self.host.startswith(("/", "@")) else f"{self.host}:{self.port}"


class TrackMap:
    """MPD file URIs (relative to MPD's music_directory) to indexed catalog tracks, and back."""

    def __init__(self, catalog: Catalog, music_dir: Path | None = None) -> None:
        self.catalog = catalog
        self.music_dir = music_dir.expanduser().resolve() if music_dir else None  # a folder: resolved
        self._by_name: dict[str, list[TrackInfo]] = {}
        self._loaded_at = float("-inf")
        self._unknown: set[str] = set()

    def track(self, uri: str) -> TrackInfo | None:
        """The indexed track MPD's `uri` is (None, said once per file, when there is none or several)."""
        found = self._lookup(uri)
        if found is None and time.monotonic() - self._loaded_at > RELOAD_AFTER_S:
            self._load()
            found = self._lookup(uri)
        if found is None and uri not in self._unknown:
            self._unknown.add(uri)
            log.warning("MPD's %s is not an indexed catalog track: the radio passes over it", uri)
        return found

    def uri(self, track: TrackInfo) -> str | None:
        """The name MPD knows `track` by (None until the music directory is known, or when outside it)."""
        if self.music_dir is None:
            return None
        try:
            return file_place(track.file).relative_to(self.music_dir).as_posix()
        except ValueError:
            return None

    def known(self, entries: list[dict[str, str]]) -> list[TrackInfo]:
        """The indexed tracks among MPD queue or search entries (the others said once, passed over)."""
        return [t for e in entries if (t := self.track(e["file"])) is not None]

    def _lookup(self, uri: str) -> TrackInfo | None:
        tail = PurePosixPath(uri)
        candidates = self._by_name.get(tail.name, [])
        if self.music_dir is not None:
            wanted = file_place(self.music_dir / tail)
            return next((t for t in candidates if file_place(t.file) == wanted), None)
        ending = [t for t in candidates if file_place(t.file).as_posix().endswith("/" + tail.as_posix())]
        if len(ending) != 1:
            return None
        root = file_place(ending[0].file).as_posix()[: -len(tail.as_posix()) - 1]
        self.music_dir = Path(root)
        log.info("MPD's music directory is %s here (from %s)", root, uri)
        return ending[0]

    def _load(self) -> None:
        index = self.catalog.index()
        tracks = self.catalog.all_tracks()
        indexed = {int(i) for i in index.ids}
        self._by_name = {}
        for track in tracks:
            if track.id in indexed:
                self._by_name.setdefault(Path(track.path).name, []).append(track)
        self._loaded_at = time.monotonic()


def _mpd() -> Any:
    import mpd  # python-mpd2

    return mpd


@contextmanager
def connected(address: MpdAddress) -> Iterator[Any]:
    """An MPD client connected (and logged in) to `address`."""
    mpd = _mpd()
    client = mpd.MPDClient()
    client.timeout = 10
    client.connect(address.host, address.port)
    try:
        if address.password:
            try:
                client.password(address.password)
            except mpd.CommandError as exc:
                raise MpdError(f"MPD at {address} refused the password: {exc}") from None
        yield client
    finally:
        with suppress(mpd.ConnectionError, OSError):
            client.disconnect()


class MpdRadio:
    """Keeps MPD's queue `keep` tracks ahead of the current one, with the radio of what has been playing."""

    def __init__(
        self,
        catalog: Catalog,
        address: MpdAddress,
        tracks: TrackMap,
        keep: int = 5,
        artist_window: int = 5,
        variety: float = 0.3,
        caps: Caps | None = None,
    ) -> None:
        if keep < 1:
            raise MpdError("--keep must be at least 1")
        self.catalog, self.address, self.tracks, self.keep = catalog, address, tracks, keep
        self.service = SearchService(catalog)
        self.artist_window, self.variety, self.caps = artist_window, variety, caps
        self.stream: RadioStream | None = None
        self.stop = threading.Event()
        self._current: str | None = None  # MPD's id of the song last seen playing
        self._seen: set[str] = set()  # queue entries (MPD ids) already counted as played
        self._waiting_said = False

    # -- keeping the queue topped up ---------------------------------------------------------------------

    def run(self) -> None:
        """Follow MPD until `stop` is set, reconnecting whenever it goes away."""
        mpd = _mpd()
        delay, lost = BACKOFF_S[0], False
        while not self.stop.is_set():
            try:
                with connected(self.address) as client:
                    if lost:
                        log.warning("MPD at %s is back", self.address)
                    lost, delay = False, BACKOFF_S[0]
                    self._follow(client)
            except (mpd.ConnectionError, OSError) as exc:
                if not lost:
                    log.warning("MPD at %s is not answering (%s): reconnecting until it is back", self.address, exc)
                lost = True
                self.stop.wait(delay)
                delay = min(delay * 2, BACKOFF_S[1])

    def _follow(self, client: Any) -> None:
        """Top up whenever the queue or the current song changes. MPD's status is polled (a few bytes,
        every POLL_S): python-mpd2's blocking `idle` could not be stopped."""
        seen = None
        while not self.stop.is_set():
            status = client.status()
            state = (status.get("playlist"), status.get("songid"))
            if state != seen:  # our own appends change it too: the next look finds enough queued, cheaply
                self.top_up(client)
                seen = state
            self.stop.wait(POLL_S)

    def top_up(self, client: Any) -> list[TrackInfo]:
        """Append radio tracks until `keep` remain after the current one; what was appended."""
        status, queue = client.status(), client.playlistinfo()
        position = int(status["song"]) if "song" in status else None
        playing = queue[position] if position is not None and position < len(queue) else None
        self._note_queue(queue, playing)
        remaining = len(queue) - (position + 1 if position is not None else 0)
        if remaining >= self.keep:
            return []
        if self.stream is None:
            self.stream = self._start(queue, playing)
            if self.stream is None:
                return []
        added = self._append(client, self.stream, self.keep - remaining)
        if added:
            log.info("queued %d: %s", len(added), ", ".join(t.title or Path(t.path).stem for t in added))
        return added

    def _note_queue(self, queue: list[dict[str, str]], playing: dict[str, str] | None) -> None:
        """Queued by hand counts as played (never repeated); the current song pulls the radio toward it."""
        fresh = [entry for entry in queue if entry["id"] not in self._seen]
        self._seen |= {entry["id"] for entry in fresh}
        if self.stream is not None:
            self.stream.exclude(self.tracks.known(fresh))
        if self.stream is not None and playing is not None and playing["id"] != self._current:
            self._current = playing["id"]
            if (track := self.tracks.track(playing["file"])) is not None:
                self.stream.heard(track)

    def _start(self, queue: list[dict[str, str]], playing: dict[str, str] | None) -> RadioStream | None:
        """The radio, seeded by the current song (else the last queued one the catalog knows)."""
        order = [playing] if playing is not None else list(reversed(queue))
        seed = next((t for e in order if (t := self.tracks.track(e["file"])) is not None), None)
        if seed is None:
            if not self._waiting_said:
                log.warning("nothing in MPD's queue is in the catalog yet: the radio starts once a catalog track is")
                self._waiting_said = True
            return None
        stream = RadioStream(self.service, [seed], self.artist_window, self.variety, self.caps)
        stream.exclude(self.tracks.known(queue))
        stream.heard(seed)
        self._current = playing["id"] if playing is not None else None
        log.info("radio from %s", seed.title or seed.path)
        return stream

    def _append(self, client: Any, stream: RadioStream, count: int) -> list[TrackInfo]:
        added: list[TrackInfo] = []
        while len(added) < count and (pick := stream.next()) is not None:
            if self._add(client, pick):
                added.append(pick)
        return added

    def _add(self, client: Any, track: TrackInfo) -> bool:
        """Append `track` to MPD's queue (False, said once, when MPD does not know the file)."""
        uri = self.tracks.uri(track) or self._find(client, track)
        if uri is None:
            log.warning("MPD does not know %s (set --music-dir to MPD's music_directory): passed over", track.file)
            return False
        try:
            song_id = client.addid(uri)
        except _mpd().CommandError as exc:
            log.warning("MPD could not queue %s (%s): passed over", uri, exc)
            return False
        self._seen.add(str(song_id))
        return True

    def _find(self, client: Any, track: TrackInfo) -> str | None:
        """Ask MPD for the file by name, once the music directory is unknown: its URI that ends the track's
        path (and so the music directory)."""
        for entry in client.search("file", Path(track.path).name):
            if entry.get("file") and self.tracks.track(entry["file"]) == track:
                return str(entry["file"])
        return None

    # -- one shot ----------------------------------------------------------------------------------------

    @contextmanager
    def _once(self) -> Iterator[Any]:
        """A connection for a one-shot command: MPD not answering is an error, not a wait."""
        mpd = _mpd()
        try:
            with connected(self.address) as client:
                yield client
        except (mpd.ConnectionError, OSError) as exc:
            raise MpdError(f"cannot reach MPD at {self.address}: {exc}") from None

    def queue_radio(self, seed: TrackInfo, count: int) -> list[TrackInfo]:
        """Append `count` tracks of `seed`'s radio (the seed first), nothing queued twice."""
        with self._once() as client:
            queue = client.playlistinfo()
            stream = RadioStream(self.service, [seed], self.artist_window, self.variety, self.caps)
            stream.exclude(self.tracks.known(queue))
            first = [seed] if self._add(client, seed) else []
            return first + self._append(client, stream, count - len(first))

    def queue_path(self, start: TrackInfo, end: TrackInfo, count: int) -> list[TrackInfo]:
        """Append a song path of `count` tracks from `start` to `end`."""
        steps = [track for track, _ in self.service.path(start, end, count)]
        with self._once() as client:
            return [track for track in steps if self._add(client, track)]
