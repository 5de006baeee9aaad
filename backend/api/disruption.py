"""Disruption over the admin API (issue 27): one booking to another date; a whole departure
moved; a trip under way shifted; guaranteed departures (the trek's and the departure's minimum
group size and deadline, the decision at the deadline).

`GET /api/bookings/<ref>/reschedule`: the booking's requests and the departures it could move
to (seats, the fee the policy sets today). `POST /api/bookings/<ref>/reschedule`:
`{"toDepartureId": …}` moves it now (approving the customer's request for that departure, if
any); `{"decision": "approve" | "decline", "reason": …}` decides the customer's open request.
Both go through `backend.services.reschedules`, as the console and the chat do.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sanic import Request
from sqlalchemy.orm import Session

from backend import clock
from backend.api import serializers
from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import Role
from backend.http_common import get_or_404
from backend.models import Booking, Departure, MoveOffer, RescheduleRequest, Staff
from backend.services import (
    bookings,
    catalog,
    departure_moves,
    guarantees,
    reschedules,
    trip_shifts,
    trips,
)


class RescheduleBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    to_departure_id: str | None = Field(
        default=None, alias="toDepartureId", max_length=36, description="move it there now"
    )
    decision: Literal["approve", "decline"] | None = Field(
        default=None, description="decide the customer's open request"
    )
    reason: str | None = Field(default=None, max_length=300)
    notify_customer: bool = Field(default=True, alias="notifyCustomer")


def request_json(item: RescheduleRequest) -> dict[str, Any]:
    return {
        "id": item.id,
        "status": item.status,
        "channel": item.channel,
        "fromDepartureId": item.from_departure_id,
        "fromDate": item.from_departure.start_date.isoformat(),
        "toDepartureId": item.to_departure_id,
        "toDate": item.to_departure.start_date.isoformat(),
        "fee": serializers.money(item.fee_minor, item.currency),
        "requestedAt": item.created_at.isoformat(),
        "decidedBy": item.decided_by,
        "decidedAt": item.decided_at.isoformat() if item.decided_at else None,
        "reason": item.reason,
    }


def _booking(session: Session, key: str) -> Booking:
    booking = session.get(Booking, key)
    return booking if booking is not None else bookings.find_booking(session, key)


def _answer(session: Session, booking: Booking) -> dict[str, Any]:
    movable = reschedules.can_move(booking)
    fee = reschedules.change_fee(session, booking) if movable else 0
    return {
        "booking": serializers.booking(session, booking),
        "requests": [request_json(r) for r in reschedules.requests_of(session, booking)],
        "canMove": movable,
        "fee": serializers.money(fee, booking.currency),
        "departures": [
            {"id": d.id, "startDate": d.start_date.isoformat(), "seatsFree": free}
            for d, free in (reschedules.other_departures(session, booking) if movable else [])
        ],
    }


@api.get("/bookings/<booking_id:str>/reschedule")
@endpoint(Role.SALES, Role.OPS)
def reschedule_status(request: Request, session: Session, member: Staff, booking_id: str) -> Any:
    """The booking's date-change requests and the departures it could move to."""
    return _answer(session, _booking(session, booking_id))


@api.post("/bookings/<booking_id:str>/reschedule")
@endpoint(Role.SALES, Role.OPS, body=RescheduleBody)
def reschedule(
    request: Request, session: Session, member: Staff, booking_id: str, body: RescheduleBody
) -> Any:
    """Move the booking to another departure now, or decide the customer's request."""
    booking = _booking(session, booking_id)
    actor = staff_actor(member)
    if body.to_departure_id:
        reschedules.reschedule_by_staff(
            session,
            booking,
            body.to_departure_id,
            actor,
            channel="api",
            notify_customer=body.notify_customer,
        )
    elif body.decision is not None:
        open_request = reschedules.open_request(session, booking)
        if open_request is None:
            raise ApiError(409, f"Booking {booking.reference} has no date change waiting")
        if body.decision == "approve":
            reschedules.approve(session, open_request, actor, notify_customer=body.notify_customer)
        else:
            reschedules.decline(session, open_request, actor, reason=body.reason)
    else:
        raise ApiError(422, "give toDepartureId, or a decision", fields={"body": "required"})
    return _answer(session, booking)


# -- a whole departure moved (OPS) -------------------------------------------------------------
class DepartureMoveBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    to_departure_id: str | None = Field(default=None, alias="toDepartureId", max_length=36)
    start_date: date | None = Field(
        default=None, alias="startDate", description="new dates: a departure is created"
    )
    reason: str = Field(min_length=3, max_length=300)
    offer_hours: int = Field(default=departure_moves.OFFER_HOURS, alias="offerHours", ge=1, le=336)


