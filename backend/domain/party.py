"""Group sizes as people write them: "3 people", "a couple", "four of us", "6 pax", "just me"."""

from __future__ import annotations

import re

_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "twenty": 20,
}
_PHRASES = [
    (re.compile(r"\b(just me|only me|myself|solo|alone|by myself|1 person)\b"), 1),
    (
        re.compile(
            r"\b(a couple|couple of us|two of us|me and my (wife|husband|partner|friend))\b"
        ),
        2,
    ),
]
MAX_PARTY = 50


def parse_group_size(text: str | None) -> int | None:
    """The number of travellers a phrase means, or None."""
    if not text:
        return None
    lowered = text.lower()
    for pattern, size in _PHRASES:
        if pattern.search(lowered):
            return size
    digits = re.search(r"\b(\d{1,3})\b", lowered)
    if digits:
        value = int(digits.group(1))
        return value if 1 <= value <= MAX_PARTY else None
    for word, value in _WORDS.items():
        if re.search(rf"\b{word}\b", lowered):
            return value
    return None
