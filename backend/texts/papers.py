"""The traveller file's copy: the customer's reminders of what is still missing (by traveller
name) and operations' alert about a departure's incomplete papers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from backend.models import Booking, Contact
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


def papers_flow_offer(booking: Booking, position: int, name: str | None, total: int) -> str:
    who = name or f"traveller {position}"
    of = f" ({position} of {total})" if total > 1 else ""
    return (
        f"📋 The trekking permits for {booking.reference} are issued in each traveller's "
        f"passport name. Tap below to add {who}'s details{of}: it takes two minutes."
    )


def papers_flow_saved(
    booking: Booking,
    position: int,
    name: str | None,
    wrong: Sequence[str],
    still: Sequence[str],
    link: str,
) -> str:
    who = name or f"Traveller {position}"
    if wrong:
        return (
            f"Thanks! {who}'s details are saved, but some need a correction:\n"
            + "\n".join(f"• {line}" for line in wrong)
            + f"\n\nYou can correct them here: {link}"
        )
    if still:
        return (
            f"Thanks! {who}'s details are saved. Still to come: {', '.join(still)}. "
            "Send the photos right here in the chat, or add them on the page: "
            f"{link}"
        )
    return f"Thanks! {who}'s details are complete ✅"


def papers_flow_unreadable() -> str:
    return (
        "Sorry, we couldn't read that form. Please add the travellers' details with the link "
        "we sent you, or reply here and we'll help."
    )


def papers_locked_in_chat(booking: Booking) -> str:
    return (
        f"The travellers' details for {booking.reference} have already been checked by our "
        "operations team for the permits. Reply here to tell us what should change."
    )


def papers_photo_received(booking: Booking, who: str, what: str) -> str:
    return (
        f"📸 Thanks! Filed as {who}'s {what.removeprefix('a ')} for {booking.reference}. "
        "If that's the wrong traveller, reply here and we'll move it."
    )


def papers_photo_refused(why: str) -> str:
    return f"Sorry, we couldn't file that photo: {why} Please send it again."


def data_request_received(erase: bool) -> str:
    if erase:
        return (
            "We've received your request to delete your personal data. A member of our team "
            "will confirm it with you here shortly; your bookings and payments stay on record, "
            "as the law requires."
        )
    return (
        "We've received your request for a copy of the personal data we hold about you. A "
        "member of our team will send it to you shortly."
    )


def staff_data_request(contact: Contact, erase: bool) -> str:
    what = "to delete their personal data" if erase else "for a copy of their personal data"
    return (
        f"🔒 {contact.display_name} ({contact.phone}) asked in the chat {what}. "
        "Confirm with them, then use the admin API (docs/travellers.md: privacy requests)."
    )


def data_erased(travellers: int) -> str:
    return (
        f"Done: the passport details, insurance, emergency contacts, medical notes and photos "
        f"of {travellers} traveller{'s' if travellers != 1 else ''} are deleted. Your bookings "
        "and payments stay on record, as the law requires."
    )
