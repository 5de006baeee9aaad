"""A customer's requests about the personal data we hold: "delete my data" and "send me a copy
of my data", typed in the chat.

The request is recorded on the contact's timeline and operations are alerted (the registry's
`tms.contact.data_*_requested`); the customer is told a person will confirm. Operations then
act through the admin API: `erase_papers` purges every traveller's papers of the customer's
bookings (the sealed details and the photos: nothing else is lost, bookings, payments and the
timeline stay, as the law on bookkeeping needs them), refused while one of their trips is
under way (the guide may need the insurer's number today); `export` gives what is held about
the customer as JSON, each booking's papers read on its timeline.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain import travellers as rules
from backend.domain.actor import Actor
from backend.domain.enums import BookingStatus, ObjectType, Source
from backend.models import Booking, Contact, Staff
from backend.services import notifications, routing, timeline, travellers

ERASE, COPY = "erase", "copy"
_ERASE = re.compile(
    r"\b(delete|erase|remove|wipe|forget)\b.{0,30}\b(my|our|all)\b.{0,20}"
    r"\b(data|details|information|info|passports?|personal)\b|\bforget me\b|"
    r"\bright to (be forgotten|erasure)\b",
    re.IGNORECASE,
)
_COPY = re.compile(
    r"\b(copy|export|download)\b.{0,20}\b(of )?(my|our|the)\b.{0,20}\b(data|information)\b|"
    r"\bwhat (data|information|personal data) do you (have|hold|keep|store)\b|"
    r"\bsubject access request\b",
    re.IGNORECASE,
)
LONGEST = 160  # a longer message is a conversation, for the assistant


def kind_of(text: str | None) -> str | None:
    """ERASE, COPY or None for what a customer typed."""
    if not text or len(text) > LONGEST:
        return None
    if _ERASE.search(text):
        return ERASE
    if _COPY.search(text):
        return COPY
    return None


def request(session: Session, contact: Contact, kind: str, actor: Actor) -> str:
    """Record the request, alert operations; the reply for the customer."""
    code = (
        "tms.contact.data_erasure_requested" if kind == ERASE else "tms.contact.data_copy_requested"
    )
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="DATA_REQUEST",
        action=code,
        actor=actor,
        content={"name": contact.display_name},
    )
    routing.alert(
        session,
        code,
        texts.staff_data_request(contact, kind == ERASE),
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
    )
    return texts.data_request_received(kind == ERASE)


def _bookings(session: Session, contact: Contact) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking).where(Booking.contact_id == contact.id).order_by(Booking.created_at)
        )
    )


def erase_papers(session: Session, contact: Contact, member: Staff) -> int:
    """Purge the papers of every traveller of the customer's bookings; how many travellers.
    Refused (PapersRefused) while one of their trips is under way."""
    if not travellers.may_read(member):
        raise travellers.NotAllowed("Only operations and administrators erase travellers' papers")
    today = clock.local_today()
    bookings = _bookings(session, contact)
    for booking in bookings:
        departure = booking.departure
        live = booking.status in (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
        if live and departure.start_date <= today <= departure.end_date:
            raise travellers.PapersRefused(
                f"{booking.reference} is on the mountain until {departure.end_date:%d %b %Y}: "
                "the guide may need the insurer's number. Erase the papers after the trip."
            )
    count = 0
    for booking in bookings:
        for traveller in travellers.ensure(session, booking):
            if traveller.purged_at is None:
                travellers.purge(session, traveller, reason="the customer's request")
                count += 1
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="DATA_ERASED",
        action="tms.contact.data_erased",
        actor=Actor(Source.ADMIN, staff_id=member.id),
        content={"travellers": count},
    )
    notifications.to_contact(
        session,
        contact,
        lambda: texts.data_erased(count),
        purpose="customer_update",
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
    )
    session.flush()
    return count


def export(session: Session, contact: Contact, member: Staff) -> dict[str, Any]:
    """What we hold about the customer, for them (OPS, ADMIN; the papers' reads logged)."""
    if not travellers.may_read(member):
        raise travellers.NotAllowed("Only operations and administrators export a customer's data")
    out: dict[str, Any] = {
        "contact": {
            "name": contact.display_name,
            "phone": contact.phone,
            "email": getattr(contact, "email", None),
            "optedOut": contact.opted_out_at is not None,
        },
        "bookings": [],
    }
    for booking in _bookings(session, contact):
        rows = travellers.read_for_staff(session, booking, member, why="data copy")
        out["bookings"].append(
            {
                "booking": booking.reference,
                "trek": booking.departure.product.name,
                "startDate": booking.departure.start_date.isoformat(),
                "status": booking.status,
                "travellers": [
                    {
                        spec.api: _plain(values.get(spec.name))
                        for spec in rules.FIELDS
                        if values.get(spec.name) is not None
                    }
                    | {"position": row.position, "purged": row.purged_at is not None}
                    for row, values in rows
                ],
            }
        )
    return out


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
