"""KPIs (SALES, OPS): the report as a page, JSON and CSV over one date range."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from sanic import response
from sanic.response import HTTPResponse

from backend import clock
from backend.config import get_settings
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area, may_see
from backend.domain.errors import DomainError
from backend.services import kpis


def _range(ctx: Ctx) -> tuple[date, date]:
    """The KPIs' date range: `since`/`until` (both included), 90 days to today by default."""
    today = clock.now().astimezone(get_settings().tz).date()
    try:
        until = date.fromisoformat(ctx.arg("until")) if ctx.arg("until") else today
        since = date.fromisoformat(ctx.arg("since")) if ctx.arg("since") else None
    except ValueError as exc:
        raise DomainError("Dates are written 2026-03-31") from exc
    if not 2000 <= until.year <= 2100 or (since is not None and not 2000 <= since.year <= 2100):
        raise DomainError("Choose dates between 2000 and 2100")
    since = since or until - timedelta(days=90)
    if since > until:
        since, until = until, since
    return since, min(until, since + timedelta(days=3660))


def _money(ctx: Ctx) -> bool:
    """The money collected is shown to those who may see payments (OPS, ADMIN)."""
    return may_see(ctx.member.roles, Area.PAYMENTS)


@console_bp.get("/kpis")
@console_page(Area.FEEDBACK)
def kpis_page(ctx: Ctx) -> HTTPResponse:
    since, until = _range(ctx)
    return ctx.page(
        "kpis.html",
        report=kpis.report(ctx.session, since, until, with_money=_money(ctx)),
        since=since,
        until=until,
    )


@console_bp.get("/kpis.json")
@console_page(Area.FEEDBACK)
def kpis_json(ctx: Ctx) -> HTTPResponse:
    since, until = _range(ctx)
    return response.json(kpis.report(ctx.session, since, until, with_money=_money(ctx)).as_dict())


@console_bp.get("/kpis.csv")
@console_page(Area.FEEDBACK)
def kpis_csv(ctx: Ctx) -> HTTPResponse:
    since, until = _range(ctx)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "group", "value"])
    for metric, group, value in kpis.report(
        ctx.session, since, until, with_money=_money(ctx)
    ).rows():
        writer.writerow([metric, group, value])
    return response.text(
        out.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="kpis-{since}-{until}.csv"'},
    )
