"""A guide's or porter's own page (every role; only their own): offers, trips and pay."""

from __future__ import annotations

from sanic.response import HTTPResponse
from sqlalchemy import select

from backend import clock
from backend.config import get_settings
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.models import Assignment, PayrollEntry, Trip


@console_bp.get("/me")
@console_page(Area.ACCOUNT)
def my_page(ctx: Ctx) -> HTTPResponse:
    own = list(
        ctx.session.scalars(
            select(Assignment)
            .where(Assignment.staff_id == ctx.member.id)
            .order_by(Assignment.offered_at.desc())
        )
    )
    today = clock.now().astimezone(get_settings().tz).date()
    pay = list(
        ctx.session.scalars(
            select(PayrollEntry)
            .where(PayrollEntry.staff_id == ctx.member.id)
            .order_by(PayrollEntry.created_at.desc())
        )
    )
    return ctx.page(
        "me.html",
        offered=[a for a in own if a.status == "OFFERED"],
        upcoming=[a for a in own if a.status == "ACCEPTED" and a.trip.departure.end_date >= today],
        past=[
            a
            for a in own
            if a.status in ("COMPLETED", "DECLINED", "EXPIRED", "CANCELLED")
            or (a.status == "ACCEPTED" and a.trip.departure.end_date < today)
        ],
        payroll=pay,
        trip_refs={
            t.id: t.reference
            for t in ctx.session.scalars(select(Trip).where(Trip.id.in_({p.trip_id for p in pay})))
        },
    )
