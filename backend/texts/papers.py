"""The traveller file's copy: the customer's reminders of what is still missing (by traveller
name) and operations' alert about a departure's incomplete papers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from backend.models import Booking
from backend.texts.format import long_date

# (the traveller as the customer knows them, what is missing: "passport number", ...)
Gap = tuple[str, Sequence[str]]


def _who(position: int, name: str | None) -> str:
    return name or f"Traveller {position}"


def gap_of(position: int, name: str | None, missing: Sequence[str]) -> Gap:
    return (_who(position, name), missing)


def _lines(gaps: Sequence[Gap]) -> str:
    return "\n".join(f"• {who}: {', '.join(words)}" for who, words in gaps)


def _summary(gaps: Sequence[Gap]) -> str:
    """One line for a template parameter (no new lines allowed there)."""
    return "; ".join(f"{who}: {', '.join(words)}" for who, words in gaps)[:900]


def papers_reminder(booking: Booking, gaps: Sequence[Gap], link: str, today: date) -> str:
    start = booking.departure.start_date
    days = (start - today).days
    return (
        f"📋 Your {booking.departure.product.short_name} trek starts in {days} days "
        f"({long_date(start)}). For the trekking permits and your safety we still need:\n"
        f"{_lines(gaps)}\n\n"
        f"Add them here (it saves as you go): {link}\n\n"
        "You can also send a photo of each passport's photo page right here in the chat."
    )


def papers_reminder_params(booking: Booking, gaps: Sequence[Gap], link: str) -> list[str]:
    return [
        booking.reference,
        _summary(gaps),
        long_date(booking.departure.start_date),
        link,
    ]


def staff_papers_incomplete(booking: Booking, gaps: Sequence[Gap]) -> str:
    departure = booking.departure
    return (
        f"📋 Papers incomplete: {booking.reference} ({booking.contact.display_name}, "
        f"{booking.contact.phone}) leaves {long_date(departure.start_date)} "
        f"({departure.product.short_name}). Missing:\n{_lines(gaps)}"
    )
