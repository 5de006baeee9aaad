"""Bookings (SALES, OPS): search, a booking's page, cancelling, replying to its customer."""

from __future__ import annotations

from sanic.response import HTTPResponse

from backend.console import page_data
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.domain.enums import ObjectType
from backend.http_common import get_or_404
from backend.models import Booking
from backend.services import bookings, contacts, conversations


@console_bp.get("/bookings")
@console_page(Area.BOOKINGS)
def bookings_search(ctx: Ctx) -> HTTPResponse:
    query = ctx.arg("q")[:60]
    return ctx.page("bookings.html", q=query, found=page_data.booking_search(ctx.session, query))


def _booking(ctx: Ctx, booking_id: str) -> Booking:
    return get_or_404(ctx.session, Booking, booking_id, "booking")


@console_bp.get("/bookings/<booking_id:str>")
@console_page(Area.BOOKINGS)
def booking_page(ctx: Ctx, booking_id: str) -> HTTPResponse:
    booking = _booking(ctx, booking_id)
    return ctx.page(
        "booking.html",
        page=page_data.booking_page(ctx.session, booking, ctx.member),
        chat=page_data.conversation(ctx.session, booking.contact.phone),
        window_open=contacts.window_open(booking.contact),
    )


@console_bp.post("/bookings/<booking_id:str>/cancel")
@console_page(Area.BOOKINGS)
def booking_cancel(ctx: Ctx, booking_id: str) -> HTTPResponse:
    booking = _booking(ctx, booking_id)
    reason = ctx.form("reason") or "cancelled by staff"
    freed = bookings.cancel_by_staff(
        ctx.session,
        booking,
        ctx.actor,
        reason=reason[:500],
        notify_customer=ctx.form("notify") == "1",
    )
    return ctx.done(
        f"/console/bookings/{booking.id}",
        f"{booking.reference} cancelled; {freed} seat(s) freed and offered to the waitlist",
    )


@console_bp.post("/bookings/<booking_id:str>/reply")
@console_page(Area.BOOKINGS)
def booking_reply(ctx: Ctx, booking_id: str) -> HTTPResponse:
    booking = _booking(ctx, booking_id)
    conversations.staff_reply(
        ctx.session,
        booking.contact,
        text=ctx.form("text"),
        template=ctx.form("template") or None,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        actor=ctx.actor,
    )
    return ctx.done(f"/console/bookings/{booking.id}", "Message queued")
