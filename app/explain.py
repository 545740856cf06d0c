"""Why two tracks are alike, in words a person reads: the styles they share and those they don't."""

from __future__ import annotations

from dataclasses import dataclass

TOP_STYLES = 5  # a track's styles, as compared: its most probable few
MIN_PROBABILITY = 0.05  # below this a style says little about the track


@dataclass(frozen=True)
class StyleComparison:
    shared: list[str]
    only_result: list[str]
    only_query: list[str]

    def sentence(self) -> str:
        parts = []
        if self.shared:
            parts.append("both: " + ", ".join(self.shared))
        if self.only_result:
            parts.append("only this track: " + ", ".join(self.only_result))
        if self.only_query:
            parts.append("only the query: " + ", ".join(self.only_query))
        return " · ".join(parts)


def _top(styles: dict[str, float]) -> list[str]:
    ranked = sorted(styles.items(), key=lambda item: -item[1])
    return [label for label, p in ranked[:TOP_STYLES] if p >= MIN_PROBABILITY]


def compare_styles(query: dict[str, float], result: dict[str, float]) -> StyleComparison:
    """The two tracks' top styles: shared (in the result's order), then each one's own."""
    mine, theirs = _top(result), _top(query)
    readable = lambda labels: [label.replace("---", " / ") for label in labels]  # noqa: E731
    return StyleComparison(
        readable([s for s in mine if s in theirs]),
        readable([s for s in mine if s not in theirs]),
        readable([s for s in theirs if s not in mine]),
    )
