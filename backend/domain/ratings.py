"""A 1-5 rating as travellers reply to "how was it?": "5", "5/5", "4 stars", "⭐⭐⭐⭐",
"five", "10/10" is not one (it says nothing on our scale)."""

from __future__ import annotations

import re

_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_NUMBER = re.compile(
    r"^\s*(?P<n>[1-5])\s*(?:/\s*5|out\s+of\s+5|stars?|⭐+|\*+)?(?!\d|/|[.,]\d)", re.IGNORECASE
)
_WORD = re.compile(r"^\s*(?P<w>one|two|three|four|five)\s*(?:stars?|out\s+of\s+five)?\b", re.I)
_STARS = re.compile(r"^\s*(?P<s>(?:⭐|★){1,5})(?!⭐|★)")


def rating_in(text: str | None) -> int | None:
    """The rating a reply starts with, or None. Only the start counts: "the 2 guides were
    great" is not a 2."""
    if not text:
        return None
    if match := _NUMBER.match(text):
        return int(match.group("n"))
    if match := _WORD.match(text):
        return _WORDS[match.group("w").lower()]
    if match := _STARS.match(text):
        return len(match.group("s"))
    return None