def offer_json(item: MoveOffer) -> dict[str, Any]:
    booking = item.booking
    return {
        "id": item.id,
        "booking": booking.reference,
        "customer": {"name": booking.contact.display_name, "phone": booking.contact.phone},
        "partySize": item.seats,
        "seatsHeld": item.held,
        "status": item.status,
        "expiresAt": item.expires_at.isoformat(),
        "answeredAt": item.answered_at.isoformat() if item.answered_at else None,
        "departureNow": booking.departure.start_date.isoformat(),
    }


def _move_answer(session: Session, departure: Departure) -> dict[str, Any]:
    move = departure_moves.latest_move(session, departure)
    if move is None:
        return {"departureId": departure.id, "move": None}
    board = departure_moves.board(session, move)
    return {
        "departureId": departure.id,
        "move": {
            "id": move.id,
            "toDepartureId": move.to_departure_id,
            "toDate": move.to_departure.start_date.isoformat(),
            "reason": move.reason,
            "offerExpiresAt": move.offer_expires_at.isoformat(),
        },
        "board": {name: [offer_json(o) for o in rows] for name, rows in board.items()},
    }


@api.get("/departures/<departure_id:str>/move")
@endpoint(Role.OPS)
def departure_move_board(
    request: Request, session: Session, member: Staff, departure_id: str
) -> Any:
    """The answers to the departure's latest move: accepted, elsewhere, cancelled, waiting,
    and who to call (no answer in time)."""
    return _move_answer(session, get_or_404(session, Departure, departure_id, "departure"))


@api.post("/departures/<departure_id:str>/move")
@endpoint(Role.OPS, body=DepartureMoveBody)
def departure_move(
    request: Request, session: Session, member: Staff, departure_id: str, body: DepartureMoveBody
) -> Any:
    """Move the departure's bookings to another departure or to new dates: each is offered
    the new dates, another departure or a cancellation in the chat."""
    departure = get_or_404(session, Departure, departure_id, "departure")
    departure_moves.start_move(
        session,
        departure.id,
        staff_actor(member),
        reason=body.reason,
        to_departure_id=body.to_departure_id,
        start_date=body.start_date,
        offer_hours=body.offer_hours,
    )
    return _move_answer(session, departure)


# -- a trip under way shifted (OPS) ------------------------------------------------------------
class TripShiftBody(BaseModel):
    days: int = Field(ge=1, le=trip_shifts.MOST_DAYS)
    reason: str = Field(min_length=3, max_length=300)


@api.post("/trips/<reference:str>/shift")
@endpoint(Role.OPS, body=TripShiftBody)
def trip_shift(
    request: Request, session: Session, member: Staff, reference: str, body: TripShiftBody
) -> Any:
    """Shift the rest of a trip under way by `days` (contingency days): its end, the checkout
    and the staff's paid days move; the guests are told."""
    trip = trips.find_trip(session, reference)
    trip_shifts.shift_trip(session, trip, body.days, staff_actor(member), reason=body.reason)
    return {
        "trip": trip.reference,
        "status": trip.status,
        "delayDays": trip.delay_days,
        "endDate": trip.departure.end_date.isoformat(),
    }


# -- guaranteed departures (OPS) ---------------------------------------------------------------
class GuaranteeBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    min_group_size: int | None = Field(default=None, alias="minGroupSize", ge=1, le=500)
    decision: Literal["run", "cancel"] | None = None
    to_departure_id: str | None = Field(default=None, alias="toDepartureId", max_length=36)
    start_date: date | None = Field(default=None, alias="startDate")
    reason: str = Field(default="", max_length=300)


def _guarantee_json(session: Session, departure: Departure) -> dict[str, Any]:
    found = guarantees.status(session, departure)
    return {
        "departureId": departure.id,
        "minimum": found.minimum,
        "confirmed": found.confirmed,
        "deadline": found.deadline.isoformat() if found.deadline else None,
        "decision": found.decision,
        "guaranteed": found.guaranteed,
    }


@api.get("/departures/<departure_id:str>/guarantee")
@endpoint(Role.SALES, Role.OPS)
def departure_guarantee(
    request: Request, session: Session, member: Staff, departure_id: str
) -> Any:
    """Whether the departure is guaranteed: its minimum, travellers confirmed, deadline."""
    return _guarantee_json(session, get_or_404(session, Departure, departure_id, "departure"))


