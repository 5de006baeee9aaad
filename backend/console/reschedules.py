"""A booking to another date (SALES, OPS; issue 27): the card on the booking's page shows the
customer's request (approve or decline it) and lets staff move the booking to a departure with
seats. Every decision goes through `backend.services.reschedules`, as the API and chat do."""

from __future__ import annotations

from typing import Any

from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.http_common import get_or_404
from backend.models import Booking
from backend.services import reschedules


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
