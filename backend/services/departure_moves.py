"""A whole departure moved (issue 27, "move a whole departure"): weather, a road, too few
travellers. Operations choose the departure and a target (an existing departure, or new dates:
a departure is created); every open booking is offered in the chat the target's dates, another
departure, or a cancellation (refund or credit by the cancellation policy).

Seats: when the move starts, the target is locked and the offers' seats are set aside on it,
in booking order, as far as they fit (`MoveOffer.held`, counted by `inventory.seat_counts`
until the offer's time runs out). Accepting locks both departures (fixed order), then the
booking, then the offer: a held offer moves at once; one not held (or run out) is counted
again under the lock, and when the target is full nothing changes and the customer is told
what they can do (another departure, or cancel). Payments stay with the booking; its timers
are planned again (`reschedules.move_booking`, the one seat move).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain import choices
from backend.domain.actor import Actor
from backend.domain.enums import MoveOfferStatus, ObjectType, TimerKind
from backend.domain.errors import DomainError, NotEnoughSeats, NotFound
from backend.domain.states import MOVABLE_BOOKING_STATES, MOVE_OFFER
from backend.models import Booking, Departure, DepartureMove, MoveOffer
from backend.services import (
    assignments,
    bookings,
    catalog,
    inventory,
    notifications,
    reschedules,
    routing,
    timeline,
    timers,
)
from backend.services.state import change_state, lock_row, log_created

OFFER_HOURS = 72  # how long the customer has to answer, their seats set aside meanwhile
REMIND_BEFORE = timedelta(hours=24)  # the reminder, this long before the offer runs out


class MoveRefused(DomainError):
    """The move cannot be made as asked (the same departure, another trek, a date past)."""


def start_move(
    session: Session,
    departure_id: str,
    actor: Actor,
    *,
    reason: str,
    to_departure_id: str | None = None,
    start_date: date | None = None,
    offer_hours: int = OFFER_HOURS,
) -> DepartureMove:
    """Move the departure's bookings to another departure (or new dates): an offer each, in
    the chat, with its seats set aside on the target as far as they fit."""
    source = session.get(Departure, departure_id)
    if source is None:
        raise NotFound(f"No departure {departure_id}")
    if (to_departure_id is None) == (start_date is None):
        raise MoveRefused("Give the departure to move to, or the new start date")
    if start_date is not None:
        target = catalog.create_departure(
            session,
            source.product,
            start_date=start_date,
            capacity=source.capacity,
            actor=actor,
            meeting_point=source.meeting_point,
            meeting_time=source.meeting_time,
        )
    else:
        found = session.get(Departure, to_departure_id)
        if found is None:
            raise NotFound(f"No departure {to_departure_id}")
        target = found
    if target.id == source.id or target.product_id != source.product_id:
        raise MoveRefused("Move to another departure of the same trek")
    if target.start_date <= clock.local_today():
        raise MoveRefused("That departure has already left")
    why = inventory.closed_reason(session, target)
    if why is not None:
        raise MoveRefused(f"That departure was {why}: it takes nobody")
    first, second = sorted((source.id, target.id))
    inventory.lock_departure(session, first)
    inventory.lock_departure(session, second)
    # Read under the source's lock: a move made a moment ago by someone else is seen here.
    if being_moved(session, source):
        raise MoveRefused(
            "This departure is already being moved: its customers have not all answered yet"
        )
    expires_at = clock.now() + timedelta(hours=offer_hours)
    move = DepartureMove(
        departure_id=source.id,
        to_departure_id=target.id,
        reason=reason[:300],
        offer_expires_at=expires_at,
        created_by=actor.staff_id,
    )
    session.add(move)
    session.flush()
    free = inventory.seat_counts(session, target).available
    open_bookings = session.scalars(
        select(Booking)
        .where(
            Booking.departure_id == source.id,
            Booking.status.in_([str(s) for s in MOVABLE_BOOKING_STATES]),
        )
        .order_by(Booking.created_at)
    ).all()
    for booking in open_bookings:
        held = booking.party_size <= free
        free -= booking.party_size if held else 0
        offer = MoveOffer(
            move_id=move.id,
            booking_id=booking.id,
            to_departure_id=target.id,
            seats=booking.party_size,
            held=held,
            status=MoveOfferStatus.OFFERED,
            expires_at=expires_at,
        )
        session.add(offer)
        log_created(
            session,
            offer,
            ObjectType.MOVE_OFFER,
            actor,
            booking=booking.reference,
            toDate=target.start_date.isoformat(),
            held=held,
        )
        _send_offer(session, offer, booking, target, reason)
    # The guides and porters go with the departure: offered the new dates again.
    assignments.move_with_departure(session, source, target, actor, reason=f"moved: {reason}")
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=source.id,
        event_type="DISRUPTION",
        action="tms.departure.moved",
        actor=actor,
        content={
            "toDate": target.start_date.isoformat(),
            "reason": reason,
            "bookings": len(open_bookings),
            "moveId": move.id,
        },
    )
    return move


def being_moved(session: Session, departure: Departure) -> bool:
    """Its latest move still waits for answers: it cannot be moved again until they come."""
    return _is_open(session, latest_move(session, departure))


def _is_open(session: Session, move: DepartureMove | None) -> bool:
    """Some of the move's offers still wait for an answer."""
    if move is None:
        return False
    return (
        session.scalar(
            select(MoveOffer.id)
            .where(MoveOffer.move_id == move.id, MoveOffer.status == MoveOfferStatus.OFFERED)
            .limit(1)
        )
        is not None
    )


