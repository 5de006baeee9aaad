"""What each WhatsApp message costs: Meta's rate card kept as data (staff update it), every
outbound message priced when Meta reports it delivered, and the spend by month, purpose and
country for the KPIs and `tms spend`.

A rate card line is never changed for a day already past (messages of that day were priced
with it); a new price is a new line from today or a later day. A message is priced once, from
its first `delivered` (or `read`, when Meta skipped `delivered`) status that carries Meta's
`pricing` object: free when that object says so, else the rate card line for its category and
the recipient's calling code valid on the day it was delivered."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clock
from backend.config import get_settings
from backend.domain import message_pricing as pricing_rules
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.domain.errors import DomainError
from backend.models import MessageCost, MessageRate, OutboundMessage
from backend.services import timeline
from backend.services.ledger import actor_label

ZERO = "0"
PRICE_LENGTH = 24  # message_rates.price, as text


class RateCardRefused(DomainError):
    """A rate card line that is not one, or would change a day already past. `field` names
    what is wrong (market, calling_code, category, price, currency, valid_from)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _price(text: str) -> Decimal:
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise RateCardRefused(f"price {text[:30]!r} is not a number", "price") from None
    if not value.is_finite() or value < 0:
        raise RateCardRefused(f"price {text[:30]!r} is not a price", "price")
    if len(_text(value)) > PRICE_LENGTH:  # 1e30 is a number, not a price per message
        raise RateCardRefused(
            f"price {text[:30]!r} is not a price per message (at most {PRICE_LENGTH} characters)",
            "price",
        )
    return value


def set_rate(
    session: Session,
    *,
    market: str,
    calling_code: str,
    category: str,
    price: str,
    currency: str = "USD",
    valid_from: date | None = None,
    actor: Actor,
) -> MessageRate:
    """Add a rate card line from `valid_from` (today by default). A line from a day already
    past is refused; a second line for the same code, category and day replaces the first only
    when that day has not come yet."""
    calling_code = calling_code.strip().lstrip("+")
    category = category.strip().lower()
    currency = currency.strip().upper()
    market = " ".join(market.split())
    today = clock.local_today()
    valid_from = valid_from or today
    if calling_code and (not calling_code.isdigit() or len(calling_code) > 4):
        raise RateCardRefused(
            f"{calling_code!r} is not a calling code (1 to 4 digits)", "calling_code"
        )
    if category not in pricing_rules.CATEGORIES:
        raise RateCardRefused(
            f"{category!r} is not one of Meta's categories: {', '.join(pricing_rules.CATEGORIES)}",
            "category",
        )
    if len(currency) != 3 or not currency.isalpha():
        raise RateCardRefused(f"{currency!r} is not a currency code", "currency")
    if not market or len(market) > 60:
        raise RateCardRefused(
            "name the market (1 to 60 characters), as Meta's rate card does", "market"
        )
    if valid_from < today:
        raise RateCardRefused(
            f"a price from {valid_from:%d %b %Y} would change messages already priced: "
            f"set it from today ({today:%d %b %Y}) or later",
            "valid_from",
        )
    value = _price(price)
    row = session.scalar(
        select(MessageRate).where(
            MessageRate.calling_code == calling_code,
            MessageRate.category == category,
            MessageRate.valid_from == valid_from,
        )
    )
    if row is not None and valid_from <= today:
        raise RateCardRefused(
            f"a {category} price for +{calling_code or '*'} from {valid_from:%d %b %Y} is "
            "already in use today: set the new one from tomorrow",
            "valid_from",
        )
    if row is None:
        row = MessageRate(calling_code=calling_code, category=category, valid_from=valid_from)
    row.market, row.price, row.currency = market, _text(value), currency
    row.set_by, row.set_at = actor_label(actor), clock.now()
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise RateCardRefused("that line was just set by someone else: look again") from None
    timeline.record(
        session,
        object_type=ObjectType.SYSTEM,
        object_id=f"message_rate:{calling_code or '*'}:{category}",
        event_type="RATE_SET",
        action="tms.message_rate.set",
        actor=actor,
        content={
            "market": market,
            "callingCode": calling_code,
            "category": category,
            "price": row.price,
            "currency": currency,
            "validFrom": valid_from.isoformat(),
        },
    )
    return row


def _text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text if text != "-0" else ZERO


def rate_card(session: Session, day: date | None = None) -> list[MessageRate]:
    """The lines valid on `day` (today by default), one per calling code and category."""
    day = day or clock.local_today()
    latest: dict[tuple[str, str], MessageRate] = {}
    for row in session.scalars(
        select(MessageRate)
        .where(MessageRate.valid_from <= day)
        .order_by(MessageRate.valid_from, MessageRate.id)
    ):
        latest[(row.calling_code, row.category)] = row
    return sorted(latest.values(), key=lambda r: (r.market, r.calling_code, r.category))


