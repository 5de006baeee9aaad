"""Exchange rates set by staff: dated, append-only, never changed for a day already past.

A rate says how many base-currency units one unit of another currency is worth, valid from its
date until the next rate for that currency. Money received in another currency is booked in the
base currency at the rate valid on the day it was received (`to_base`); a quote's indicative
price in the customer's currency adds the rate's buffer (`indicative`), so a rate that moves a
little before they pay does not leave the operator short."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import Actor
from backend.domain.currencies import currency_for_phone
from backend.domain.enums import ObjectType
from backend.domain.errors import DomainError
from backend.domain.money import Money, minor_digits
from backend.models import ExchangeRate, Product
from backend.services import timeline
from backend.services.ledger import SAME_CURRENCY, actor_label


class NoRate(DomainError):
    """No rate is set for this currency on that day: staff must set one first."""


class RateRefused(DomainError):
    """A rate that would change the books retroactively, or is not a rate."""


@dataclass(frozen=True)
class Converted:
    base_amount_minor: int
    rate: str  # base units per unit received, exact decimal text
    rate_valid_from: date | None  # None in the base currency


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise RateRefused(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise RateRefused(f"{what} {text!r} is not a number")
    return value


def set_rate(
    session: Session,
    *,
    currency: str,
    base_currency: str,
    rate: str,
    buffer_percent: str = "0",
    valid_from: date | None = None,
    actor: Actor,
) -> ExchangeRate:
    """Set a rate from `valid_from` (today by default) on. A day already past is refused (the
    books of that day used the rate then valid), and so is a second rate for the same day."""
    currency, base_currency = currency.upper(), base_currency.upper()
    today = clock.local_today()
    valid_from = valid_from or today
    if currency == base_currency:
        raise RateRefused(f"{currency} is the base currency: its rate is always 1")
    if len(currency) != 3 or not currency.isalpha():
        raise RateRefused(f"{currency!r} is not a currency code")
    if valid_from < today:
        raise RateRefused(
            f"a rate from {valid_from:%d %b %Y} would change days already booked: "
            f"set it from today ({today:%d %b %Y}) or later"
        )
    value = _decimal(rate, "rate")
    buffer = _decimal(buffer_percent, "buffer")
    if value <= 0:
        raise RateRefused("a rate must be above zero")
    if not Decimal(0) <= buffer <= Decimal(50):
        raise RateRefused("the buffer is a percentage from 0 to 50")
    row = ExchangeRate(
        currency=currency,
        base_currency=base_currency,
        rate=str(value.normalize()),
        buffer_percent=str(buffer.normalize()),
        valid_from=valid_from,
        set_by=actor_label(actor),
        set_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise RateRefused(
            f"a {currency} rate from {valid_from:%d %b %Y} is already set; rates are never "
            "changed: set the new one from the next day"
        ) from None
    timeline.record(
        session,
        object_type=ObjectType.SYSTEM,
        object_id=f"exchange_rate:{currency}",
        event_type="RATE_SET",
        action="tms.exchange_rate.set",
        actor=actor,
        content={
            "currency": currency,
            "baseCurrency": base_currency,
            "rate": row.rate,
            "bufferPercent": row.buffer_percent,
            "validFrom": valid_from.isoformat(),
        },
    )
    return row


def _unit_shift(from_currency: str, to_currency: str) -> Decimal:
    """Minor units of `to_currency` per minor unit of `from_currency` at a rate of one: 1 for
    two currencies with cents, 100 from the yen to the dollar's cents."""
    return Decimal(10) ** (minor_digits(to_currency) - minor_digits(from_currency))


def rate_on(session: Session, currency: str, base_currency: str, day: date) -> ExchangeRate:
    """The rate valid on `day`: the latest set from that day or before."""
    row = session.scalar(
        select(ExchangeRate)
        .where(
            ExchangeRate.currency == currency.upper(),
            ExchangeRate.base_currency == base_currency.upper(),
            ExchangeRate.valid_from <= day,
        )
        .order_by(ExchangeRate.valid_from.desc())
        .limit(1)
    )
    if row is None:
        raise NoRate(f"no {currency} rate is set for {day:%d %b %Y}")
    return row


def to_base(
    session: Session, amount_minor: int, currency: str, base_currency: str, day: date
) -> Converted:
    """An amount received on `day` in `currency`, in the base currency at that day's rate."""
    if currency.upper() == base_currency.upper():
        return Converted(amount_minor, SAME_CURRENCY, None)
    row = rate_on(session, currency, base_currency, day)
    base = Decimal(amount_minor) * Decimal(row.rate) * _unit_shift(currency, base_currency)
    base = base.quantize(Decimal(1), ROUND_HALF_UP)
    return Converted(int(base), row.rate, row.valid_from)


def indicative(
    session: Session, base_amount_minor: int, base_currency: str, currency: str, day: date
) -> int | None:
    """A base-currency amount shown in `currency` for a quote: at the day's rate plus its
    buffer, rounded up to a whole unit. None when no rate is set (show the base price only)."""
    if currency.upper() == base_currency.upper():
        return base_amount_minor
    try:
        row = rate_on(session, currency, base_currency, day)
    except NoRate:
        return None
    buffered = Decimal(base_amount_minor) / Decimal(row.rate) * _unit_shift(base_currency, currency)
    buffered *= 1 + Decimal(row.buffer_percent) / 100
    unit = Decimal(10) ** minor_digits(currency)
    whole_units = (buffered / unit).quantize(Decimal(1), rounding=ROUND_CEILING)
    return int(whole_units * unit)


def indicative_for(
    session: Session, amount: Money, phone: str | None, day: date | None = None
) -> Money | None:
    """A quote's amount in the currency of the customer's phone (`+49…` → euros), at the
    day's rate plus its buffer; None when their currency is the price's, is not known, or has
    no rate set (the quote then shows the price only)."""
    currency = currency_for_phone(phone)
    if currency is None or currency == amount.currency.upper():
        return None
    minor = indicative(session, amount.minor, amount.currency, currency, day or clock.local_today())
    return Money(minor, currency) if minor is not None else None


def base_currency(session: Session) -> str:
    """The currency the books are kept in: the products' (the first by code), else US
    dollars. Rates are set against it."""
    return session.scalar(select(Product.currency).order_by(Product.code).limit(1)) or "USD"


def history(session: Session, currency: str | None = None) -> Sequence[ExchangeRate]:
    """Every rate set, newest first (a currency's only when given)."""
    query = select(ExchangeRate).order_by(
        ExchangeRate.currency, ExchangeRate.valid_from.desc(), ExchangeRate.id.desc()
    )
    if currency:
        query = query.where(ExchangeRate.currency == currency.upper())
    return session.scalars(query).all()
