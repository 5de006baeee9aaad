"""Travel dates as customers write them ("March 2025", "mid-March", "March 20") → a window.

Parsed with `dateparser`, relative to today; a month or day already past means the next one
(nobody books a trek in the past: "March 2025" written in November 2026 is next March).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateparser.date import DateDataParser
from dateutil.easter import easter

_PARTS = {
    "early": (1, 10),
    "beginning of": (1, 10),
    "start of": (1, 10),
    "mid": (11, 20),
    "middle of": (11, 20),
    "late": (21, 31),
    "end of": (21, 31),
}
_PART_RE = re.compile(
    r"\b(early|beginning of|start of|mid|middle of|late|end of)[\s\-]*(?:in\s+)?([a-z]+)(?:\s+(\d{4}))?",
    re.IGNORECASE,
)
_RANGE_RE = re.compile(r"\b([a-z]+)\s+(\d{1,2})\s*[-–]\s*\d{1,2}\b", re.IGNORECASE)
# Northern-hemisphere seasons as trekkers in Nepal mean them: (first month, last month).
_SEASONS = {
    "spring": (3, 5),
    "summer": (6, 8),
    "autumn": (9, 11),
    "fall": (9, 11),
    "winter": (12, 2),
}
_SEASON_RE = re.compile(r"\b(?:next\s+|this\s+)?(spring|summer|autumn|fall|winter)\b", re.I)
_EASTER_RE = re.compile(r"\beaster\b", re.I)
_WEEK_OF_RE = re.compile(r"\bweek of (?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\b", re.I)
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}


@dataclass(frozen=True)
class DateWish:
    text: str
    start: date
    end: date
    exact: date | None = None

    @property
    def month_label(self) -> str:
        """ "March" for the enquiry reply's "Available dates in March"."""
        return f"{self.start:%B}"

    @property
    def label(self) -> str:
        """The window as it reads back to the customer ("may" → "May 2027")."""
        whole_month = (
            self.start.day == 1
            and self.start.month == self.end.month
            and (self.end + timedelta(days=1)).day == 1
        )
        if whole_month:
            return f"{self.start:%B %Y}"
        if self.start == self.end:
            return f"{self.start:%B} {self.start.day}, {self.start.year}"
        return f"{self.start:%B} {self.start.day} to {self.end:%B} {self.end.day}, {self.end.year}"


def _roll_forward(
    start: date, end: date, exact: date | None, today: date
) -> tuple[date, date, date | None]:
    """Move a window that already ended forward by whole years until it is ahead of today."""
    years = 0
    while _shift(end, years) < today:
        years += 1
    return _shift(start, years), _shift(end, years), _shift(exact, years) if exact else None


def _shift(d: date, years: int) -> date:
    if years == 0:
        return d
    last = calendar.monthrange(d.year + years, d.month)[1]
    return date(d.year + years, d.month, min(d.day, last))


def _month_window(year: int, month: int, first: int = 1, last: int = 31) -> tuple[date, date]:
    days = calendar.monthrange(year, month)[1]
    return date(year, month, min(first, days)), date(year, month, min(last, days))


def parse_travel_date(text: str | None, today: date) -> DateWish | None:
    """The window of dates a phrase means, or None if it names no date."""
    if not text or not text.strip():
        return None
    phrase = text.strip()
    part = _PART_RE.search(phrase)
    if part and part.group(2).lower() in _MONTHS:
        month = _MONTHS[part.group(2).lower()]
        year = int(part.group(3)) if part.group(3) else today.year
        first, last = _PARTS[part.group(1).lower()]
        start, end = _month_window(year, month, first, last)
        start, end, _ = _roll_forward(start, end, None, today)
        return DateWish(text=phrase, start=start, end=end)
    special = _special_phrase(phrase, today)
    if special is not None:
        return special
    cleaned = re.sub(r"\bnext\s+", "", phrase, flags=re.IGNORECASE)
    cleaned = _RANGE_RE.sub(lambda m: f"{m.group(1)} {m.group(2)}", cleaned)
    # English first, as always; then the other languages customers are answered in ("im
    # März", "en octobre", "15 de marzo"), so an English phrase never reads as another's.
    for languages in (["en"], ["de", "fr", "es"]):
        parser = DateDataParser(
            languages=languages,
            settings={
                "PREFER_DATES_FROM": "future",
                "RELATIVE_BASE": datetime(today.year, today.month, today.day),
                "PREFER_DAY_OF_MONTH": "first",
            },
        )
        data = parser.get_date_data(cleaned)
        if data.date_obj is not None:
            break
    else:
        return None
    found = data.date_obj.date()
    if data.period == "year":
        start, end, exact = date(found.year, 1, 1), date(found.year, 12, 31), None
    elif data.period == "month":
        start, end = _month_window(found.year, found.month)
        exact = None
    else:
        start = end = exact = found
    start, end, exact = _roll_forward(start, end, exact, today)
    return DateWish(text=phrase, start=start, end=end, exact=exact)


def _special_phrase(phrase: str, today: date) -> DateWish | None:
    """Easter, a season, "the week of the 14th": what dateparser does not know."""
    if _EASTER_RE.search(phrase):
        sunday = easter(today.year)
        if sunday - timedelta(days=7) < today:
            sunday = easter(today.year + 1)
        return DateWish(
            text=phrase, start=sunday - timedelta(days=7), end=sunday + timedelta(days=7)
        )
    week = _WEEK_OF_RE.search(phrase)
    if week and 1 <= int(week.group(1)) <= 31:
        day = int(week.group(1))
        month_start = date(today.year, today.month, 1)
        for months_ahead in range(0, 3):
            year = month_start.year + (month_start.month - 1 + months_ahead) // 12
            month = (month_start.month - 1 + months_ahead) % 12 + 1
            if day <= calendar.monthrange(year, month)[1] and date(year, month, day) >= today:
                start = date(year, month, day)
                return DateWish(text=phrase, start=start, end=start + timedelta(days=6))
    season = _SEASON_RE.search(phrase)
    if season:
        first, last = _SEASONS[season.group(1).lower()]
        year = today.year
        start = date(year, first, 1)
        end_year = year + 1 if last < first else year
        end = date(end_year, last, calendar.monthrange(end_year, last)[1])
        # A season nearly over (under two weeks left) means the next one: nobody books a trek
        # for the last days of autumn in late November.
        while end < today + timedelta(days=14):
            start, end = _shift(start, 1), _shift(end, 1)
        return DateWish(text=phrase, start=start, end=end)
    return None
