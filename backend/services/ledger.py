"""The one home for recording money: every payment, surcharge, refund and credit is one
append-only `LedgerEntry`, and what a booking has paid (`Booking.paid_minor`) is their sum.

Entries are only ever added here; nothing updates or deletes one (a correction is a new entry).
A provider's id, a receipt number or a proof counts once per method: the database refuses the
second row (`uq_ledger_entries_method_provider_ref`, and a receipt number is unique), and
`record` answers with the first. Surcharges are recorded but do not count towards the price.
The entry is the record of who recorded what: the caller writes the timeline event of the step
that moved the money (a payment received, a refund approved), as before."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import Actor
from backend.models import Booking, LedgerEntry, LedgerKind, LedgerMethod, Payment

# The rate of an amount already in the base currency.
SAME_CURRENCY = "1"


def actor_label(actor: Actor) -> str:
    """Who recorded an entry, as the timeline names an actor: the source, then the staff
    member's id or the phone when there is one."""
    who = actor.staff_id or actor.phone
    return f"{actor.source}:{who}" if who else str(actor.source)


def base_currency(booking: Booking) -> str:
    """The books are kept in the product's currency (the operator's base currency for now)."""
    return booking.departure.product.currency


def method_of(provider: str) -> LedgerMethod:
    """The ledger's method for a card provider's payment: Stripe, or the local demo provider
    (and the test and demo providers that stand for it)."""
    return LedgerMethod.STRIPE if provider == LedgerMethod.STRIPE else LedgerMethod.LOCAL


def payment_ref(provider: str) -> str:
    """How a provider's event id is prefixed in `provider_ref`: nothing for the methods' own
    providers, the provider's name for the stand-ins that share the `local` method."""
    return "" if provider in (LedgerMethod.STRIPE, LedgerMethod.LOCAL) else f"{provider}:"


def record(
    session: Session,
    booking: Booking,
    *,
    kind: LedgerKind,
    method: LedgerMethod,
    amount_minor: int,
    currency: str,
    actor: Actor,
    provider_ref: str | None = None,
    payment: Payment | None = None,
    proof_id: str | None = None,
    receipt_number: str | None = None,
    refund_id: str | None = None,
    base_amount_minor: int | None = None,
    rate: str = SAME_CURRENCY,
    note: str | None = None,
    recorded_at: datetime | None = None,
) -> tuple[LedgerEntry, bool]:
    """Append one movement of money to the booking's ledger and refresh what it has paid.

    `amount_minor` is signed (money in positive, out negative) in `currency`; in the base
    currency the base amount is the amount and the rate "1", otherwise give both. Returns the
    entry and whether it is new: the same `provider_ref` for the same method (or the same
    payment) again returns the entry already recorded, and records nothing."""
    base = base_currency(booking)
    if base_amount_minor is None:
        if currency != base:
            raise ValueError(f"{currency} is not the base currency {base}: give the base amount")
        base_amount_minor = amount_minor
    existing = find(session, method, provider_ref, payment)
    if existing is not None:
        return existing, False
    entry = LedgerEntry(
        booking_id=booking.id,
        kind=str(kind),
        method=str(method),
        amount_minor=amount_minor,
        currency=currency,
        base_amount_minor=base_amount_minor,
        base_currency=base,
        rate=rate,
        recorded_at=recorded_at or clock.now(),
        recorded_by=actor_label(actor),
        provider_ref=provider_ref,
        payment_id=payment.id if payment is not None else None,
        proof_id=proof_id,
        receipt_number=receipt_number,
        refund_id=refund_id,
        note=note,
    )
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        # The same reference was recorded concurrently and won the insert.
        existing = find(session, method, provider_ref, payment)
        if existing is None:
            raise
        return existing, False
    # What the booking has paid is read from the ledger: read it again now.
    session.refresh(booking, ["paid_minor"])
    return entry, True


def find(
    session: Session, method: LedgerMethod, provider_ref: str | None, payment: Payment | None
) -> LedgerEntry | None:
    """The entry already recorded for this payment, or this reference under this method."""
    if payment is not None:
        found = session.scalar(select(LedgerEntry).where(LedgerEntry.payment_id == payment.id))
        if found is not None:
            return found
    if provider_ref is None:
        return None
    return session.scalar(
        select(LedgerEntry).where(
            LedgerEntry.method == str(method), LedgerEntry.provider_ref == provider_ref
        )
    )


def entries_of(session: Session, booking: Booking) -> Sequence[LedgerEntry]:
    """The booking's entries, oldest first."""
    return session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.booking_id == booking.id)
        .order_by(LedgerEntry.recorded_at, LedgerEntry.id)
    ).all()


def between(session: Session, start: datetime, end: datetime) -> Sequence[LedgerEntry]:
    """Every entry recorded in [start, end), oldest first."""
    return session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.recorded_at >= start, LedgerEntry.recorded_at < end)
        .order_by(LedgerEntry.recorded_at, LedgerEntry.id)
    ).all()
