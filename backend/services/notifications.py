"""Who is told what: staff alerts and customer notices, each a row in the outbox.

Copy comes from backend/texts.py; delivery (window, templates, pacing) is the sender's job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from backend import clock, i18n
from backend.config import get_settings
from backend.domain.enums import ObjectType, Role
from backend.models import Booking, Contact, OutboundMessage, Staff
from backend.services import languages, outbox, timers
from backend.services import staff as staff_service


def to_staff(
    session: Session,
    member: Staff,
    body: str,
    *,
    purpose: str,
    object_type: str | None = None,
    object_id: str | None = None,
    template_params: list[Any] | None = None,
    buttons: list[dict[str, str]] | None = None,
) -> list[OutboundMessage]:
    """`buttons` ({"id", "title"}) make it a choice (see outbox.enqueue_buttons)."""
    enqueue = partial(outbox.enqueue_buttons, buttons=buttons) if buttons else outbox.enqueue_text
    return enqueue(
        session,
        to_phone=member.phone,
        staff_id=member.id,
        body=body,
        purpose=purpose,
        template_params=template_params or [body[:900]],
        object_type=object_type,
        object_id=object_id,
    )


def to_role(
    session: Session,
    role: Role,
    body: str,
    *,
    purpose: str,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[OutboundMessage]:
    """Every active member with the role (operations alerts go to all of OPS)."""
    rows: list[OutboundMessage] = []
    for member in staff_service.with_role(session, role):
        rows += to_staff(
            session, member, body, purpose=purpose, object_type=object_type, object_id=object_id
        )
    return rows


def coalesced_alert(
    session: Session, role: Role, kind: str, body: Callable[[], str]
) -> list[OutboundMessage]:
    """At most one alert of this kind per `ALERT_WINDOW_MINUTES` (an outage must not become an
    alert storm): the first failure of a window alerts `role`, with the counts `body` gives;
    later ones in the same window add nothing but the rows they leave behind."""
    window = max(get_settings().alert_window_minutes, 1)
    minute = int(clock.now().timestamp() // 60)
    bucket = datetime.fromtimestamp((minute - minute % window) * 60, UTC)
    if not timers.record_notice(session, f"alert:{kind}", bucket.strftime("%Y-%m-%dT%H:%M")):
        return []
    return to_role(session, role, body(), purpose="ops_alert")


def to_contact(
    session: Session,
    contact: Contact,
    body: str | Callable[[], str],
    *,
    purpose: str,
    template_params: list[Any] | Callable[[], list[Any]] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    buttons: list[dict[str, str]] | Callable[[], list[dict[str, str]]] | None = None,
) -> list[OutboundMessage]:
    """`body` and `buttons` given as functions are written in the contact's language, whoever
    sends (a rep's click, the scheduler); a string is sent as it is (a rep's own words).
    `template_params` given as a function are written in English and in the contact's language,
    for whichever language the template goes in (`i18n.in_each_language`)."""
    with languages.writing_to(contact):
        text = body() if callable(body) else body
        titles = buttons() if callable(buttons) else buttons
    if callable(template_params):
        template_params = i18n.in_each_language(template_params, languages.language_of(contact))
    enqueue = partial(outbox.enqueue_buttons, buttons=titles) if titles else outbox.enqueue_text
    return enqueue(
        session,
        to_phone=contact.address,
        contact_id=contact.id,
        body=text,
        purpose=purpose,
        template_params=template_params,
        object_type=object_type,
        object_id=object_id,
    )


def to_guests(
    session: Session,
    bookings: Iterable[Booking],
    body: str | Callable[[Booking], str],
    *,
    purpose: str,
    template_params: list[Any] | Callable[[Booking], list[Any]] | None = None,
    buttons: Callable[[Booking], list[dict[str, str]]] | None = None,
) -> list[OutboundMessage]:
    """One message per booking contact (a party's lead traveller), each bound to the booking.
    `body` and `template_params` may depend on the booking (its own links)."""
    rows: list[OutboundMessage] = []
    seen: set[str] = set()
    for booking in bookings:
        if booking.contact_id in seen:
            continue
        seen.add(booking.contact_id)
        # Each guest reads their own language (`to_contact` writes the copy, and the template's
        # parameters, in it).
        rows += to_contact(
            session,
            booking.contact,
            partial(body, booking) if callable(body) else body,
            purpose=purpose,
            template_params=(
                partial(template_params, booking) if callable(template_params) else template_params
            ),
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
            buttons=partial(buttons, booking) if buttons else None,
        )
    return rows
