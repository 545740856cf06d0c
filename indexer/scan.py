"""Walk a catalog folder: which files are audio, which are not, which could not be read.

Audio is recognised by extension, or by its first bytes when the extension says
nothing; whether it really decodes is the decoder's business. Symlinked folders are
followed once (loops are cut), unreadable folders are noted and skipped.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = {
    ".wav",
    ".wave",
    ".flac",
    ".mp3",
    ".ogg",
    ".oga",
    ".opus",
    ".m4a",
    ".aac",
    ".mp4",
    ".aif",
    ".aiff",
    ".aifc",
}
NOT_AUDIO = {".txt", ".jpg", ".jpeg", ".png", ".gif", ".pdf", ".nfo", ".cue", ".log", ".m3u", ".m3u8", ".json"}


@dataclass(frozen=True)
class FoundFile:
    path: str  # POSIX, relative to the catalog root
    size: int
    mtime: float


@dataclass
class ScanResult:
    files: list[FoundFile] = field(default_factory=list)
    ignored: int = 0  # files that are not audio
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason) for unreadable folders


def sniff_audio(path: Path) -> bool:
    """True when the first bytes look like a container or stream we decode."""
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return (
        head[:4] in (b"fLaC", b"OggS", b"ID3\x03", b"ID3\x04", b"ID3\x02")
        or (head[:4] == b"RIFF" and head[8:12] == b"WAVE")
        or (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"))
        or head[4:8] == b"ftyp"
        or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    )


def is_audio_candidate(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix in AUDIO_EXTENSIONS:
        return True
    if suffix in NOT_AUDIO:
        return False
    return sniff_audio(path)


def scan(root: Path) -> ScanResult:
    root = root.resolve()
    result = ScanResult()
    seen_dirs: set[tuple[int, int]] = set()

    def on_error(error: OSError) -> None:
        where = Path(error.filename or "?")
        rel = where.relative_to(root).as_posix() if where.is_relative_to(root) else str(where)
        result.problems.append((rel, f"cannot read folder: {error.strerror or error}"))

    for current, dirs, files in os.walk(root, followlinks=True, onerror=on_error):
        here = Path(current)
        try:
            st = here.stat()
        except OSError as exc:
            on_error(exc)
            dirs[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:  # a symlink loop, or a folder linked twice
            dirs[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirs.sort()
        for name in sorted(files):
            path = here / name
            try:
                fst = path.stat()
            except OSError:  # dangling symlink
                result.ignored += 1
                continue
            if not path.is_file() or not is_audio_candidate(path):
                result.ignored += 1
                continue
            result.files.append(FoundFile(path.relative_to(root).as_posix(), fst.st_size, fst.st_mtime))
    log.info("scanned %s: %d audio files, %d other files", root, len(result.files), result.ignored)
    return result