@api.post("/departures/<departure_id:str>/guarantee")
@endpoint(Role.OPS, body=GuaranteeBody)
def decide_guarantee(
    request: Request, session: Session, member: Staff, departure_id: str, body: GuaranteeBody
) -> Any:
    """Set the departure's minimum group size, or decide at the deadline: run it anyway, or
    cancel it (every booking is offered the move: `toDepartureId` or `startDate`)."""
    departure = get_or_404(session, Departure, departure_id, "departure")
    actor = staff_actor(member)
    if body.min_group_size is not None:
        guarantees.set_minimum(session, departure, body.min_group_size, actor)
    if body.decision == "run":
        guarantees.run_anyway(session, departure, actor)
    elif body.decision == "cancel":
        guarantees.cancel(
            session,
            departure,
            actor,
            reason=body.reason or "too few travellers",
            to_departure_id=body.to_departure_id,
            start_date=body.start_date,
        )
    return _guarantee_json(session, departure)


class DepartureMinimumBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    # Required, and null on purpose: the departure then takes the trek's minimum.
    min_group_size: int | None = Field(alias="minGroupSize", ge=1, le=500)


@api.put("/departures/<departure_id:str>/guarantee")
@endpoint(Role.OPS, body=DepartureMinimumBody)
def set_departure_minimum(
    request: Request,
    session: Session,
    member: Staff,
    departure_id: str,
    body: DepartureMinimumBody,
) -> Any:
    """The departure's own minimum group size; `null`: the trek's minimum applies."""
    departure = get_or_404(session, Departure, departure_id, "departure")
    guarantees.set_minimum(session, departure, body.min_group_size, staff_actor(member))
    return _guarantee_json(session, departure)


class GuaranteeDecisionBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    decision: Literal["run", "cancel"]
    reason: str = Field(default="", max_length=300)
    to_departure_id: str | None = Field(default=None, alias="toDepartureId", max_length=36)
    start_date: date | None = Field(default=None, alias="startDate")

    @model_validator(mode="after")
    def _cancel_names_where_to(self) -> GuaranteeDecisionBody:
        if self.decision == "cancel":
            if len(self.reason.strip()) < 3:
                raise ValueError("cancelling needs a reason (the customers read it)")
            if (self.to_departure_id is None) == (self.start_date is None):
                raise ValueError("cancelling needs toDepartureId or startDate (not both)")
        return self


@api.post("/departures/<departure_id:str>/guarantee/decision")
@endpoint(Role.OPS, body=GuaranteeDecisionBody)
def guarantee_decision(
    request: Request,
    session: Session,
    member: Staff,
    departure_id: str,
    body: GuaranteeDecisionBody,
) -> Any:
    """Decide a departure short of its minimum: run it anyway, or cancel it with a reason
    (every booking is offered the move to `toDepartureId` or to new dates `startDate`)."""
    departure = get_or_404(session, Departure, departure_id, "departure")
    actor = staff_actor(member)
    if body.decision == "run":
        guarantees.run_anyway(session, departure, actor, reason=body.reason.strip())
    else:
        guarantees.cancel(
            session,
            departure,
            actor,
            reason=body.reason.strip(),
            to_departure_id=body.to_departure_id,
            start_date=body.start_date,
        )
    return _guarantee_json(session, departure)


class ProductGuaranteeBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    # Required, and null on purpose: the trek's departures run whatever their size.
    min_group_size: int | None = Field(alias="minGroupSize", ge=1, le=500)
    days_before: int | None = Field(
        default=None,
        alias="daysBefore",
        ge=0,
        le=guarantees.MOST_DAYS_BEFORE,
        description=f"the deadline, days before each start (null: {guarantees.DEFAULT_DAYS_BEFORE})",
    )


@api.put("/products/<code:str>/guarantee")
@endpoint(Role.OPS, body=ProductGuaranteeBody)
def set_product_guarantee(
    request: Request, session: Session, member: Staff, code: str, body: ProductGuaranteeBody
) -> Any:
    """The trek's minimum group size and deadline; every departure ahead without its own
    minimum follows it (its deadline is planned again)."""
    product = catalog.get_product(session, code)
    guarantees.set_product_terms(
        session, product, body.min_group_size, body.days_before, staff_actor(member)
    )
    today = clock.local_today()
    return {
        "product": product.code,
        "minGroupSize": product.min_group_size,
        "daysBefore": guarantees.DEFAULT_DAYS_BEFORE
        if product.guarantee_days_before is None
        else product.guarantee_days_before,
        "departures": [
            _guarantee_json(session, d)
            for d in catalog.departures_of(session, product, from_date=today)
        ],
    }
