"""Timed notices about a confirmed booking: the pre-departure message, balance reminders and
the overdue alert to staff. Each goes out once (claimed in `sent_notices` first)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain.actor import Actor
from backend.domain.enums import (
    BookingStatus,
    ObjectType,
    PaymentStatus,
    TimerKind,
    balance_reminder_kind,
)
from backend.models import Booking
from backend.services import notifications, routing, timeline, timers


def owes_balance(booking: Booking) -> bool:
    return (
        booking.status == BookingStatus.CONFIRMED
        and booking.payment_status != PaymentStatus.FULL_PAID
        and booking.balance_minor > 0
    )


def _log(session: Session, booking: Booking, kind: str, actor: Actor, **content: object) -> None:
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="NOTICE",
        action=f"tms.booking.notice.{kind}",
        actor=actor,
        content=content,
    )


def send_pre_departure(session: Session, booking: Booking, actor: Actor) -> str:
    """The workflow's step 5: checklist, balance, due date and the balance payment link."""
    if booking.status != BookingStatus.CONFIRMED:
        return f"nothing to do: booking is {booking.status}"
    today = clock.local_today()
    if booking.departure.start_date <= today:
        timers.record_notice(
            session, TimerKind.PRE_DEPARTURE, booking.id, outcome="skipped", detail="trip started"
        )
        return "skipped: the trip has started"
    if not timers.record_notice(session, TimerKind.PRE_DEPARTURE, booking.id):
        return "nothing to do: already sent"
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.pre_departure(booking, today),
        purpose="pre_departure" if booking.balance_minor else "pre_departure_paid",
        template_params=lambda: texts.pre_departure_params(booking, today),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    _log(session, booking, TimerKind.PRE_DEPARTURE, actor, balance=booking.balance_minor)
    return "pre-departure message queued"


def send_balance_reminder(
    session: Session, booking: Booking, days_before: int, actor: Actor
) -> str:
    kind = balance_reminder_kind(days_before)
    if not owes_balance(booking):
        return "nothing to do: nothing owed"
    if not timers.record_notice(session, kind, booking.id):
        return "nothing to do: already sent"
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.balance_reminder(booking, clock.local_today()),
        purpose="balance_reminder",
        template_params=lambda: texts.balance_reminder_params(booking),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    _log(session, booking, kind, actor, balance=booking.balance_minor)
    return "balance reminder queued"


def alert_balance_overdue(session: Session, booking: Booking, actor: Actor) -> str:
    """The due date passed with money owed: the booking's rep (else sales) and operations."""
    if not owes_balance(booking):
        return "nothing to do: nothing owed"
    if not timers.record_notice(session, TimerKind.BALANCE_OVERDUE, booking.id):
        return "nothing to do: already alerted"
    routing.alert(
        session,
        "tms.booking.notice.balance-overdue",
        texts.staff_balance_overdue(booking),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        lead=booking.lead,
    )
    booking.attention_reason = "balance overdue"
    _log(session, booking, TimerKind.BALANCE_OVERDUE, actor, balance=booking.balance_minor)
    return "staff alerted"
