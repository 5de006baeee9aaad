"""Bookings (SALES, OPS): search, a booking's page, cancelling, replying to its customer; the
refund after a cancellation (OPS, ADMIN: Area.PAYMENTS) is approved or declined there."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sanic.response import HTTPResponse

from backend.console import page_data
from backend.console.reschedules import moves_card
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area, may_see
from backend.domain.enums import ObjectType
from backend.domain.errors import DomainError
from backend.domain.money import minor_digits
from backend.http_common import get_or_404
from backend.models import Booking
from backend.payments.refunds import card_refunds
from backend.services import (
    bookings,
    cancellation_policy,
    contacts,
    conversations,
    credits,
    languages,
    refunds,
)


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
        chat=page_data.conversation(ctx.session, booking.contact),
        window_open=contacts.window_open(booking.contact),
        customer_language=languages.reader_language(booking.contact),
        money=_money_card(ctx, booking),
        moves=moves_card(ctx.session, booking),
    )


def _money_card(ctx: Ctx, booking: Booking) -> dict[str, Any] | None:
    """The refund card, for those who may see payments (OPS, ADMIN): the booking's refunds,
    the open one's form, what goes back to cards and what by transfer, the customer's credit."""
    if not may_see(ctx.member.roles, Area.PAYMENTS):
        return None
    found = refunds.of_booking(ctx.session, booking)
    current = refunds.current(ctx.session, booking)
    return {
        "refunds": found,
        "open": current if current is not None and current.status in refunds.OPEN else None,
        "card_left": sum(left for _, left in refunds.card_refundable(ctx.session, booking)),
        "credit": credits.available(ctx.session, booking.contact),
        "today": cancellation_policy.refundable(ctx.session, booking)
        if booking.status != "CANCELLED"
        else None,
    }


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


@console_bp.post("/bookings/<booking_id:str>/refund")
@console_page(Area.PAYMENTS)
def booking_refund(ctx: Ctx, booking_id: str) -> HTTPResponse:
    """The open refund's form: `action` choose (for the customer), approve (optionally less,
    with the outgoing transfer's reference and/or receipt) or decline (with the reason)."""
    booking = _booking(ctx, booking_id)
    refund = refunds.current(ctx.session, booking)
    if refund is None or refund.status not in refunds.OPEN or refund.id != ctx.form("refund"):
        raise DomainError("That refund is no longer open: look again")
    action = ctx.form("action")
    choice = ctx.form("choice") or None
    back = f"/console/bookings/{booking.id}"
    if action == "decline":
        refunds.decline(
            ctx.session, refund.id, reason=ctx.form("reason"), actor=ctx.actor, staff=ctx.member
        )
        return ctx.done(back, f"Refund for {booking.reference} declined; the customer is told")
    if action == "choose" and choice:
        refunds.choose(ctx.session, refund, choice, ctx.actor, tell_customer=True)
        return ctx.done(back, f"Noted: a {choice}; approve it when ready")
    if action != "approve":
        raise DomainError("Choose, approve or decline")
    upload = ctx.request.files.get("proof") if ctx.request.files else None
    reference = ctx.form("reference") or None
    transfer = (
        refunds.OutgoingTransfer(
            reference=reference,
            data=upload.body if upload is not None and upload.body else None,
            filename=upload.name if upload is not None else None,
            content_type=upload.type if upload is not None else None,
        )
        if reference or (upload is not None and upload.body)
        else None
    )
    done = refunds.approve(
        ctx.session,
        refund.id,
        actor=ctx.actor,
        staff=ctx.member,
        choice=choice,
        amount_minor=_amount(ctx.form("amount"), refund.currency),
        cards=card_refunds(),
        transfer=transfer,
    )
    what = "credit issued" if done.status == "CREDITED" else "refund paid out"
    return ctx.done(back, f"{booking.reference}: {what}; the customer is told")


def _amount(raw: str, currency: str) -> int | None:
    """A typed amount ("150", "150.00") in minor units; None when left empty."""
    if not raw:
        return None
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation as exc:
        raise DomainError(f"{raw!r} is not an amount") from exc
    minor = value * (10 ** minor_digits(currency))
    if minor != minor.to_integral_value() or minor <= 0:
        raise DomainError(f"{raw!r} is not an amount in {currency}")
    return int(minor)
