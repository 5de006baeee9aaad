"""Chasing the travellers' papers: the booker hears exactly what is still missing, by
traveller name, on the configured days before departure (30, 14 and 7), and operations are
alerted about each booking still short 5 days before. Each goes out once (claimed in
`sent_notices` first) and none once the papers are complete: the scheduler fires them
(`backend/scheduler/kinds.py`), the check is made when they fire."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend import clock, links, texts
from backend.domain import travellers as rules
from backend.domain.actor import Actor
from backend.domain.enums import BookingStatus, ObjectType, TimerKind, papers_reminder_kind
from backend.models import Booking
from backend.services import notifications, routing, timeline, timers, travellers
from backend.texts.papers import Gap, gap_of


def gaps(session: Session, booking: Booking) -> list[Gap]:
    """Each traveller still missing something, with what (in a customer's words)."""
    return [
        gap_of(t.position, t.full_name, rules.missing_summary(list(t.missing)))
        for t in travellers.ensure(session, booking)
        if t.missing and t.purged_at is None
    ]


def _due(booking: Booking) -> str | None:
    """Why nothing is chased for this booking (None: it is)."""
    if booking.status != BookingStatus.CONFIRMED:
        return f"booking is {booking.status}"
    if booking.departure.start_date <= clock.local_today():
        return "the trip has started"
    return None


def send_reminder(session: Session, booking: Booking, days_before: int, actor: Actor) -> str:
    kind = papers_reminder_kind(days_before)
    why_not = _due(booking)
    if why_not:
        return f"nothing to do: {why_not}"
    missing = gaps(session, booking)
    if not missing:
        timers.record_notice(session, kind, booking.id, outcome="skipped", detail="complete")
        return "nothing to do: the papers are complete"
    if not timers.record_notice(session, kind, booking.id):
        return "nothing to do: already sent"
    link = links.papers_url(booking.ref_key)
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.papers_reminder(booking, missing, link, clock.local_today()),
        purpose="papers_reminder",
        template_params=lambda: texts.papers_reminder_params(booking, missing, link),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    _log(session, booking, "tms.traveller.reminded", actor, missing, days_before=days_before)
    return "papers reminder queued"


def alert_incomplete(session: Session, booking: Booking, actor: Actor) -> str:
    why_not = _due(booking)
    if why_not:
        return f"nothing to do: {why_not}"
    missing = gaps(session, booking)
    if not missing:
        return "nothing to do: the papers are complete"
    if not timers.record_notice(session, TimerKind.PAPERS_INCOMPLETE, booking.id):
        return "nothing to do: already alerted"
    routing.alert(
        session,
        "tms.traveller.papers_incomplete",
        texts.staff_papers_incomplete(booking, missing),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    booking.attention_reason = "travellers' papers incomplete"
    _log(session, booking, "tms.traveller.papers_incomplete", actor, missing)
    return "operations alerted"


def _log(
    session: Session,
    booking: Booking,
    action: str,
    actor: Actor,
    missing: list[Gap],
    **content: object,
) -> None:
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="NOTICE",
        action=action,
        actor=actor,
        content={
            "booking": booking.reference,
            "travellers": [who for who, _ in missing],
            "missing": sum(len(words) for _, words in missing),
            **content,
        },
    )
