"""Departures (SALES, OPS read; OPS assigns): the board, a departure's page with its bookings
and staff, and offering a trip to a guide or porter."""

from __future__ import annotations

from sanic.response import HTTPResponse
from sqlalchemy import select

from backend.console import page_data
from backend.console.forms import amount_minor
from backend.console.reschedules import move_card
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.domain.enums import AssignmentRole, Role
from backend.domain.errors import DomainError
from backend.http_common import get_or_404
from backend.models import Assignment, Booking, Departure, Staff
from backend.services import assignments, trips


@console_bp.get("/departures")
@console_page(Area.DEPARTURES)
def departures_board(ctx: Ctx) -> HTTPResponse:
    rows = page_data.departure_rows(ctx.session)
    return ctx.page(
        "departures.html",
        rows=rows,
        needed={r.departure.id: page_data.staff_needed(r.counts) for r in rows},
    )


@console_bp.get("/departures/<departure_id:str>")
@console_page(Area.DEPARTURES)
def departure_page(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    row = page_data.departure_row(ctx.session, departure)
    found = list(
        ctx.session.scalars(
            select(Booking).where(Booking.departure_id == departure.id).order_by(Booking.created_at)
        )
    )
    assignments = (
        list(
            ctx.session.scalars(
                select(Assignment)
                .where(Assignment.trip_id == row.trip.id)
                .order_by(Assignment.created_at)
            )
        )
        if row.trip
        else []
    )
    field_staff = [
        s
        for s in ctx.session.scalars(
            select(Staff).where(Staff.active.is_(True)).order_by(Staff.name)
        )
        if s.roles & {Role.GUIDE, Role.PORTER}
    ]
    return ctx.page(
        "departure.html",
        row=row,
        bookings=found,
        manifest=[b for b in found if b.status in ("CONFIRMED", "COMPLETED")],
        assignments=assignments,
        field_staff=field_staff,
        roles=list(AssignmentRole),
        needed=page_data.staff_needed(row.counts),
        can_assign=ctx.member.has_role(Role.OPS),
        moving=move_card(ctx.session, departure),
    )


@console_bp.post("/departures/<departure_id:str>/assign")
@console_page(Area.TRIPS)
def departure_assign(ctx: Ctx, departure_id: str) -> HTTPResponse:
    departure = get_or_404(ctx.session, Departure, departure_id, "departure")
    worker = get_or_404(ctx.session, Staff, ctx.form("staff_id"), "staff member")
    try:
        role = AssignmentRole(ctx.form("role").upper())
    except ValueError as exc:
        raise DomainError("Choose a role") from exc
    pay = amount_minor(ctx.form("compensation"), "Compensation")
    if pay is None:
        raise DomainError("Compensation is required")
    trip = trips.ensure_trip(ctx.session, departure, ctx.actor)
    assignments.offer_assignment(
        ctx.session, trip, worker, role, pay, ctx.actor, currency=departure.product.currency
    )
    return ctx.done(
        f"/console/departures/{departure.id}",
        f"Offer sent to {worker.name} on WhatsApp; their answer will show here",
    )
