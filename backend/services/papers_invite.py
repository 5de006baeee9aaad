"""The invitation to fill in the travellers' papers: right after the deposit, the customer gets
the signed link to their booking's papers page (`backend/web/papers.py`) on WhatsApp, once per
booking. The timeline's `tms.traveller.invited` event is the record that it went: a second call
(a second payment, a retry) sends nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import links, texts
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.models import Booking, TimelineEvent
from backend.services import notifications, state, timeline, travellers

ACTION = "tms.traveller.invited"


def invited(session: Session, booking: Booking) -> bool:
    return (
        session.scalar(
            select(TimelineEvent.id)
            .where(
                TimelineEvent.object_type == str(ObjectType.BOOKING),
                TimelineEvent.object_id == booking.id,
                TimelineEvent.action == ACTION,
            )
            .limit(1)
        )
        is not None
    )


def invite(session: Session, booking: Booking, actor: Actor) -> bool:
    """Send the booker the papers link, once per booking. True when it was sent now."""
    # Two payments landing together: the booking's row lock makes the second one see the
    # first's event (the payment path already holds it; taking it again is free).
    state.lock_row(session, booking)
    if invited(session, booking):
        return False
    rows = travellers.ensure(session, booking)
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.papers_invite(booking, links.papers_url(booking.ref_key)),
        purpose="customer_update",
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="TRAVELLER_PAPERS_INVITED",
        action=ACTION,
        actor=actor,
        content={"booking": booking.reference, "travellers": len(rows)},
    )
    session.flush()
    return True
