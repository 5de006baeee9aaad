"""Who is told what: staff alerts and customer notices, each a row in the outbox.

Copy comes from backend/texts.py; delivery (window, templates, pacing) is the sender's job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from backend.domain.enums import ObjectType, Role
from backend.models import Booking, Contact, OutboundMessage, Staff
from backend.services import outbox
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
) -> list[OutboundMessage]:
    return outbox.enqueue_text(
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


def to_contact(
    session: Session,
    contact: Contact,
    body: str,
    *,
    purpose: str,
    template_params: list[Any] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[OutboundMessage]:
    return outbox.enqueue_text(
        session,
        to_phone=contact.phone,
        contact_id=contact.id,
        body=body,
        purpose=purpose,
        template_params=template_params,
        object_type=object_type,
        object_id=object_id,
    )


def to_guests(
    session: Session,
    bookings: Iterable[Booking],
    body: str,
    *,
    purpose: str,
    template_params: list[Any] | None = None,
) -> list[OutboundMessage]:
    """One message per booking contact (a party's lead traveller), each bound to the booking."""
    rows: list[OutboundMessage] = []
    seen: set[str] = set()
    for booking in bookings:
        if booking.contact_id in seen:
            continue
        seen.add(booking.contact_id)
        rows += to_contact(
            session,
            booking.contact,
            body,
            purpose=purpose,
            template_params=template_params,
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    return rows
