"""What a front end asks, as one value: seed tracks, an outside file or a description; a passage of one track or
file; the moments that fit a description; words that steer a track or file query; and whose similarity (the
model's cosine or a listener's learned one). Which parts go together is checked here once, when the question
is made, and said in the asking front end's own words (`Names`: `--text` on the command line, `text` in the
API). The search service answers any question with one call (storage.search.service.SearchService.ask).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from storage.core.errors import QuestionError, UsageError
from storage.read.catalog import Catalog
from storage.search.request import Steering, TextQuery, VectorQuery
from storage.search.words import text_catalog

METRICS = ("cosine", "mine")


@dataclass(frozen=True)
class Names:
    """How one front end names the parts of a question, for its messages."""

    seeds: str = "seed tracks"
    file: str | None = "a file"  # None: this front end takes no file here
    text: str = "text"
    described: str = "a description"  # the text as one of the alternatives
    passage: str = "a passage"
    moments: str = "moments"
    more: str = "more"
    less: str = "less"
    steer_weight: str = "the steering weight"
    listener: str = "a listener"
    mine: str = "metric mine"


@dataclass(frozen=True)
class Upload:
    """An outside file as a front end received it: its name and bytes (embedded when answered)."""

    name: str
    data: bytes = field(repr=False)
    max_seconds: float | None = None  # a longer file is refused (uploads to a server)


@dataclass(frozen=True)
class Question:
    """One question: exactly one of `seeds` (ids or paths), `file` (an outside file) and `text` (a description)."""

    seeds: tuple[int | str, ...] = ()
    file: VectorQuery | Path | Upload | None = None  # a path or an upload is embedded when answered (Reader)
    text: str | None = None
    passage: tuple[float, float] | None = None  # (start, end) seconds of the one seed or the file
    moments: bool = False  # with text: the passages that fit the words, one per track
    more: tuple[str, ...] = ()  # words to move a track or file query toward (a text-capable model)
    less: tuple[str, ...] = ()
    steer_weight: float | None = None
    model: str | None = None  # None: the catalog's own (a text question: the first model that understands words)
    metric: str = "cosine"  # or "mine": the listener's learned similarity (storage.listeners)
    listener: str | None = None
    names: Names = field(default_factory=Names, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", tuple(self.seeds))
        object.__setattr__(self, "more", tuple(self.more))
        object.__setattr__(self, "less", tuple(self.less))
        check(self)

    @property
    def uses_words(self) -> bool:
        """Whether answering needs a model that understands words."""
        return self.text is not None or bool(self.more or self.less)

    @property
    def needs_reader(self) -> bool:
        """Whether answering embeds something first: words, or a file not yet embedded."""
        return self.uses_words or isinstance(self.file, (Path, Upload))


def check(q: Question) -> None:
    """Every rule about which parts of a question go together; QuestionError in the asker's words."""
    n = q.names
    given = [bool(q.seeds), q.file is not None, q.text is not None]
    if sum(given) != 1:
        alternatives = [n.seeds, *([n.file] if n.file is not None else []), n.described]
        count = {2: "two", 3: "three"}[len(alternatives)]
        listed = ", ".join(alternatives[:-1]) + f" or {alternatives[-1]}"
        raise QuestionError(f"give {listed} (one of the {count})")
    if q.moments and q.text is None:
        raise QuestionError(f"{n.moments} goes with {n.text}")
    if q.text is not None and (q.more or q.less):
        raise QuestionError(
            f"{n.more} and {n.less} steer a track or file query; with {n.text}, put the words in the text"
        )
    if q.text is not None and q.passage is not None:
        raise QuestionError(f"{n.passage} takes a region of a track or file; with {n.text} use {n.moments}")
    if q.passage is not None and len(q.seeds) > 1:
        raise QuestionError(
            f"{n.passage} takes one track" + (f" (or {n.file})" if n.file else "") + ", not several seeds"
        )
    if q.passage is not None and not 0 <= q.passage[0] < q.passage[1]:
        raise QuestionError(f"{n.passage} must start at 0 s or later and end after it starts")
    if q.steer_weight is not None and not (q.more or q.less):
        raise QuestionError(f"{n.steer_weight} goes with {n.more} or {n.less}")
    if q.metric not in METRICS:
        raise QuestionError(f"unknown metric {q.metric!r}; available: {', '.join(METRICS)}")
    if q.listener is not None and q.metric != "mine":
        raise QuestionError(f"{n.listener} goes with {n.mine}")


class Reader(Protocol):
    """Embeds what a question brings from outside the catalog, by the answering catalog's own model: words
    (its text tower) and files (indexer.readers.Reader; the search itself imports no model)."""

    def text_query(self, catalog: Catalog, text: str) -> TextQuery: ...

    def steering(
        self, catalog: Catalog, more: Sequence[str], less: Sequence[str], weight: float | None
    ) -> Steering | None: ...

    def file_query(self, catalog: Catalog, file: Path | Upload) -> VectorQuery: ...


def searched_catalog(
    catalog: Catalog,
    model: str | None = None,
    metric: str = "cosine",
    listener: str | None = None,
    words: bool = False,
) -> Catalog:
    """The catalog a question is answered from: `model`'s (one that understands words when `words`), searched by
    the model's cosine or by `listener`'s learned metric. The one place these choices are made."""
    if words:
        catalog = text_catalog(catalog, model)
    elif model is not None and model != catalog.model:
        catalog = catalog.for_model(model)
    if metric not in METRICS:
        raise UsageError(f"unknown metric {metric!r}; available: {', '.join(METRICS)}")
    return catalog.with_metric(listener) if metric == "mine" else catalog
