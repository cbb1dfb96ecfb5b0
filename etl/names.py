"""Suggestions for misspelt names (a column, a segment, a key): which known one was meant."""

from __future__ import annotations

import difflib
import os


def nearest(name: str, candidates: list[str]) -> str | None:
    """The candidate `name` was most likely meant to be: a long shared start counts most
    (lineItem_qty -> lineItem_quantity, not lineItem_tax), then overall similarity."""
    lowered = name.lower()

    def score(candidate: str) -> tuple[int, float]:
        shared = len(os.path.commonprefix([lowered, candidate.lower()]))
        return shared, difflib.SequenceMatcher(None, lowered, candidate.lower()).ratio()

    close = [c for c in candidates if difflib.SequenceMatcher(None, lowered, c.lower()).ratio() >= 0.6]
    return max(close, key=score) if close else None
