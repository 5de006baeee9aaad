"""What a customer who compares treks asks about: how hard, how high, how long, how much, when
("which is harder, EBC or the Annapurna circuit?", "EBC vs Annapurna: price?"), in English,
German, French or Spanish. None of these words: the whole comparison."""

from __future__ import annotations

import re
from enum import StrEnum


class Aspect(StrEnum):
    DIFFICULTY = "difficulty"
    ALTITUDE = "altitude"
    LENGTH = "length"
    PRICE = "price"
    SEASON = "season"


_WORDS = {
    Aspect.DIFFICULTY: (
        r"hard(?:er|est)?|eas(?:y|ier|iest)|difficult|difficulty|tough(?:er)?|challenging|"
        r"strenuous|demanding|beginner|fitness|schwer(?:er)?|leicht(?:er)?|anstrengend|"
        r"difficile|facile|dur|exigeant|dif[ií]cil|f[aá]cil|duro"
    ),
    Aspect.ALTITUDE: (
        r"high(?:er|est)?|altitude|elevation|h[oö]he|h[oö]her|altura|alto|haut|plus haut"
    ),
    Aspect.LENGTH: (
        r"long(?:er)?|short(?:er)?|how many days|days|duration|l[aä]nger|dauer|tage|"
        r"dur[ée]e|jours|d[ií]as|duraci[oó]n|largo"
    ),
    Aspect.PRICE: (
        r"cheap(?:er|est)?|expensive|price|cost|costs|budget|billiger|teurer|preis|kosten|"
        r"moins cher|cher|prix|co[uû]te?|barato|caro|precio|cuesta"
    ),
    Aspect.SEASON: (
        r"when|season|best time|month|wann|jahreszeit|quand|saison|cu[aá]ndo|temporada|[ée]poca"
    ),
}
_PATTERNS = {
    aspect: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for aspect, words in _WORDS.items()
}


def aspects_asked(text: str | None) -> list[Aspect]:
    """The aspects a comparison question names, in the order above; empty: all of them."""
    return [aspect for aspect, pattern in _PATTERNS.items() if pattern.search(text or "")]


# Easy to hard: how the catalogue's difficulty compares.
DIFFICULTY_RANK = {"easy": 0, "moderate": 1, "challenging": 2}