def upcoming(session: Session, day: date | None = None) -> list[MessageRate]:
    """Lines set for a day still to come."""
    day = day or clock.local_today()
    return list(
        session.scalars(
            select(MessageRate)
            .where(MessageRate.valid_from > day)
            .order_by(MessageRate.valid_from, MessageRate.market, MessageRate.category)
        )
    )


def rate_for(session: Session, phone: str, category: str, day: date) -> MessageRate | None:
    """The line pricing a `category` message to `phone` on `day`: the longest calling code the
    number starts with that has a line for the category ("" covers every number)."""
    digits = pricing_rules.calling_digits(phone)
    codes = [digits[:n] for n in range(min(len(digits), 4), 0, -1)] + [""]
    rows = session.scalars(
        select(MessageRate)
        .where(
            MessageRate.calling_code.in_(codes),
            MessageRate.category == category,
            MessageRate.valid_from <= day,
        )
        .order_by(func.length(MessageRate.calling_code).desc(), MessageRate.valid_from.desc())
        .limit(1)
    )
    return rows.first()


def price_delivered(
    session: Session, row: OutboundMessage, pricing: Mapping[str, Any] | None, at: datetime
) -> MessageCost | None:
    """Price `row`, delivered at `at`, from its status's `pricing` object (once: a later
    status changes nothing). Without a pricing object a free-form message is a free service
    message and a template is left unpriced until a status that has one."""
    if session.get(MessageCost, row.id) is not None:
        return None
    if not pricing:
        if row.kind == "template":
            return None
        pricing = {"billable": False, "category": pricing_rules.SERVICE, "type": "assumed"}
    category = str(pricing.get("category") or "") or None
    cost = MessageCost(
        outbound_id=row.id,
        category=category,
        pricing_type=str(pricing.get("type") or "") or None,
        billable=pricing_rules.is_billable(pricing),
        country=pricing_rules.country_of(row.recipient_phone),
        delivered_at=at,
    )
    if not cost.billable:
        cost.price = ZERO
    else:
        day = at.astimezone(get_settings().tz).date()
        line = rate_for(session, row.recipient_phone, category or "", day)
        if line is not None:
            cost.price, cost.currency = line.price, line.currency
            cost.market, cost.rate_id = line.market, line.id
    session.add(cost)
    session.flush()
    return cost


@dataclass
class Spend:
    """Spend between two moments, per currency: by month (operator's calendar), by purpose
    (what the messages were for) and by the recipient's country. `unpriced`: billable
    messages no rate card line covered."""

    messages: int = 0
    billable: int = 0
    unpriced: int = 0
    total: dict[str, str] | None = None
    by_month: list[dict[str, Any]] | None = None
    by_purpose: list[dict[str, Any]] | None = None
    by_country: list[dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "billable": self.billable,
            "unpriced": self.unpriced,
            "total": self.total or {},
            "byMonth": self.by_month or [],
            "byPurpose": self.by_purpose or [],
            "byCountry": self.by_country or [],
        }


def spend(session: Session, start: datetime, end: datetime) -> Spend:
    """What the messages delivered in [start, end) cost."""
    tz = get_settings().tz
    rows = session.execute(
        select(MessageCost, OutboundMessage.purpose, OutboundMessage.object_type)
        .join(OutboundMessage, OutboundMessage.id == MessageCost.outbound_id)
        .where(MessageCost.delivered_at >= start, MessageCost.delivered_at < end)
    ).all()
    groups: dict[str, dict[tuple[str, str], list[Decimal]]] = {
        "month": defaultdict(list),
        "purpose": defaultdict(list),
        "country": defaultdict(list),
    }
    total: dict[str, Decimal] = defaultdict(Decimal)
    result = Spend(messages=len(rows))
    for cost, purpose, object_type in rows:
        if cost.billable:
            result.billable += 1
        if cost.price is None:
            result.unpriced += 1
            continue
        if not cost.billable:
            continue
        currency = cost.currency or "USD"
        amount = Decimal(cost.price)
        total[currency] += amount
        keys = {
            "month": cost.delivered_at.astimezone(tz).strftime("%Y-%m"),
            "purpose": pricing_rules.purpose_group(purpose, object_type),
            "country": cost.country or "unknown",
        }
        for name, key in keys.items():
            groups[name][(key, currency)].append(amount)
    result.total = {c: _text(v) for c, v in sorted(total.items())}
    result.by_month, result.by_purpose, result.by_country = (
        [
            {
                name: key,
                "currency": currency,
                "messages": len(amounts),
                "amount": _text(sum(amounts, Decimal(0))),
            }
            for (key, currency), amounts in sorted(groups[name].items())
        ]
        for name in ("month", "purpose", "country")
    )
    return result


def spend_for_days(session: Session, since: date, until: date) -> Spend:
    """The spend of the operator's calendar days `since` to `until`, both included."""
    tz = get_settings().tz
    return spend(
        session,
        datetime.combine(since, time.min, tzinfo=tz),
        datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz),
    )
