"""The formatting helpers every message and page uses: dates and times in the operator's
timezone, money, ranges, the trek's label, the pay link."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from backend import links
from backend.config import get_settings
from backend.domain.money import Money
from backend.models import Product

if TYPE_CHECKING:
    pass


def local_datetime(value: datetime) -> str:
    """`Dec 24, 2024 2:00 PM` in the operator's timezone."""
    local = value.astimezone(get_settings().tz)
    return f"{local:%b} {local.day}, {local.year} {local.strftime('%I:%M %p').lstrip('0')}"


def local_time(value: datetime) -> str:
    local = value.astimezone(get_settings().tz)
    return local.strftime("%I:%M %p").lstrip("0")


def long_date(value: date) -> str:
    """`Feb 28, 2025`."""
    return f"{value:%b} {value.day}, {value.year}"


def date_range(start: date, end: date) -> str:
    """`March 15-28, 2025`, or `March 20-April 3, 2025` across months."""
    if start == end:
        return f"{start:%B} {start.day}, {start.year}"
    if start.month == end.month and start.year == end.year:
        return f"{start:%B} {start.day}-{end.day}, {start.year}"
    if start.year == end.year:
        return f"{start:%B} {start.day}-{end:%B} {end.day}, {start.year}"
    return f"{start:%B} {start.day}, {start.year}-{end:%B} {end.day}, {end.year}"


def short_range(start: date, end: date) -> str:
    """`March 15-28` (the assignment message)."""
    if start.month == end.month:
        return f"{start:%B} {start.day}-{end.day}"
    return f"{start:%B} {start.day}-{end:%B} {end.day}"


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
