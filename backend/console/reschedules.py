"""Disruption in the console (issue 27). A booking to another date (SALES, OPS): the card on the
booking's page shows the customer's request (approve or decline it) and lets staff move the
booking to a departure with seats. A whole departure moved (OPS): the card on the departure's
page moves it and shows the board of answers. Every decision goes through
`backend.services.reschedules` and `departure_moves`, as the API and the chat do."""

from __future__ import annotations

from datetime import date
from typing import Any

from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from backend import clock
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.domain.errors import DomainError
from backend.http_common import get_or_404
from backend.models import Booking, Departure
from backend.services import catalog, departure_moves, guarantees, inventory, reschedules


def moves_card(session: Session, booking: Booking) -> dict[str, Any] | None:
    """What the booking's page shows about moving it (None when it cannot move and nothing
    was ever asked)."""
    history = reschedules.requests_of(session, booking)
    movable = reschedules.can_move(booking)
    if not movable and not history:
        return None
    return {
        "open": reschedules.open_request(session, booking),
        "history": history,
        "movable": movable,
        "fee": reschedules.change_fee(session, booking) if movable else 0,
        "departures": reschedules.other_departures(session, booking) if movable else [],
    }


@console_bp.post("/bookings/<booking_id:str>/move")
@console_page(Area.BOOKINGS)
def booking_move(ctx: Ctx, booking_id: str) -> HTTPResponse:
    booking = get_or_404(ctx.session, Booking, booking_id, "booking")
    action = ctx.form("action")
    back = f"/console/bookings/{booking.id}"
    if action in ("approve", "decline"):
        request = reschedules.open_request(ctx.session, booking)
        if request is None or request.id != ctx.form("request"):
            return ctx.done(back, "That request was already decided; nothing was changed")
        if action == "approve":
            reschedules.approve(ctx.session, request, ctx.actor)
            return ctx.done(back, f"{booking.reference} moved; the customer is told")
        reschedules.decline(ctx.session, request, ctx.actor, reason=ctx.form("reason")[:300])
        return ctx.done(back, f"The date change of {booking.reference} was declined")
    reschedules.reschedule_by_staff(
        ctx.session,
        booking,
        ctx.form("departure"),
        ctx.actor,
        channel="console",
        notify_customer=ctx.form("notify") == "1",
    )
    return ctx.done(back, f"{booking.reference} moved to the new departure")


def move_card(session: Session, departure: Departure) -> dict[str, Any]:
    """The departure's latest move and its board, the departures it could move to (none
    moved away or cancelled), and why it takes nobody new, if it does not."""
    move = departure_moves.latest_move(session, departure)
    today = clock.local_today()
    return {
        "guarantee": guarantees.status(session, departure),
        "closed": inventory.closed_reason(session, departure),
        "move": move,
        "being_moved": departure_moves.being_moved(session, departure),
        "board": departure_moves.board(session, move) if move is not None else None,
        "targets": [
            d
            for d in catalog.open_departures_of(session, departure.product, from_date=today)
            if d.id != departure.id
        ],
    }


def _start_date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError as exc:
        raise DomainError("Write the new start date as 2025-04-12") from exc


@console_bp.post("/departures/<departure_id:str>/move")
@console_page(Area.TRIPS)  # operations (as assigning staff)
def departure_move(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    start = _start_date(ctx.form("start_date"))
    move = departure_moves.start_move(
        ctx.session,
        departure.id,
        ctx.actor,
        reason=ctx.form("reason")[:300] or "operational reasons",
        to_departure_id=None if start else ctx.form("to_departure") or None,
        start_date=start,
    )
    count = len(departure_moves.offers_of(ctx.session, move))
    return ctx.done(
        f"/console/departures/{departure.id}",
        f"Departure moved: {count} booking(s) offered the new dates in the chat",
    )


@console_bp.post("/departures/<departure_id:str>/guarantee")
@console_page(Area.TRIPS)  # operations
def departure_guarantee(ctx: Ctx, departure_id: str) -> HTTPResponse:
    """Decide a departure short of its minimum (run it anyway, or cancel it with a reason:
    every booking is offered another departure or new dates), or set its own minimum."""
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    back = f"/console/departures/{departure.id}"
    action = ctx.form("action")
    reason = ctx.form("reason")[:300]
    if action == "run":
        guarantees.run_anyway(ctx.session, departure, ctx.actor, reason=reason)
        return ctx.done(back, "The departure runs: it is guaranteed")
    if action == "cancel":
        if len(reason) < 3:
            raise DomainError("Say why the departure is cancelled: the customers read it")
        start = _start_date(ctx.form("start_date"))
        move = guarantees.cancel(
            ctx.session,
            departure,
            ctx.actor,
            reason=reason,
            to_departure_id=None if start else ctx.form("to_departure") or None,
            start_date=start,
        )
        count = len(departure_moves.offers_of(ctx.session, move))
        return ctx.done(
            back, f"Departure cancelled: {count} booking(s) offered other dates in the chat"
        )
    raw = ctx.form("minimum")
    if raw and not raw.isdigit():
        raise DomainError("The minimum is a number of travellers")
    guarantees.set_minimum(ctx.session, departure, int(raw) if raw else None, ctx.actor)
    return ctx.done(back, "Minimum group size saved")
