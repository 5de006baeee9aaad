"""One booking to another departure (issue 27, "one booking to another date").

The customer asks in the chat (the assistant lists the other departures with seats) or staff
make the change; a request carries the change fee the cancellation policy sets on the day it is
asked (the admin fee of the policy line that applies then). The rep approves or declines it in
the console or over the admin API. Approving moves the booking in one transaction: both
departures are locked in a fixed order (the order every seat-moving path takes: departures
before the booking), the target re-checked, the seats taken there and freed on the old one
(whose waitlist is then offered them). The booking keeps its payments; its total grows by the
fee, its balance is due before the new start, and its timed notices are planned again.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain.actor import Actor
from backend.domain.enums import (
    BookingStatus,
    ObjectType,
    PaymentStatus,
    RescheduleStatus,
    TimerKind,
)
from backend.domain.errors import DomainError, NotEnoughSeats, NotFound
from backend.domain.states import (
    BOOKING_PAYMENT,
    MOVABLE_BOOKING_STATES,
    RESCHEDULE,
)
from backend.models import Booking, Conversation, Departure, RescheduleRequest
from backend.services import (
    cancellation_policy,
    catalog,
    inventory,
    notifications,
    routing,
    timeline,
    timers,
    waitlist,
)
from backend.services.state import change_state, lock_for_change, lock_row, log_created

CHANNELS = ("chat", "console", "api")


class CannotReschedule(DomainError):
    """The booking cannot move there (not open, the trip has started, another trek, the same
    departure, or the request was already decided)."""


def change_fee(session: Session, booking: Booking, on: date | None = None) -> int:
    """The policy's fee for moving `booking` on `on` (today): the admin fee of the cancellation
    policy line that applies that many days before the departure (none past the last line)."""
    day = on or clock.local_today()
    days_before = (booking.departure.start_date - day).days
    lines = cancellation_policy.lines_for(session, booking.departure.product)
    line = cancellation_policy.line_for(lines, days_before)
    return line.fee_minor if line is not None else 0


def can_move(booking: Booking) -> bool:
    """Open, holding or having taken its seats, and its trip not started."""
    return (
        booking.status in {str(s) for s in MOVABLE_BOOKING_STATES}
        and booking.departure.start_date > clock.local_today()
    )


def other_departures(session: Session, booking: Booking) -> list[tuple[Departure, int]]:
    """The trek's later departures (not the booking's) with seats for the whole party, and
    how many seats each has free now."""
    tomorrow = clock.local_today() + timedelta(days=1)
    rows = []
    for departure in catalog.departures_of(session, booking.departure.product, from_date=tomorrow):
        if departure.id == booking.departure_id or not inventory.is_open(session, departure):
            continue  # (a departure operations moved away or cancelled takes nobody)
        free = inventory.seat_counts(session, departure).available
        if free >= booking.party_size:
            rows.append((departure, free))
    return rows


def open_request(session: Session, booking: Booking) -> RescheduleRequest | None:
    return session.scalar(
        select(RescheduleRequest).where(
            RescheduleRequest.booking_id == booking.id,
            RescheduleRequest.status == RescheduleStatus.REQUESTED,
        )
    )


def requests_of(session: Session, booking: Booking) -> list[RescheduleRequest]:
    return list(
        session.scalars(
            select(RescheduleRequest)
            .where(RescheduleRequest.booking_id == booking.id)
            .order_by(RescheduleRequest.created_at)
        )
    )


def get_request(session: Session, request_id: str) -> RescheduleRequest:
    found = session.get(RescheduleRequest, request_id)
    if found is None:
        raise NotFound(f"No reschedule request {request_id}")
    return found


def check_target(session: Session, booking: Booking, to_departure_id: str) -> Departure:
    """The departure `booking` may move to, or CannotReschedule saying why not: the booking
    open and its trip not started; the target another departure of the trek, not left yet,
    not moved away or cancelled by operations (`inventory.closed_reason`)."""
    target = session.get(Departure, to_departure_id)
    if target is None:
        raise NotFound(f"No departure {to_departure_id}")
    if not can_move(booking):
        raise CannotReschedule(
            f"Booking {booking.reference} is {str(booking.status).lower()} or its trip has "
            "started: it cannot move"
        )
    if target.id == booking.departure_id:
        raise CannotReschedule(f"Booking {booking.reference} is already on that departure")
    if target.product_id != booking.departure.product_id:
        raise CannotReschedule("A booking moves to another departure of the same trek only")
    if target.start_date <= clock.local_today():
        raise CannotReschedule("That departure has already left")
    why = inventory.closed_reason(session, target)
    if why is not None:
        raise CannotReschedule(f"That departure was {why}: it takes nobody")
    return target


def request_reschedule(
    session: Session,
    booking: Booking,
    to_departure_id: str,
    actor: Actor,
    *,
    channel: str = "chat",
    conversation: Conversation | None = None,
) -> tuple[RescheduleRequest, bool]:
    """Ask for `booking` to move to another departure; the rep is alerted. Returns the request
    and whether it is new (the same ask again finds the open one; another date replaces it).
    Raises NotEnoughSeats when the departure has no seats for the party now (nothing written);
    the seats are taken only when the rep approves."""
    target = check_target(session, booking, to_departure_id)
    current = open_request(session, booking)
    if current is not None and current.to_departure_id == target.id:
        return current, False
    counts = inventory.seat_counts(session, target)
    if booking.party_size > counts.available:
        raise NotEnoughSeats(booking.party_size, counts.available)
    if current is not None:
        lock_for_change(session, current, RESCHEDULE)
        change_state(
            session, current, RESCHEDULE, RescheduleStatus.WITHDRAWN, actor, reason="another date"
        )
        current.decided_at = clock.now()
        session.flush()  # the one-open-request index sees the old one closed first
    fee = change_fee(session, booking)
    request = RescheduleRequest(
        booking_id=booking.id,
        from_departure_id=booking.departure_id,
        to_departure_id=target.id,
        status=RescheduleStatus.REQUESTED,
        fee_minor=fee,
        currency=booking.currency,
        channel=channel,
    )
    session.add(request)
    log_created(
        session,
        request,
        ObjectType.RESCHEDULE,
        actor,
        booking=booking.reference,
        fromDate=booking.departure.start_date.isoformat(),
        toDate=target.start_date.isoformat(),
        fee=fee,
        currency=booking.currency,
    )
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="RESCHEDULE",
        action="tms.booking.reschedule_requested",
        actor=actor,
        content={
            "toDate": target.start_date.isoformat(),
            "fee": fee,
            "currency": booking.currency,
            "requestId": request.id,
        },
    )
    if channel == "chat":
        routing.alert(
            session,
            "tms.booking.reschedule_requested",
            texts.rep_reschedule_requested(booking, target, fee),
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
            conversation=conversation,
            lead=booking.lead,
        )
    return request, True


def approve(
    session: Session, request: RescheduleRequest, actor: Actor, *, notify_customer: bool = True
) -> Booking:
    """Move the booking as asked, in this transaction: seats taken on the target (locked and
    re-checked: NotEnoughSeats changes nothing) and freed on the old departure, the fee added,
    the balance due before the new start, the timers planned again, the customer told."""
    booking = request.booking
    first, second = sorted((request.from_departure_id, request.to_departure_id))
    inventory.lock_departure(session, first)
    inventory.lock_departure(session, second)
    # The booking's row read again under its lock: a payment that confirmed it a moment ago is
    # no reason to refuse (it moves with its money); only where it is and whether it may move.
    lock_row(session, booking)
    lock_for_change(session, request, RESCHEDULE)
    if request.status != RescheduleStatus.REQUESTED:
        raise CannotReschedule(f"The request was already {str(request.status).lower()}")
    if booking.departure_id != request.from_departure_id:
        raise CannotReschedule("The booking moved since the request was made")
    target = check_target(session, booking, request.to_departure_id)
    inventory.ensure_available(session, target, booking.party_size)
    move_booking(session, booking, target, request.fee_minor, actor)
    change_state(session, request, RESCHEDULE, RescheduleStatus.APPROVED, actor)
    request.decided_by = actor.staff_id
    request.decided_at = clock.now()
    waitlist.offer_freed_seats(session, request.from_departure_id, actor)
    if notify_customer:
        fee = request.fee_minor
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.reschedule_approved(booking, fee),
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    return booking


def decline(
    session: Session, request: RescheduleRequest, actor: Actor, *, reason: str | None = None
) -> None:
    """The rep says no: the booking stays on its dates and the customer is told why."""
    lock_for_change(session, request, RESCHEDULE)
    change_state(
        session, request, RESCHEDULE, RescheduleStatus.DECLINED, actor, reason=reason or ""
    )
    request.decided_by = actor.staff_id
    request.decided_at = clock.now()
    request.reason = (reason or "")[:300] or None
    booking, target = request.booking, request.to_departure
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.reschedule_declined(booking, target, reason),
        purpose="customer_update",
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )


def reschedule_by_staff(
    session: Session,
    booking: Booking,
    to_departure_id: str,
    actor: Actor,
    *,
    channel: str = "api",
    notify_customer: bool = True,
) -> RescheduleRequest:
    """Staff move a booking (the customer asked by phone, or their request is approved from
    the booking): the open request for that departure is approved, another one withdrawn."""
    # The departures first, in `approve`'s order: every seat-moving path locks them before
    # the booking's requests (the open one is withdrawn below), or two of them deadlock.
    for departure_id in sorted({booking.departure_id, to_departure_id}):
        inventory.lock_departure(session, departure_id)
    request, _new = request_reschedule(session, booking, to_departure_id, actor, channel=channel)
    approve(session, request, actor, notify_customer=notify_customer)
    return request


# Timed notices whose moment follows the departure's dates: after a move they are planned
# again from the new dates (one sent for the old dates does not stop the new one).
_DATED_NOTICES = (TimerKind.PRE_DEPARTURE, TimerKind.BALANCE_OVERDUE)
_DATED_NOTICE_PREFIXES = ("balance-reminder-", "papers-reminder-")


def move_booking(
    session: Session, booking: Booking, target: Departure, fee: int, actor: Actor
) -> None:
    """The one seat move: the booking (and its hold) onto `target`, with the fee, its balance
    due and dated notices planned again, on the timeline of both departures. The caller holds
    both departures' locks and has checked the target's seats."""
    source = booking.departure
    hold = inventory.active_hold(session, booking)
    if booking.status == BookingStatus.HELD and (hold is None or hold.expires_at <= clock.now()):
        raise CannotReschedule(f"The hold on {booking.reference} has run out: nothing to move")
    if hold is not None:
        hold.departure_id = target.id
    booking.departure_id = target.id
    booking.total_minor += fee
    booking.balance_due_date = target.start_date - timedelta(
        days=target.product.balance_due_days_before
    )
    session.flush()
    session.refresh(booking, ["departure"])
    if fee and booking.payment_status == PaymentStatus.FULL_PAID:
        # The fee is owed: the balance is open again (and chased like any balance).
        change_state(
            session, booking, BOOKING_PAYMENT, PaymentStatus.DEPOSIT_PAID, actor, reason="fee"
        )
    timers.forget_dated_notices(session, booking.id, _DATED_NOTICES, _DATED_NOTICE_PREFIXES)
    timers.touch(session, ObjectType.BOOKING, booking.id)
    content = {
        "booking": booking.reference,
        "seats": booking.party_size,
        "fromDate": source.start_date.isoformat(),
        "toDate": target.start_date.isoformat(),
    }
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="RESCHEDULE",
        action="tms.booking.moved",
        actor=actor,
        content={**content, "fee": fee, "currency": booking.currency},
    )
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=source.id,
        event_type="INVENTORY",
        action="tms.departure.booking_moved_out",
        actor=actor,
        content=content,
    )
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=target.id,
        event_type="INVENTORY",
        action="tms.departure.booking_moved_in",
        actor=actor,
        content=content,
    )
