"""A customer's credit: money moved off a cancelled booking (a `CREDIT_ISSUED` entry, negative on
that booking) that they spend on a later one (a `CREDIT_SPENT` entry, positive on that one).

What is left is read from the ledger, never stored: the issued entries' base amounts (negated)
less the spent ones. Spending takes the contact's row lock first, so two spends at once (two
tabs of the pay page) are served one after the other and never overdraw; then `payments.receive`
books it like any money in (departure, then booking locks), so the booking moves the same way
as for a card or a transfer. Lock order: contact, departure, booking (no path takes the
contact's lock after a departure's)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import Actor
from backend.domain.errors import DomainError
from backend.models import Booking, Contact, LedgerEntry, LedgerKind, LedgerMethod
from backend.services import ledger, payments


class NotEnoughCredit(DomainError):
    """The amount is more than the customer's credit (or than the booking still owes)."""


def available(session: Session, contact: Contact) -> int:
    """The contact's unspent credit in base-currency minor units (never below zero)."""
    issued = _sum(session, contact.id, LedgerKind.CREDIT_ISSUED)
    spent = _sum(session, contact.id, LedgerKind.CREDIT_SPENT)
    return max(0, -issued - spent)


def _sum(session: Session, contact_id: str, kind: LedgerKind) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.base_amount_minor), 0))
        .join(Booking, Booking.id == LedgerEntry.booking_id)
        .where(Booking.contact_id == contact_id, LedgerEntry.kind == str(kind))
    )
    return int(total or 0)


def lock_contact(session: Session, contact_id: str) -> Contact:
    """The contact's row lock (PostgreSQL; SQLite serialises writers anyway)."""
    contact = session.scalar(
        select(Contact)
        .where(Contact.id == contact_id)
        .with_for_update(of=Contact)
        .execution_options(populate_existing=True)
    )
    if contact is None:
        raise DomainError(f"No contact {contact_id}")
    return contact


def spend(
    session: Session,
    booking: Booking,
    *,
    amount_minor: int,
    actor: Actor,
    provider_ref: str | None = None,
) -> payments.Received:
    """Pay `amount_minor` (base currency) of the booking from its contact's credit. Raises
    `NotEnoughCredit` when the credit (read under the contact's lock) or what the booking still
    owes is smaller, `DomainError` for a non-positive amount. `provider_ref` (e.g. the pay
    page's idempotency key) makes a repeated spend book nothing (`duplicate`)."""
    if amount_minor <= 0:
        raise DomainError("A credit spend must be a positive amount")
    contact = lock_contact(session, booking.contact_id)
    if provider_ref is not None:
        already = ledger.find(session, LedgerMethod.CREDIT, provider_ref, None)
        if already is not None:
            return payments.Received(booking, already, duplicate=True)
    left = available(session, contact)
    if amount_minor > left:
        raise NotEnoughCredit(f"Only {left} minor units of credit left, not {amount_minor}")
    booking = payments.lock_booking(session, booking.id)
    if amount_minor > booking.balance_minor:
        raise NotEnoughCredit(
            f"The booking owes {booking.balance_minor} minor units, not {amount_minor}"
        )
    money = payments.MoneyIn(
        method=LedgerMethod.CREDIT,
        kind=LedgerKind.CREDIT_SPENT,
        amount_minor=amount_minor,
        currency=ledger.base_currency(booking),
        received_on=clock.local_today(),
        provider_ref=provider_ref,
        note="paid from the customer's credit",
    )
    return payments.receive(session, booking.id, money, actor)


def usable_on(session: Session, booking: Booking) -> int:
    """How much of the contact's credit this booking can take now: what it still owes, up to
    the credit (0 when it owes nothing or is not open for payment)."""
    if booking.status not in payments.PAYABLE or booking.balance_minor <= 0:
        return 0
    return min(available(session, booking.contact), booking.balance_minor)


def pay_from_credit(
    session: Session, booking: Booking, *, actor: Actor, key: str
) -> payments.Received | None:
    """The customer pays what they can of the booking from their credit (the pay page's
    button) and is told what it did, as for any payment. `key` names this one spend (two
    clicks on the same page spend once). None when there is nothing to use."""
    amount = usable_on(session, booking)
    if amount <= 0:
        return None
    received = spend(session, booking, amount_minor=amount, actor=actor, provider_ref=key)
    if not received.duplicate:
        payments.notify_received(
            session,
            received.booking,
            amount_minor=amount,
            confirmed_now=received.confirmed_now,
            flagged=received.flagged,
            actor=actor,
        )
    return received


def spend_key(booking: Booking) -> str:
    """One key per state of what the booking has paid: the same page's button twice names the
    same spend; after it, the page shows a new one."""
    return f"page:{booking.ref_key}:{booking.paid_minor}"
