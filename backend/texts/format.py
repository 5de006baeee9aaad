"""The formatting helpers every message and page uses: dates and times in the operator's
timezone, money, ranges, the trek's label, the pay link.

Dates, times and numbers follow the language copy is written in (`backend.i18n.current()`),
each with an explicit Babel pattern per use and language (`_PATTERNS`); English keeps the
product's own ("March 15-28, 2025", "Dec 24, 2024 2:00 PM")."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, get_currency_name

from backend import links
from backend.config import get_settings
from backend.domain.currencies import currency_name
from backend.domain.money import Money
from backend.i18n import current
from backend.models import Product


def N_(message: str) -> str:
    """Marks a message id for extraction where it is written (a constant, a table); the
    copy translates it with `gettext` when it is used, in the language of that moment."""
    return message


# Per use, the Babel pattern in each language (a language missing from a use falls back to
# English). `day`: the day alone, before the second date of a range in the same month.
_PATTERNS: dict[str, dict[str, str]] = {
    # Dec 24, 2024 2:00 PM
    "datetime": {
        "en": "MMM d, y h:mm a",
        "de": "d. MMM y, HH:mm 'Uhr'",
        "fr": "d MMM y 'à' HH:mm",
        "es": "d MMM y, HH:mm",
    },
    # 2:00 PM
    "time": {"en": "h:mm a", "de": "HH:mm 'Uhr'", "fr": "HH:mm", "es": "HH:mm"},
    # Feb 28, 2025
    "long_date": {"en": "MMM d, y", "de": "d. MMM y", "fr": "d MMM y", "es": "d MMM y"},
    # March 15
    "day_month": {"en": "MMMM d", "de": "d. MMMM", "fr": "d MMMM", "es": "d 'de' MMMM"},
    # Mar 15
    "short_day_month": {"en": "MMM d", "de": "d. MMM", "fr": "d MMM", "es": "d MMM"},
    # March 15, 2025
    "full_date": {
        "en": "MMMM d, y",
        "de": "d. MMMM y",
        "fr": "d MMMM y",
        "es": "d 'de' MMMM 'de' y",
    },
    # the first day of a range within one month: 15.–28. März 2025, 15–28 mars 2025
    "day": {"en": "d", "de": "d.", "fr": "d", "es": "d"},
}


def _language() -> str:
    """The language dates are written in now (English for one without patterns)."""
    code = current()
    return code if code in _PATTERNS["day"] else "en"


def _pattern(use: str) -> tuple[str, str]:
    """The language and the pattern for a use now."""
    code = _language()
    return code, _PATTERNS[use].get(code, _PATTERNS[use]["en"])


def _date(value: date, use: str) -> str:
    code, pattern = _pattern(use)
    return format_date(value, pattern, locale=code)


def local_datetime(value: datetime) -> str:
    """`Dec 24, 2024 2:00 PM` in the operator's timezone."""
    local = value.astimezone(get_settings().tz)
    code, pattern = _pattern("datetime")
    return format_datetime(local, pattern, tzinfo=local.tzinfo, locale=code)


def local_time(value: datetime) -> str:
    local = value.astimezone(get_settings().tz)
    code, pattern = _pattern("time")
    return format_datetime(local, pattern, tzinfo=local.tzinfo, locale=code)


def long_date(value: date) -> str:
    """`Feb 28, 2025`."""
    return _date(value, "long_date")


def day_month(value: date) -> str:
    """`March 15`."""
    return _date(value, "day_month")


def short_day_month(value: date) -> str:
    """`Mar 15`."""
    return _date(value, "short_day_month")


def date_range(start: date, end: date) -> str:
    """`March 15-28, 2025`, or `March 20-April 3, 2025` across months."""
    if start == end:
        return _date(start, "full_date")
    if _language() == "en":
        if start.month == end.month and start.year == end.year:
            return f"{day_month(start)}-{end.day}, {start.year}"
        if start.year == end.year:
            return f"{day_month(start)}-{day_month(end)}, {start.year}"
        return f"{_date(start, 'full_date')}-{_date(end, 'full_date')}"
    if start.month == end.month and start.year == end.year:
        return f"{_date(start, 'day')}–{_date(end, 'full_date')}"
    if start.year == end.year:
        return f"{day_month(start)} – {_date(end, 'full_date')}"
    return f"{_date(start, 'full_date')} – {_date(end, 'full_date')}"


def short_range(start: date, end: date) -> str:
    """`March 15-28` (the assignment message)."""
    if _language() == "en":
        if start.month == end.month:
            return f"{day_month(start)}-{end.day}"
        return f"{day_month(start)}-{day_month(end)}"
    if start.month == end.month:
        return f"{_date(start, 'day')}–{day_month(end)}"
    return f"{day_month(start)} – {day_month(end)}"


def range_without_year(start: date, end: date) -> str:
    """A departure's dates without the year: `March 15-28`; in English what `date_range` writes
    up to its last comma (`December 28, 2025-January 10` across years, as ever)."""
    if _language() == "en":
        return date_range(start, end).rsplit(",", 1)[0]
    if start == end:
        return day_month(start)
    return short_range(start, end)


def number(value: int) -> str:
    """`5,364` (a height, a count) as the language groups digits."""
    return format_decimal(value, locale=_language())


def currency_words(code: str) -> str:
    """How a currency is named in a sentence: `euros` (English: `currency_name`'s own words)."""
    language = _language()
    if language == "en":
        return currency_name(code)
    try:
        return get_currency_name(code.upper(), count=2, locale=language)
    except (KeyError, ValueError):
        return currency_name(code)


def money(minor: int, currency: str) -> str:
    return Money(minor, currency).format()


def payment_link(reference_key: str, kind: str = "") -> str:
    """The booking's signed pay link (`kind`: deposit, full or balance; none: the choice)."""
    return links.pay_url(reference_key, kind or None)


def trek_label(product: Product) -> str:
    return f"{product.code} Trek" if product.code == product.short_name else product.short_name


# What a kind of WhatsApp media is called in a sentence.
MEDIA_WORDS = {
    "location": "location 📍",
    "image": "photo 📷",
    "document": "document 📄",
    "video": "video 🎬",
    "audio": "voice message 🎤",
    "sticker": "sticker",
}
