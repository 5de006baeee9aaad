"""What a traveller wants when they describe it rather than name a trek: "something easy, 5 days
max, for my family with 2 kids", "a challenging trek in April under $2,000", "not too high,
my parents are in their 70s"."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from backend.domain.dates import DateWish, parse_travel_date
from backend.domain.party import NUMBER_WORDS, Party, number, parse_party

_NUMBER_WORDS = {**NUMBER_WORDS, "a": 1}  # "a week"
_N = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_MAX_DAYS = [
    re.compile(
        rf"\b(?:max(?:imum)?|at most|up to|no more than|under|less than|within)\s+{_N}\s+(day|week)s?\b"
    ),
    re.compile(rf"\b{_N}\s+(day|week)s?\s+(?:max(?:imum)?|at most|or less|tops)\b"),
    re.compile(rf"\bonly (?:have\s+)?(?:got\s+)?{_N}\s+(day|week)s?\b"),
    re.compile(rf"\b{_N}\s+(day|week)s?\b"),
]
_DAY_TRIP = re.compile(r"\b(day trip|one day|a day|half[- ]day|single day|sightseeing)\b")
_EASY = re.compile(
    r"\b(easy|easier|gentle|relaxed|relaxing|(?:not|nothing) too (?:hard|difficult|strenuous|tough|extreme)|"
    r"beginners?|first[- ]timers?|leisurely|light|no experience|unfit|short walks?)\b"
)
_HARD = re.compile(
    r"\b(challenging|challenge|hard|tough|strenuous|difficult|adventurous|high altitude|"
    r"serious|demanding|epic|big trek|base camp|high pass(?:es)?)\b"
)
_MODERATE = re.compile(r"\b(moderate|medium|intermediate|some hiking|reasonably fit)\b")
_LOW = re.compile(
    r"\b(not too high|no altitude|low altitude|avoid altitude|altitude sickness|"
    r"below \d{3,4}\s*m)\b"
)
_BUDGET = re.compile(
    r"(?:under|below|less than|max(?:imum)?|budget(?: of| is)?|up to|around|about)\s*"
    r"(?:usd\s*|us\$|\$)?\s*(\d{1,3}(?:,\d{3})+|\d{2,6})\s*(?:usd|dollars|\$)?",
)
_CHILDREN = re.compile(r"\b(kids?|children|child|son|daughter|toddler|teen|teenager|family)\b")
_CHILD_AGE = re.compile(r"\b(?:aged?|ages)\s+(\d{1,2})\b|\b(\d{1,2})[- ]?(?:yo|year[- ]olds?)\b")
_OLDER = re.compile(
    r"\b(elderly|seniors?|retired|pensioners?|grand(?:ma|pa|parents?)|in (?:their|our|my) "
    r"(?:60|70|80)s|over (?:60|65|70|75|80)|aged (?:6|7|8)\d)\b"
)


@dataclass(frozen=True)
class TripWish:
    text: str
    max_days: int | None = None
    difficulty: str | None = None  # easy | moderate | challenging
    low_altitude: bool = False
    budget_per_person_minor: int | None = None
    when: DateWish | None = None
    party: Party | None = None
    children: bool = False
    youngest_age: int | None = None
    older_travellers: bool = False

    @property
    def says_anything(self) -> bool:
        return any(
            (
                self.max_days,
                self.difficulty,
                self.low_altitude,
                self.budget_per_person_minor,
                self.when,
                self.children,
                self.older_travellers,
            )
        )


def parse_trip_wish(text: str | None, today: date) -> TripWish:
    lowered = (text or "").lower()
    max_days = None
    if _DAY_TRIP.search(lowered):
        max_days = 1
    else:
        for pattern in _MAX_DAYS:
            found = pattern.search(lowered)
            if found:
                count = 1 if found.group(1) == "a" else number(found.group(1))
                max_days = count * (7 if found.group(2) == "week" else 1)
                break
    difficulty = (
        "easy"
        if _EASY.search(lowered)
        else "challenging"
        if _HARD.search(lowered)
        else "moderate"
        if _MODERATE.search(lowered)
        else None
    )
    budget = None
    money = _BUDGET.search(lowered.replace("$ ", "$"))
    if money and ("$" in lowered or "usd" in lowered or "dollar" in lowered or "budget" in lowered):
        budget = int(re.sub(r"[,.]", "", money.group(1))) * 100
    party = parse_party(text)
    children = bool(_CHILDREN.search(lowered)) or bool(party and party.children)
    ages = [int(a or b) for a, b in _CHILD_AGE.findall(lowered)]
    return TripWish(
        text=text or "",
        max_days=max_days,
        difficulty=difficulty,
        low_altitude=bool(_LOW.search(lowered)),
        budget_per_person_minor=budget,
        when=parse_travel_date(_month_phrase(text or ""), today),
        party=party,
        children=children,
        youngest_age=min(ages) if ages and children else None,
        older_travellers=bool(_OLDER.search(lowered)),
    )


_MONTH_WORDS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|spring|summer|autumn|fall|winter|easter"
)
_MONTH_PHRASE = re.compile(
    rf"\b((?:early|mid|late|beginning of|end of|next|this)?[\s-]*(?:{_MONTH_WORDS})\b(?:\s+\d{{4}})?)",
    re.IGNORECASE,
)


def _month_phrase(text: str) -> str | None:
    """Only the words that name a time ("in April", "next spring"): the rest of a wish
    ("5 days max") must not be read as a date."""
    found = _MONTH_PHRASE.search(text)
    if not found:
        return None
    phrase = found.group(1).strip()
    # "may" is also a verb: only as a month when it reads like one.
    if phrase.lower() == "may" and not re.search(
        r"\b(in|of|during|early|mid|late)\s+may\b", text, re.I
    ):
        return None
    return phrase


_INSTEAD = re.compile(
    r"\b(instead|rather|switch(?:ing)? to|change (?:it |that |the trek |the trip )?to|"
    r"swap (?:it |that )?(?:for|to)|prefer)\b"
)


def asks_instead(text: str | None) -> bool:
    """ "What about Annapurna instead?", "could we switch to the Pokhara tour": the customer
    changes the trek of the enquiry they already made, rather than making a second one."""
    return bool(text and _INSTEAD.search(text.lower()))


@dataclass(frozen=True)
class Miss:
    """One way a trip does not fit a wish, as data (the copy phrases it): `kind` is one of
    too_long, not_easy, too_hard, not_a_challenge, too_high, too_young, over_budget,
    no_seats; `value` is the trip's figure, `wanted` the wish's."""

    kind: str
    value: int | str | None = None
    wanted: int | str | None = None


_PRIVATE = re.compile(
    r"\b(?:private (?:group|departure|trip|tour|trek|expedition)|as a private|privately|"
    r"just (?:the \w+ of )?us|only (?:our|my) (?:group|family|friends)|"
    r"privat(?:e|en)? ?(?:tour|reise|trek|gruppe)|privatgruppe|"
    r"(?:groupe|d[ée]part|trek|voyage|circuit) priv[ée]e?|en priv[ée]|"
    r"(?:grupo|viaje|tour|trek|salida) privad[oa]|en privado)\b",
    re.IGNORECASE,
)


def asks_private(text: str | None) -> bool:
    """ "Could we do EBC as a private group, just the 4 of us?": a departure for them alone."""
    return bool(_PRIVATE.search(text or ""))
