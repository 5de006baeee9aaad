"""Guaranteed departures (issue 27): a minimum group size per product (or per departure) and a
deadline (the product's days before the start, 30 by default). Once enough travellers are
confirmed the departure is *guaranteed* and customers are told so where they choose dates. At
the deadline, short of the minimum, operations are asked to run it or cancel it; cancelling
sends every booking the move offer (`departure_moves`: the new dates, another departure, or a
cancellation refunded or credited by the policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain.actor import Actor
from backend.domain.enums import GuaranteeDecision, ObjectType, TimerKind
from backend.domain.errors import DomainError
from backend.domain.states import SEAT_TAKING_BOOKING_STATES
from backend.models import Booking, Departure, DepartureMove, Product
from backend.services import catalog, departure_moves, inventory, routing, timeline, timers

DEFAULT_DAYS_BEFORE = 30
RUN, CANCELLED = GuaranteeDecision.RUN, GuaranteeDecision.CANCELLED
MOST_DAYS_BEFORE = 365
GUARANTEE_NOTICE = TimerKind.GUARANTEE_DEADLINE


@dataclass(frozen=True)
class Guarantee:
    minimum: int | None  # None: the departure runs whatever its size
    confirmed: int  # travellers on paid (payment pending, confirmed, completed) bookings
    deadline: date | None
    decision: str | None  # RUN / CANCELLED once operations decided

    @property
    def guaranteed(self) -> bool:
        """Sure to run: the minimum reached, or operations chose to run it anyway."""
        if self.decision == CANCELLED:
            return False
        return self.minimum is None or self.confirmed >= self.minimum or self.decision == RUN


def minimum_of(departure: Departure) -> int | None:
    return departure.min_group_size or departure.product.min_group_size


def deadline_of(departure: Departure) -> date | None:
    if minimum_of(departure) is None:
        return None
    days = departure.product.guarantee_days_before
    return departure.start_date - timedelta(days=DEFAULT_DAYS_BEFORE if days is None else days)


def status(session: Session, departure: Departure) -> Guarantee:
    confirmed = session.scalar(
        select(func.coalesce(func.sum(Booking.party_size), 0)).where(
            Booking.departure_id == departure.id,
            Booking.status.in_([str(s) for s in SEAT_TAKING_BOOKING_STATES]),
        )
    )
    return Guarantee(
        minimum_of(departure),
        int(confirmed or 0),
        deadline_of(departure),
        departure.guarantee_decision,
    )


def set_minimum(session: Session, departure: Departure, minimum: int | None, actor: Actor) -> None:
    """The departure's own minimum (None: the product's)."""
    if minimum is not None and not 1 <= minimum <= departure.capacity:
        raise DomainError(f"A minimum of 1 to {departure.capacity} travellers")
    departure.min_group_size = minimum
    timers.touch(session, ObjectType.DEPARTURE, departure.id)  # its deadline is planned again
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=departure.id,
        event_type="GUARANTEE",
        action="tms.departure.minimum_set",
        actor=actor,
        content={"minimum": minimum},
    )


def set_product_terms(
    session: Session, product: Product, minimum: int | None, days_before: int | None, actor: Actor
) -> None:
    """The trek's minimum group size (None: its departures run whatever their size) and its
    deadline in days before the start (None: the default 30). Departures with their own
    minimum keep it; every departure still ahead has its deadline planned again."""
    if minimum is not None and not 1 <= minimum <= 500:
        raise DomainError("A minimum of 1 to 500 travellers")
    if days_before is not None and not 0 <= days_before <= MOST_DAYS_BEFORE:
        raise DomainError(f"The deadline is 0 to {MOST_DAYS_BEFORE} days before the start")
    product.min_group_size = minimum
    product.guarantee_days_before = days_before
    for departure in catalog.departures_of(session, product, from_date=clock.local_today()):
        timers.touch(session, ObjectType.DEPARTURE, departure.id)
    timeline.record(
        session,
        object_type=ObjectType.PRODUCT,
        object_id=product.id,
        event_type="GUARANTEE",
        action="tms.product.guarantee_set",
        actor=actor,
        content={
            "minimum": minimum,
            "daysBefore": DEFAULT_DAYS_BEFORE if days_before is None else days_before,
        },
    )


def check_deadline(session: Session, departure: Departure, actor: Actor) -> str:
    """At the deadline: guaranteed (on the timeline), or operations asked to run or cancel."""
    found = status(session, departure)
    if found.minimum is None or found.decision is not None:
        return "nothing to do: no minimum, or already decided"
    if departure_moves.latest_move(session, departure) is not None:
        return "nothing to do: the departure was moved"
    if not timers.record_notice(session, GUARANTEE_NOTICE, departure.id):
        return "nothing to do: already checked"
    if found.guaranteed:
        timeline.record(
            session,
            object_type=ObjectType.DEPARTURE,
            object_id=departure.id,
            event_type="GUARANTEE",
            action="tms.departure.guaranteed",
            actor=actor,
            content={"confirmed": found.confirmed, "minimum": found.minimum},
        )
        return "guaranteed"
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=departure.id,
        event_type="GUARANTEE",
        action="tms.departure.minimum_missed",
        actor=actor,
        content={"confirmed": found.confirmed, "minimum": found.minimum},
    )
    routing.alert(
        session,
        "tms.departure.minimum_missed",
        texts.ops_minimum_missed(departure, found.confirmed, found.minimum),
        object_type=ObjectType.DEPARTURE,
        object_id=departure.id,
    )
    return "operations asked to run or cancel"


def run_anyway(session: Session, departure: Departure, actor: Actor, *, reason: str = "") -> None:
    """Operations run the departure below its minimum: it is guaranteed from now on."""
    _decide(session, departure, RUN, actor, reason=reason)


def cancel(
    session: Session,
    departure: Departure,
    actor: Actor,
    *,
    reason: str,
    to_departure_id: str | None = None,
    start_date: date | None = None,
) -> DepartureMove:
    """Operations cancel the departure: every booking is offered the move (the other departure
    or new dates, another departure, or a cancellation by the policy)."""
    _decide(session, departure, CANCELLED, actor, reason=reason)
    return departure_moves.start_move(
        session,
        departure.id,
        actor,
        reason=reason,
        to_departure_id=to_departure_id,
        start_date=start_date,
    )


def _decide(
    session: Session, departure: Departure, decision: str, actor: Actor, *, reason: str = ""
) -> None:
    locked = inventory.lock_departure(session, departure.id)
    if locked.guarantee_decision is not None:
        raise DomainError(f"Already decided: {locked.guarantee_decision.lower()}")
    if minimum_of(locked) is None:
        raise DomainError("This departure has no minimum group size: it runs")
    locked.guarantee_decision = decision
    found = status(session, locked)
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=departure.id,
        event_type="GUARANTEE",
        action=f"tms.departure.guarantee.{decision.lower()}",
        actor=actor,
        content={"confirmed": found.confirmed, "minimum": found.minimum, "reason": reason},
    )


def due_deadlines(session: Session, ids: list[str] | None = None) -> list[tuple[str, date]]:
    """Departures with a minimum and no decision yet, with their deadline (the scheduler's)."""
    today = clock.local_today()
    query = select(Departure).where(
        Departure.guarantee_decision.is_(None), Departure.start_date > today
    )
    if ids is not None:
        query = query.where(Departure.id.in_(ids))
    rows = []
    for departure in session.scalars(query):
        deadline = deadline_of(departure)
        if deadline is not None and not timers.notice_recorded(
            session, GUARANTEE_NOTICE, departure.id
        ):
            rows.append((departure.id, deadline))
    return rows