def _send_offer(
    session: Session, offer: MoveOffer, booking: Booking, target: Departure, reason: str
) -> None:
    answers = choices.answer_to(choices.MOVE, offer.id)
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.move_offer(booking, target, reason, offer.expires_at),
        purpose="customer_update",
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        buttons=lambda: [
            choices.reply_button(title, "choose_option", f"{answers}:{choice}")
            for choice, title in texts.move_offer_buttons()
        ],
    )


def get_offer(session: Session, offer_id: str) -> MoveOffer:
    offer = session.get(MoveOffer, offer_id)
    if offer is None:
        raise NotFound(f"No move offer {offer_id}")
    return offer


@dataclass(frozen=True)
class Answer:
    """What became of a customer's answer: `done` (moved or cancelled), `already` (answered
    before: nothing changed), `full` (the departure has no seats left for them), `closed`
    (the booking can no longer move, cancelled meanwhile: the offer is closed), `refused`
    (that departure cannot take them). The customer was told in the last three cases."""

    outcome: str
    available: int = 0


def _locked_offer(session: Session, offer: MoveOffer, *departure_ids: str) -> Booking:
    """Both departures (fixed order), then the booking, then the offer, read again."""
    for departure_id in sorted(set(departure_ids)):
        inventory.lock_departure(session, departure_id)
    booking = offer.booking
    lock_row(session, booking)
    lock_row(session, offer)
    return booking


def _closed_if_stale(session: Session, offer: MoveOffer, booking: Booking, actor: Actor) -> bool:
    """An open offer whose booking can no longer move (cancelled elsewhere, its trip begun)
    is closed (EXPIRED: its seats set aside are freed); True when it was."""
    if offer.status != MoveOfferStatus.OFFERED or reschedules.can_move(booking):
        return False
    change_state(
        session, offer, MOVE_OFFER, MoveOfferStatus.EXPIRED, actor, reason="booking cannot move"
    )
    return True


def accept(session: Session, offer: MoveOffer, actor: Actor) -> Answer:
    """The customer takes the new dates."""
    return _move_to(session, offer, offer.to_departure_id, MoveOfferStatus.ACCEPTED, actor)


