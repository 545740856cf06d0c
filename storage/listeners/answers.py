"""The listeners' answers: which of three tracks sounds least like the other two ("the odd one out", or
"can't say"), and thumbs on ordinary results ("not like this"). They are what a learned similarity is
fitted to, per listener and model-agnostic (track ids only): a rebuild keeps them, forgetting a folder
removes the answers about its tracks (the tracks' rows cascade). Functions take an open session: the
writer (storage.write.store) and the reader (storage.read.catalog) call them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from storage.core.errors import UsageError
from storage.db.schema import Answer, Track

MAX_LISTENER = 128


@dataclass(frozen=True)
class Judgement:
    """One answer: `tracks` the three shown (a triplet) or (query, result) (a thumb)."""

    listener: str
    tracks: tuple[int, ...]
    odd: int | None = None  # a triplet's odd one out (None: can't say)
    verdict: int | None = None  # a thumb: +1 alike, -1 not alike
    answered_at: datetime | None = None

    @property
    def kind(self) -> str:
        return "triplet" if len(self.tracks) == 3 else "thumb"

    def as_dict(self, paths: dict[int, str] | None = None) -> dict[str, object]:
        out: dict[str, object] = {"listener": self.listener, "kind": self.kind, "tracks": list(self.tracks)}
        if paths is not None:
            out["paths"] = [paths.get(t) for t in self.tracks]
        if self.kind == "triplet":
            out["odd"] = self.odd
        else:
            out["verdict"] = self.verdict
        out["answered_at"] = self.answered_at.isoformat(timespec="seconds") + "Z" if self.answered_at else None
        return out


def check_listener(listener: str) -> str:
    name = " ".join(listener.split())
    if not name or len(name) > MAX_LISTENER:
        raise UsageError(f"a listener's name is 1 to {MAX_LISTENER} characters")
    return name


def _check_tracks(s: Session, ids: Sequence[int]) -> None:
    if len(set(ids)) != len(ids):
        raise UsageError("an answer is about different tracks")
    found = set(s.execute(select(Track.id).where(Track.id.in_(list(ids)))).scalars())
    missing = sorted(set(ids) - found)
    if missing:
        raise UsageError(f"no track {missing[0]} in this catalog")


def add_triplet(s: Session, listener: str, tracks: Sequence[int], odd: int | None) -> Judgement:
    """Store which of the three `tracks` is the odd one out (None: can't say)."""
    ids = tuple(int(t) for t in tracks)
    if len(ids) != 3:
        raise UsageError("a triplet is three tracks")
    if odd is not None and odd not in ids:
        raise UsageError("the odd one out is one of the three tracks")
    _check_tracks(s, ids)
    row = Answer(listener=check_listener(listener), first=ids[0], second=ids[1], third=ids[2], odd=odd)
    s.add(row)
    s.flush()
    return _judgement(row)


def add_thumb(s: Session, listener: str, query: int, result: int, alike: bool) -> Judgement:
    """Store a thumb on a result: `alike` (up) or not (down)."""
    _check_tracks(s, (int(query), int(result)))
    row = Answer(listener=check_listener(listener), first=int(query), second=int(result), verdict=1 if alike else -1)
    s.add(row)
    s.flush()
    return _judgement(row)


def judgements(s: Session, listener: str | None = None) -> list[Judgement]:
    """Every answer (of one listener), oldest first."""
    query = select(Answer).order_by(Answer.id)
    if listener is not None:
        query = query.where(Answer.listener == check_listener(listener))
    return [_judgement(row) for row in s.execute(query).scalars()]


def asked(s: Session, listener: str) -> set[frozenset[int]]:
    """The triplets `listener` has been asked already, in any order (never ask one twice)."""
    rows = s.execute(
        select(Answer.first, Answer.second, Answer.third).where(
            Answer.listener == check_listener(listener), Answer.third.is_not(None)
        )
    )
    return {frozenset((a, b, c)) for a, b, c in rows if c is not None}


def listeners(s: Session) -> list[tuple[str, int]]:
    """(listener, answers) for everyone who answered, by name."""
    rows = s.execute(select(Answer.listener, func.count()).group_by(Answer.listener).order_by(Answer.listener))
    return [(name, int(count)) for name, count in rows]


def about(s: Session, track_ids: Sequence[int]) -> int:
    """How many answers concern any of these tracks."""
    ids = list(track_ids)
    if not ids:
        return 0
    clause = or_(Answer.first.in_(ids), Answer.second.in_(ids), Answer.third.in_(ids))
    return int(s.execute(select(func.count()).select_from(Answer).where(clause)).scalar_one())


def json_lines(answers: Sequence[Judgement], paths: dict[int, str]) -> str:
    """The answers as JSON lines (the export), each with its tracks' paths."""
    return "".join(json.dumps(a.as_dict(paths), ensure_ascii=False) + "\n" for a in answers)


def _judgement(row: Answer) -> Judgement:
    tracks = (row.first, row.second) if row.third is None else (row.first, row.second, row.third)
    return Judgement(row.listener, tracks, row.odd, row.verdict, row.answered_at)
