"""The admin API's WhatsApp rate card (Meta's per-message prices as kept here) and what the
messages cost. Registered on the admin API's blueprint (`backend.api.routes.api`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sanic import Request
from sqlalchemy.orm import Session

from backend import clock
from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import Role
from backend.models import MessageRate, Staff
from backend.services import message_prices


class MessageRateBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    market: str = Field(min_length=1, max_length=60, description="Meta's market, e.g. Germany")
    calling_code: str = Field(
        alias="callingCode", max_length=5, description='e.g. "49"; "" for every other number'
    )
    category: str = Field(min_length=1, max_length=32, description="marketing, utility, ...")
    price: str = Field(min_length=1, max_length=24, description="per delivered message, 0.1365")
    currency: str = Field(default="USD", min_length=3, max_length=3)
    valid_from: date | None = Field(default=None, alias="validFrom", description="today if none")


def _line(row: MessageRate) -> dict[str, Any]:
    return {
        "id": row.id,
        "market": row.market,
        "callingCode": row.calling_code,
        "category": row.category,
        "price": row.price,
        "currency": row.currency,
        "validFrom": row.valid_from.isoformat(),
        "setBy": row.set_by,
        "setAt": row.set_at.isoformat(),
    }


def _day(request: Request, name: str) -> date | None:
    raw = request.args.get(name)
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        raise ApiError(422, f"{name} is a date written 2026-03-31") from None


@api.get("/message-rates")
@endpoint(Role.OPS)
def list_message_rates(request: Request, session: Session, member: Staff) -> Any:
    """The rate card valid today (one line per calling code and category) and the lines set
    for days to come."""
    return {
        "today": clock.local_today().isoformat(),
        "rates": [_line(r) for r in message_prices.rate_card(session)],
        "upcoming": [_line(r) for r in message_prices.upcoming(session)],
    }


@api.post("/message-rates")
@endpoint(Role.ADMIN, body=MessageRateBody)
def set_message_rate(
    request: Request, session: Session, member: Staff, body: MessageRateBody
) -> Any:
    """Set one line of Meta's rate card from `validFrom` (today by default; never a past day:
    messages already priced keep their price)."""
    row = message_prices.set_rate(
        session,
        market=body.market,
        calling_code=body.calling_code,
        category=body.category,
        price=body.price,
        currency=body.currency,
        valid_from=body.valid_from,
        actor=staff_actor(member),
    )
    return {"rate": _line(row)}


@api.get("/message-spend")
@endpoint(Role.OPS, query=("since", "until"))
def message_spend(request: Request, session: Session, member: Staff) -> Any:
    """What the WhatsApp messages delivered from `since` to `until` (days, both included; the
    last 90 days by default) cost: by month, purpose and country, per currency."""
    until = _day(request, "until") or clock.local_today()
    since = _day(request, "since") or until - timedelta(days=90)
    if since > until:
        since, until = until, since
    spent = message_prices.spend_for_days(session, since, until)
    return {"since": since.isoformat(), "until": until.isoformat(), **spent.as_dict()}