def move_elsewhere(session: Session, offer: MoveOffer, departure_id: str, actor: Actor) -> Answer:
    """The customer chose another departure of the trek instead."""
    if departure_id == offer.to_departure_id:
        return accept(session, offer, actor)
    return _move_to(session, offer, departure_id, MoveOfferStatus.MOVED_ELSEWHERE, actor)


def _move_to(
    session: Session, offer: MoveOffer, departure_id: str, outcome: MoveOfferStatus, actor: Actor
) -> Answer:
    booking = _locked_offer(session, offer, offer.move.departure_id, departure_id)
    if offer.status != MoveOfferStatus.OFFERED or booking.departure_id != offer.move.departure_id:
        return Answer("already")
    if _closed_if_stale(session, offer, booking, actor):
        return Answer("closed")
    if departure_id == offer.move.departure_id:
        raise MoveRefused("The booking cannot move back onto the departure being moved")
    # The one check of a booking's new departure (the trek's, not left, not cancelled).
    target = reschedules.check_target(session, booking, departure_id)
    live = offer.held and offer.expires_at > clock.now() and departure_id == offer.to_departure_id
    # Its own set-aside seats stop counting as the offer closes; anything else is counted now.
    change_state(session, offer, MOVE_OFFER, outcome, actor)
    offer.answered_at = clock.now()
    if not live:
        # NotEnoughSeats: `answer` rolls the offer's change back and tells the customer.
        inventory.ensure_available(session, target, booking.party_size)
    reschedules.move_booking(session, booking, target, 0, actor)
    notifications.to_contact(
        session,
        booking.contact,
        lambda: texts.reschedule_approved(booking, 0),
        purpose="customer_update",
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    return Answer("done")


def answer(session: Session, offer: MoveOffer, choice: str, actor: Actor, **kw: str) -> Answer:
    """The customer's tap, in its own savepoint: a departure found full (or one that cannot
    take them) changes nothing, and an offer whose booking can no longer move is closed; the
    customer is told which, and what they can still do."""
    try:
        with session.begin_nested():
            if choice == "accept":
                outcome = accept(session, offer, actor)
            elif choice == "cancel":
                outcome = cancel(session, offer, actor)
            else:
                outcome = move_elsewhere(session, offer, kw["departure_id"], actor)
    except NotEnoughSeats as full:
        session.refresh(offer)
        _tell(session, offer.booking, texts.move_full)
        return Answer("full", full.available)
    except (MoveRefused, reschedules.CannotReschedule):
        session.refresh(offer)
        _tell(session, offer.booking, lambda _booking: texts.choice_expired())
        return Answer("refused")
    if outcome.outcome == "closed":
        _tell(session, offer.booking, texts.reschedule_not_possible)
    return outcome


def _tell(session: Session, booking: Booking, text: Callable[[Booking], str]) -> None:
    notifications.to_contact(
        session,
        booking.contact,
        lambda: text(booking),
        purpose="customer_update",
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )


def cancel(session: Session, offer: MoveOffer, actor: Actor) -> Answer:
    """The customer would rather cancel: the booking is cancelled and what comes back follows
    the cancellation policy (a refund or a credit, the customer chooses)."""
    booking = _locked_offer(session, offer, offer.move.departure_id)
    if offer.status != MoveOfferStatus.OFFERED:
        return Answer("already")
    if _closed_if_stale(session, offer, booking, actor):
        return Answer("closed")
    change_state(session, offer, MOVE_OFFER, MoveOfferStatus.CANCELLED, actor)
    offer.answered_at = clock.now()
    bookings.cancel_by_staff(
        session,
        booking,
        actor,
        reason=f"departure moved: {offer.move.reason}",
        notify_customer=True,
    )
    return Answer("done")


def other_departures(session: Session, offer: MoveOffer) -> list[tuple[Departure, int]]:
    """Where the booking could go instead (the move's target included, with its own seats)."""
    return reschedules.other_departures(session, offer.booking)


def latest_move(session: Session, departure: Departure) -> DepartureMove | None:
    return session.scalar(
        select(DepartureMove)
        .where(DepartureMove.departure_id == departure.id)
        .order_by(DepartureMove.created_at.desc())
        .limit(1)
    )


def offers_of(session: Session, move: DepartureMove) -> list[MoveOffer]:
    return list(
        session.scalars(
            select(MoveOffer).where(MoveOffer.move_id == move.id).order_by(MoveOffer.created_at)
        )
    )


def board(session: Session, move: DepartureMove) -> dict[str, list[MoveOffer]]:
    """The answers so far: accepted (the new dates), moved elsewhere, cancelled, waiting, and
    who to call (no answer and the offer's time has run out)."""
    now = clock.now()
    rows = offers_of(session, move)
    waiting = [o for o in rows if o.status == MoveOfferStatus.OFFERED]
    return {
        "accepted": [o for o in rows if o.status == MoveOfferStatus.ACCEPTED],
        "elsewhere": [o for o in rows if o.status == MoveOfferStatus.MOVED_ELSEWHERE],
        "cancelled": [o for o in rows if o.status == MoveOfferStatus.CANCELLED],
        "waiting": [o for o in waiting if o.expires_at > now],
        "to_call": [o for o in waiting if o.expires_at <= now],
    }


# -- the scheduler's reminders (backend/scheduler/kinds.py) ---------------------------------
def reminder_moment(offer: MoveOffer) -> datetime:
    """A day before the offer runs out; half-way through a shorter offer."""
    moment = offer.expires_at - REMIND_BEFORE
    if moment <= offer.created_at:
        moment = offer.created_at + (offer.expires_at - offer.created_at) / 2
    return moment


def remind(session: Session, offer: MoveOffer, actor: Actor) -> str:
    """The offer again, with its buttons, to a customer who has not answered."""
    lock_row(session, offer.booking)  # the booking, then the offer (`_locked_offer`'s order)
    lock_row(session, offer)
    if offer.status != MoveOfferStatus.OFFERED:
        return "nothing to do: answered"
    if _closed_if_stale(session, offer, offer.booking, actor):
        return "closed: the booking can no longer move"
    if not timers.record_notice(session, TimerKind.MOVE_OFFER_REMINDER, offer.id):
        return "nothing to do: already reminded"
    move, booking = offer.move, offer.booking
    _send_offer(session, offer, booking, move.to_departure, move.reason)
    timeline.record(
        session,
        object_type=ObjectType.MOVE_OFFER,
        object_id=offer.id,
        event_type="REMINDER",
        action="tms.move_offer.reminded",
        actor=actor,
        content={"booking": booking.reference},
    )
    return "reminded"


def alert_unanswered(session: Session, offer: MoveOffer, actor: Actor) -> str:
    """The offer ran out unanswered: operations are told whom to call (the board lists them)."""
    lock_row(session, offer.booking)  # the booking, then the offer (`_locked_offer`'s order)
    lock_row(session, offer)
    if offer.status != MoveOfferStatus.OFFERED:
        return "nothing to do: answered"
    if _closed_if_stale(session, offer, offer.booking, actor):
        return "closed: the booking can no longer move"
    if not timers.record_notice(session, TimerKind.MOVE_OFFER_UNANSWERED, offer.id):
        return "nothing to do: already alerted"
    booking = offer.booking
    timeline.record(
        session,
        object_type=ObjectType.MOVE_OFFER,
        object_id=offer.id,
        event_type="ALERT",
        action="tms.move_offer.unanswered",
        actor=actor,
        content={"booking": booking.reference, "phone": booking.contact.address},
    )
    routing.alert(
        session,
        "tms.move_offer.unanswered",
        texts.ops_move_unanswered(booking, offer.move.to_departure),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    return "operations alerted"
