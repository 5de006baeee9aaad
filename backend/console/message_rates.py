"""Meta's rate card as the product keeps it (ADMIN): what a delivered WhatsApp message costs by
category and market, the lines valid today and those set for days to come, and a form to add
or change a line. The form calls the same service as `POST /api/message-rates`
(`backend/services/message_prices.py`): a line it refuses is said next to the form, with what
was typed kept, and nothing is written."""

from __future__ import annotations

from datetime import date
from typing import Any

from sanic.response import HTTPResponse

from backend import clock
from backend.console.web import Ctx, console_bp, console_page
from backend.domain import message_pricing
from backend.domain.access import Area
from backend.services import message_prices

PATH = "/console/message-rates"
FIELDS = ("market", "calling_code", "category", "price", "currency", "valid_from")


def _page(ctx: Ctx, status: int = 200, **context: Any) -> HTTPResponse:
    session = ctx.session
    return ctx.page(
        "message_rates.html",
        status,
        today=clock.local_today(),
        rates=message_prices.rate_card(session),
        upcoming=message_prices.upcoming(session),
        categories=message_pricing.CATEGORIES,
        **context,
    )


@console_bp.get("/message-rates")
@console_page(Area.ADMINISTRATION)
def message_rates_page(ctx: Ctx) -> HTTPResponse:
    # "Change" on a line fills the form with it.
    values = {name: ctx.arg(name) for name in FIELDS}
    values["currency"] = values["currency"] or "USD"
    return _page(ctx, values=values, error=None)


@console_bp.post("/message-rates")
@console_page(Area.ADMINISTRATION)
def message_rates_set(ctx: Ctx) -> HTTPResponse:
    values = {name: ctx.form(name) for name in FIELDS}
    error: tuple[str, str] | None = None  # (the field, what is wrong)
    valid_from: date | None = None
    if values["valid_from"]:
        try:
            valid_from = date.fromisoformat(values["valid_from"])
        except ValueError:
            error = ("valid_from", "The date it applies from is a date written 2027-01-31.")
    if error is None:
        try:
            row = message_prices.set_rate(
                ctx.session,
                market=values["market"],
                calling_code=values["calling_code"],
                category=values["category"],
                price=values["price"],
                currency=values["currency"] or "USD",
                valid_from=valid_from,
                actor=ctx.actor,
            )
        except message_prices.RateCardRefused as exc:
            error = (exc.field, str(exc))
        else:
            return ctx.done(
                PATH,
                f"{row.market} (+{row.calling_code or '*'}), {row.category}: {row.price} "
                f"{row.currency} per delivered message from {row.valid_from:%d %b %Y}",
            )
    return _page(ctx, 422, values=values, error={"field": error[0], "text": error[1]})
