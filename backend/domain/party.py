"""Group sizes as people write them: "3 people", "a couple", "four of us", "6 pax", "just me",
"2 couples", "family of five", "a group of 8 friends", "3 adults and 2 kids",
"me and my wife and our 2 kids". Children are counted, and said apart (prices may differ)."""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER_WORDS = {
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
    # German, French and Spanish, from two up ("un", "ein", "uno" are also articles).
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    "fünf": 5,
    "fuenf": 5,
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
    "zehn": 10,
    "zwölf": 12,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "douze": 12,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "doce": 12,
}
# "Wir sind zu dritt": German counts a party with its own words.
_ZU = {
    "zweit": 2,
    "dritt": 3,
    "viert": 4,
    "fünft": 5,
    "fuenft": 5,
    "sechst": 6,
    "siebt": 7,
    "acht": 8,
}
_NUMBER = r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")"
_COUPLES = re.compile(rf"\b{_NUMBER}\s+couples?\b")
_ADULTS = re.compile(
    rf"\b{_NUMBER}\s+(?:adults?|grown[- ]?ups?|parents|erwachsene|adultes|adultos)\b"
)
_CHILDREN = re.compile(
    rf"\b{_NUMBER}\s+(?:kids?|child(?:ren)?|teens?|teenagers?|boys?|girls?|sons?|daughters?|"
    rf"kinder[n]?|enfants|ados|adolescents|ni[ñn]os|hijos)\b"
)
# One child named with an article: "and a kid", "et un ado", "und ein Kind", "y una niña".
_ONE_CHILD = re.compile(
    r"\b(?:a|an|un|une|ein|eine|einem|uno|una)\s+(?:kid|child|teen|teenager|boy|girl|son|"
    r"daughter|ado|enfant|kind|ni[ñn]o|ni[ñn]a|hij[oa])\b"
)
# Besides couples or adults: "2 couples and 1 friend", "4 adults and a friend".
_OTHERS = re.compile(rf"\b{_NUMBER}\s+(?:friends?|colleagues?|mates?|others?)\b")
_A_FRIEND = re.compile(r"\b(?:and|plus|with|\+|&)\s+a\s+(?:friend|colleague|mate)\b")
_PEOPLE = re.compile(
    rf"\b{_NUMBER}\s+(?:people|persons?|pax|travell?ers?|guests|friends|of us|hikers?|"
    rf"trekkers?|adventurers?|colleagues|mates|personen|leute|freunde|reisende|"
    rf"personnes|amis|voyageurs|personas|amigos|viajeros)\b"
)
_GROUP_OF = re.compile(
    rf"\b(?:(?:family|group|party|team|gang) of|groupe de|famille de|grupo de|familia de|"
    rf"gruppe von)\s+{_NUMBER}\b"
)
_WE_ARE = re.compile(
    rf"\b(?:we(?:'re| are)|wir sind|nous sommes|on est|somos)\s+(?:a\s+)?(?:group of\s+)?"
    rf"{_NUMBER}\b"
)
_ZU_N = re.compile(r"\bzu\s+(" + "|".join(_ZU) + r")\b")
# Someone with their partner or a friend: two, before any children they add.
_PAIR = re.compile(
    r"\b(?:me and my|my (?:wife|husband|partner|girlfriend|boyfriend|friend) and (?:i|me)\b|"
    r"myself and my)\s*(?:wife|husband|partner|girlfriend|boyfriend|friend|mum|mom|dad|"
    r"mother|father|brother|sister|son|daughter)?"
    r"|\bme,?\s+(?:and\s+)?(?:my\s+)?(?:wife|husband|partner|girlfriend|boyfriend)\b"
)
# The writer (and a partner) besides the people they count: "me and 2 friends", "my wife and
# I with 3 colleagues", "me, wife and 2 friends".
_BESIDES_ME = re.compile(
    rf"\b(?:me|myself|i|wife|husband|partner|girlfriend|boyfriend)\s*(?:,|and|&|\+|with|plus)"
    rf"\s*(?:my\s+|our\s+)?{_NUMBER}\s+(?:friends|colleagues|mates|others|people|guys)\b"
)
_ALONE = re.compile(r"\b(just me|only me|myself|solo|alone|by myself|1 person|on my own)\b")
_A_COUPLE = re.compile(r"\b(a couple|couple of us|two of us)\b")
MAX_PARTY = 50


@dataclass(frozen=True)
class Party:
    total: int
    children: int = 0


def number(word: str) -> int:
    """ "3" or "three" → 3."""
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def _sum(pattern: re.Pattern[str], text: str) -> int:
    return sum(number(m.group(1)) for m in pattern.finditer(text))


def parse_party(text: str | None) -> Party | None:
    """Who is travelling, as far as a phrase says it; None when it does not (children alone,
    "my family with 2 kids", do not say how many adults come)."""
    if not text:
        return None
    lowered = text.lower()
    children = _sum(_CHILDREN, lowered) + len(_ONE_CHILD.findall(lowered))
    adults = 2 * _sum(_COUPLES, lowered) + _sum(_ADULTS, lowered)
    if adults:
        adults += _sum(_OTHERS, lowered) + len(_A_FRIEND.findall(lowered))
    else:
        adults = _sum(_PEOPLE, lowered)
        if adults and _BESIDES_ME.search(lowered):
            adults += 2 if _PAIR.search(lowered) else 1
    if not adults and (zu := _ZU_N.search(lowered)):
        total = _ZU[zu.group(1)]
        return Party(total, min(children, total))
    if not adults and (grouped := _GROUP_OF.search(lowered) or _WE_ARE.search(lowered)):
        total = number(grouped.group(1))
        return Party(total, min(children, total)) if 1 <= total <= MAX_PARTY else None
    if not adults and (_PAIR.search(lowered) or _A_COUPLE.search(lowered)):
        adults = 2
    if not adults and _ALONE.search(lowered):
        adults = 1
    if adults:
        total = adults + children
        return Party(total, children) if 1 <= total <= MAX_PARTY else None
    return None


def parse_group_size(text: str | None) -> int | None:
    """The number of travellers a phrase means, or None."""
    party = parse_party(text)
    if party is not None:
        return party.total
    if not text:
        return None
    lowered = text.lower()
    digits = re.search(r"\b(\d{1,3})\b", lowered)
    if digits:
        value = int(digits.group(1))
        return value if 1 <= value <= MAX_PARTY else None
    for word, value in NUMBER_WORDS.items():
        if re.search(rf"\b{word}\b", lowered):
            return value
    return None
