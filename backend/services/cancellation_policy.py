"""The cancellation policy as data: lines of (days before departure → percentage of the trip's
price that comes back, less a fee), per product, edited by ADMIN. The house lines (product
NULL) apply to every product without lines of its own.

One function, `refundable`, answers "how much would I get back?" for the FAQ's answer, the
chat and the cancellation itself, so the three can never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.domain.errors import DomainError
from backend.domain.states import OPEN_BOOKING_STATES
from backend.models import Booking, CancellationRule, Product
from backend.services import rates, timeline


class PolicyRefused(DomainError):
    """Policy lines that do not make a policy (a percentage out of range, two lines for the
    same day count, no line for the last days before departure)."""


@dataclass(frozen=True)
class PolicyLine:
    days_before: int
    refund_percent: int
    fee_minor: int = 0
    note: str | None = None


@dataclass(frozen=True)
class Refundable:
    amount_minor: int  # what comes back, in the booking's currency (never more than paid)
    currency: str
    days_before: int  # whole days from the day asked about to the departure
    line: PolicyLine | None  # the line that applied; None when nothing was paid
    paid_minor: int


# The house policy as migration 0014 seeded it (for a database emptied by a test's truncation).
HOUSE_LINES = (
    PolicyLine(30, 100, 5000, "admin fee kept"),
    PolicyLine(15, 70, 0, "the deposit is kept"),
    PolicyLine(0, 0, 0, "no refund"),
)


def lines_for(session: Session, product: Product | None) -> list[PolicyLine]:
    """The lines that apply to a product, most days first: its own, else the house lines."""
    rows: Sequence[CancellationRule] = ()
    if product is not None:
        rows = session.scalars(
            select(CancellationRule).where(CancellationRule.product_id == product.id)
        ).all()
    if not rows:
        rows = session.scalars(
            select(CancellationRule).where(CancellationRule.product_id.is_(None))
        ).all()
    lines = [PolicyLine(r.days_before, r.refund_percent, r.fee_minor, r.note) for r in rows]
    return sorted(lines, key=lambda line: line.days_before, reverse=True)


def line_for(lines: Sequence[PolicyLine], days_before: int) -> PolicyLine | None:
    """The line for a cancellation `days_before` the departure: the one with the most days
    that is still at most `days_before`."""
    for line in lines:  # most days first
        if days_before >= line.days_before:
            return line
    return None


def refundable(session: Session, booking: Booking, on: date | None = None) -> Refundable:
    """What the booking would get back if cancelled on `on` (today by default): the line's
    percentage of the trip's price, less its fee, never more than was paid nor below zero."""
    day = on or clock.local_today()
    days_before = (booking.departure.start_date - day).days
    lines = lines_for(session, booking.departure.product)
    line = line_for(lines, days_before)
    paid = booking.paid_minor
    if line is None or paid <= 0:
        return Refundable(0, booking.currency, days_before, line, paid)
    share = (booking.total_minor * line.refund_percent * 2 + 100) // 200
    amount = max(min(share, paid) - line.fee_minor, 0)
    return Refundable(amount, booking.currency, days_before, line, paid)


def check(lines: Sequence[PolicyLine]) -> None:
    """Refuse lines that do not make a policy."""
    if not lines:
        raise PolicyRefused("a policy needs at least one line")
    seen: set[int] = set()
    for line in lines:
        if line.days_before < 0 or line.days_before > 730:
            raise PolicyRefused(f"{line.days_before} days: give 0 to 730 days")
        if not 0 <= line.refund_percent <= 100:
            raise PolicyRefused(f"{line.refund_percent}%: give 0 to 100 percent")
        if line.fee_minor < 0:
            raise PolicyRefused("a fee cannot be negative")
        if line.days_before in seen:
            raise PolicyRefused(f"two lines for {line.days_before} days")
        seen.add(line.days_before)
    if 0 not in seen:
        raise PolicyRefused("add a line for 0 days: what applies in the last days")


def own_lines(session: Session, product: Product | None) -> list[PolicyLine]:
    """A product's own lines (the house lines with `product` None), most days first; an empty
    list for a product that follows the house policy."""
    condition = (
        CancellationRule.product_id == product.id
        if product is not None
        else CancellationRule.product_id.is_(None)
    )
    rows = session.scalars(select(CancellationRule).where(condition)).all()
    lines = [PolicyLine(r.days_before, r.refund_percent, r.fee_minor, r.note) for r in rows]
    return sorted(lines, key=lambda line: line.days_before, reverse=True)


def replace_lines(
    session: Session,
    product: Product | None,
    lines: Sequence[PolicyLine],
    *,
    actor: Actor | None = None,
) -> None:
    """Replace a product's lines (or the house lines with `product` None). A product given
    no lines falls back to the house lines: pass an empty list to clear its own. With an
    `actor`, the change is on the timeline (the lines before and after)."""
    if lines or product is None:
        check(lines)
    before = own_lines(session, product) if actor is not None else []
    product_id = product.id if product is not None else None
    condition = (
        CancellationRule.product_id == product_id
        if product_id is not None
        else CancellationRule.product_id.is_(None)
    )
    session.execute(delete(CancellationRule).where(condition))
    for line in lines:
        session.add(
            CancellationRule(
                product_id=product_id,
                days_before=line.days_before,
                refund_percent=line.refund_percent,
                fee_minor=line.fee_minor,
                note=line.note,
            )
        )
    session.flush()
    if actor is not None:
        currency = product.currency if product is not None else house_currency(session)
        timeline.record(
            session,
            object_type=ObjectType.PRODUCT if product is not None else ObjectType.SYSTEM,
            object_id=product.id if product is not None else "cancellation_policy",
            event_type="POLICY_CHANGED",
            action="tms.cancellation_policy.changed",
            actor=actor,
            content={
                "product": product.code if product is not None else None,
                "lines": texts.policy_lines_summary(
                    sorted(lines, key=lambda line: line.days_before, reverse=True), currency
                )
                if lines
                else "the house policy applies",
                "before": [_as_dict(line) for line in before],
                "after": [_as_dict(line) for line in lines],
            },
        )


def _as_dict(line: PolicyLine) -> dict[str, object]:
    return {
        "daysBefore": line.days_before,
        "refundPercent": line.refund_percent,
        "feeMinor": line.fee_minor,
        "note": line.note,
    }


def house_currency(session: Session) -> str:
    """The currency the house policy's fees are in: the base currency."""
    return rates.base_currency(session)


def answer(session: Session, product: Product | None, notes: str | None = None) -> str:
    """The FAQ's answer on the cancellation policy, written from the lines that apply to the
    product (the house lines without one), then `notes`: the rest of the stored answer (what
    happens when the operator cancels, moving dates). Editing the policy changes it at once."""
    lines = lines_for(session, product)
    currency = product.currency if product is not None else house_currency(session)
    own = product is not None and bool(own_lines(session, product))
    return texts.cancellation_policy_answer(
        lines, currency, product=product if own else None, notes=notes
    )


def open_paid_bookings(bookings: Sequence[Booking], on: date | None = None) -> list[Booking]:
    """Of a customer's bookings, those still open, paid something and not yet departed."""
    day = on or clock.local_today()
    return [
        b
        for b in bookings
        if b.status in OPEN_BOOKING_STATES and b.paid_minor > 0 and b.departure.start_date >= day
    ]
