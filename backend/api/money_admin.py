"""The admin API's money settings: exchange rates (dated, append-only) and the cancellation
policy as data (the house lines, a product's own lines), and what a booking would get back if
cancelled on a day. Registered on the admin API's blueprint (`backend.api.routes.api`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sanic import Request
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.api import serializers
from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import Role
from backend.domain.money import minor_digits
from backend.models import Booking, ExchangeRate, Product, Staff
from backend.services import bookings, catalog, rates
from backend.services import cancellation_policy as policy


class RateBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    currency: str = Field(min_length=3, max_length=3)
    rate: str = Field(min_length=1, max_length=32, description="base units per unit, e.g. 1.08")
    buffer_percent: str = Field(default="0", alias="bufferPercent", max_length=16)
    valid_from: date | None = Field(default=None, alias="validFrom", description="today if none")


class PolicyLineBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    days_before: int = Field(alias="daysBefore", ge=0, le=730)
    refund_percent: int = Field(alias="refundPercent", ge=0, le=100)
    fee: str | int | float = Field(default="0", description="in the product's currency, e.g. 50.00")
    note: str | None = Field(default=None, max_length=300)


class PolicyBody(BaseModel):
    lines: list[PolicyLineBody] = Field(max_length=20)


def _rate(row: ExchangeRate) -> dict[str, Any]:
    return {
        "id": row.id,
        "currency": row.currency,
        "baseCurrency": row.base_currency,
        "rate": row.rate,
        "bufferPercent": row.buffer_percent,
        "validFrom": row.valid_from.isoformat(),
        "setBy": row.set_by,
        "setAt": row.set_at.isoformat(),
    }


def _lines(lines: list[policy.PolicyLine], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "daysBefore": line.days_before,
            "refundPercent": line.refund_percent,
            "fee": serializers.money(line.fee_minor, currency),
            "note": line.note,
        }
        for line in lines
    ]


def _fee_minor(raw: str | int | float, currency: str, index: int) -> int:
    try:
        value = Decimal(str(raw).strip() or "0")
    except InvalidOperation:
        value = Decimal("NaN")
    digits = minor_digits(currency)
    if not value.is_finite() or value < 0 or value != round(value, digits):
        raise ApiError(
            422,
            "invalid body",
            fields={f"lines.{index}.fee": f"an amount in {currency}, at most {digits} decimals"},
        )
    return int(value * 10**digits)


def _policy_of(session: Session, product: Product | None) -> dict[str, Any]:
    currency = product.currency if product is not None else policy.house_currency(session)
    own = policy.own_lines(session, product)
    applied = own or policy.lines_for(session, product)
    return {
        "product": product.code if product is not None else None,
        "own": bool(own) if product is not None else True,
        "currency": currency,
        "lines": _lines(applied, currency),
        "summary": texts.policy_lines_summary(applied, currency),
    }


# -- exchange rates -----------------------------------------------------------------------------
@api.get("/exchange-rates")
@endpoint(Role.SALES, Role.OPS, query=("currency",))
def list_rates(request: Request, session: Session, member: Staff) -> Any:
    """Every exchange rate set, newest first per currency (a currency's only with
    `?currency=`): rates are never changed, a new one is set from a later day."""
    currency = request.args.get("currency") or None
    return {
        "baseCurrency": rates.base_currency(session),
        "today": clock.local_today().isoformat(),
        "rates": [_rate(r) for r in rates.history(session, currency)],
    }


@api.post("/exchange-rates")
@endpoint(Role.ADMIN, body=RateBody)
def set_rate(request: Request, session: Session, member: Staff, body: RateBody) -> Any:
    """Set a rate (base-currency units per unit of `currency`) from `validFrom` (today by
    default; never a past day, never twice for a day), with the buffer a quote's indicative
    price adds."""
    row = rates.set_rate(
        session,
        currency=body.currency,
        base_currency=rates.base_currency(session),
        rate=body.rate,
        buffer_percent=body.buffer_percent,
        valid_from=body.valid_from,
        actor=staff_actor(member),
    )
    return {"rate": _rate(row)}


# -- the cancellation policy --------------------------------------------------------------------
@api.get("/cancellation-policy")
@endpoint(Role.SALES, Role.OPS)
def house_policy(request: Request, session: Session, member: Staff) -> Any:
    """The house cancellation policy (every product without lines of its own): days before
    departure → percentage of the trip's price that comes back, less a fee."""
    return {"policy": _policy_of(session, None)}


@api.put("/cancellation-policy")
@endpoint(Role.ADMIN, body=PolicyBody)
def set_house_policy(request: Request, session: Session, member: Staff, body: PolicyBody) -> Any:
    """Replace the house lines (at least one, and one for 0 days)."""
    currency = policy.house_currency(session)
    policy.replace_lines(session, None, _parsed(body, currency), actor=staff_actor(member))
    return {"policy": _policy_of(session, None)}


@api.get("/products/<code:str>/cancellation-policy")
@endpoint(Role.SALES, Role.OPS)
def product_policy(request: Request, session: Session, member: Staff, code: str) -> Any:
    """The lines that apply to a product (`own`: its own, else the house lines)."""
    return {"policy": _policy_of(session, catalog.get_product(session, code))}


@api.put("/products/<code:str>/cancellation-policy")
@endpoint(Role.ADMIN, body=PolicyBody)
def set_product_policy(
    request: Request, session: Session, member: Staff, code: str, body: PolicyBody
) -> Any:
    """Replace a product's own lines; an empty list: the house policy applies to it again."""
    product = catalog.get_product(session, code)
    lines = _parsed(body, product.currency)
    policy.replace_lines(session, product, lines, actor=staff_actor(member))
    return {"policy": _policy_of(session, product)}


def _parsed(body: PolicyBody, currency: str) -> list[policy.PolicyLine]:
    return [
        policy.PolicyLine(
            line.days_before,
            line.refund_percent,
            _fee_minor(line.fee, currency, n),
            (line.note or "").strip() or None,
        )
        for n, line in enumerate(body.lines)
    ]


@api.get("/bookings/<booking_id:str>/refundable")
@endpoint(Role.SALES, Role.OPS, query=("on",))
def refundable(request: Request, session: Session, member: Staff, booking_id: str) -> Any:
    """What a booking (by id or reference) would get back if cancelled on `on` (YYYY-MM-DD,
    today by default): the policy line's share of the price less its fee, never more than
    paid."""
    raw = request.args.get("on") or ""
    try:
        day = date.fromisoformat(raw) if raw else clock.local_today()
    except ValueError:
        raise ApiError(422, "invalid query", fields={"on": "a date, YYYY-MM-DD"}) from None
    found = session.get(Booking, booking_id)
    booking = found if found is not None else bookings.find_booking(session, booking_id)
    back = policy.refundable(session, booking, day)
    return {
        "booking": booking.reference,
        "on": day.isoformat(),
        "daysBefore": back.days_before,
        "paid": serializers.money(back.paid_minor, back.currency),
        "refundable": serializers.money(back.amount_minor, back.currency),
        "line": None
        if back.line is None
        else {
            "daysBefore": back.line.days_before,
            "refundPercent": back.line.refund_percent,
            "fee": serializers.money(back.line.fee_minor, back.currency),
            "note": back.line.note,
        },
    }
