"""The traveller file's copy: the customer's reminders of what is still missing (by traveller
name) and operations' alert about a departure's incomplete papers.

The customer's copy is translated (`backend.i18n`, message ids in English); the staff's alerts
(`staff_*`) stay English. What is missing, a photo's kind and a refusal's reason come from
the caller as they are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from backend.i18n import _, ngettext
from backend.models import Booking, Contact
from backend.texts.format import long_date

# (the traveller as the customer knows them, what is missing: "passport number", ...)
Gap = tuple[str, Sequence[str]]


def _who(position: int, name: str | None) -> str:
    # NOTE: A traveller whose name we do not know yet, by their place in the booking.
    return name or _("Traveller {position}").format(position=position)


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
    # NOTE: English writes "days" for any number; a language may say "1 day". {missing}: one
    # line per traveller, "• Anna: passport number, insurance".
    return ngettext(
        "📋 Your {trek} trek starts in {count} days ({date}). For the trekking permits and "
        "your safety we still need:\n"
        "{missing}\n\n"
        "Add them here (it saves as you go): {link}\n\n"
        "You can also send a photo of each passport's photo page right here in the chat.",
        "📋 Your {trek} trek starts in {count} days ({date}). For the trekking permits and "
        "your safety we still need:\n"
        "{missing}\n\n"
        "Add them here (it saves as you go): {link}\n\n"
        "You can also send a photo of each passport's photo page right here in the chat.",
        days,
    ).format(
        trek=booking.departure.product.short_name,
        count=days,
        date=long_date(start),
        missing=_lines(gaps),
        link=link,
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
    # NOTE: A traveller whose name we do not know yet, within a sentence.
    who = name or _("traveller {position}").format(position=position)
    if total > 1:
        text = _(
            "📋 The trekking permits for {reference} are issued in each traveller's passport "
            "name. Tap below to add {who}'s details ({position} of {total}): it takes two "
            "minutes."
        )
    else:
        text = _(
            "📋 The trekking permits for {reference} are issued in each traveller's passport "
            "name. Tap below to add {who}'s details: it takes two minutes."
        )
    return text.format(reference=booking.reference, who=who, position=position, total=total)


def papers_flow_saved(
    booking: Booking,
    position: int,
    name: str | None,
    wrong: Sequence[str],
    still: Sequence[str],
    link: str,
) -> str:
    who = _who(position, name)
    if wrong:
        return _(
            "Thanks! {who}'s details are saved, but some need a correction:\n"
            "{corrections}\n\n"
            "You can correct them here: {link}"
        ).format(who=who, corrections="\n".join(f"• {line}" for line in wrong), link=link)
    if still:
        return _(
            "Thanks! {who}'s details are saved. Still to come: {missing}. Send the photos right "
            "here in the chat, or add them on the page: {link}"
        ).format(who=who, missing=", ".join(still), link=link)
    return _("Thanks! {who}'s details are complete ✅").format(who=who)


def papers_flow_unreadable() -> str:
    return _(
        "Sorry, we couldn't read that form. Please add the travellers' details with the link "
        "we sent you, or reply here and we'll help."
    )


def papers_locked_in_chat(booking: Booking) -> str:
    return _(
        "The travellers' details for {reference} have already been checked by our operations "
        "team for the permits. Reply here to tell us what should change."
    ).format(reference=booking.reference)


def papers_photo_received(booking: Booking, who: str, what: str) -> str:
    return _(
        "📸 Thanks! Filed as {who}'s {what} for {reference}. "
        "If that's the wrong traveller, reply here and we'll move it."
    ).format(who=who, what=what.removeprefix("a "), reference=booking.reference)


def papers_photo_refused(why: str) -> str:
    return _("Sorry, we couldn't file that photo: {reason} Please send it again.").format(
        reason=why
    )


def data_request_received(erase: bool) -> str:
    if erase:
        return _(
            "We've received your request to delete your personal data. A member of our team "
            "will confirm it with you here shortly; your bookings and payments stay on record, "
            "as the law requires."
        )
    return _(
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
    return ngettext(
        "Done: the passport details, insurance, emergency contacts, medical notes and photos "
        "of {count} traveller are deleted. Your bookings and payments stay on record, as the "
        "law requires.",
        "Done: the passport details, insurance, emergency contacts, medical notes and photos "
        "of {count} travellers are deleted. Your bookings and payments stay on record, as the "
        "law requires.",
        travellers,
    ).format(count=travellers)


# `papers_reminder_params` is built in each language (`i18n.in_each_language`), as customer.py's.
