"""Cash on arrival: the balance paid in cash, recorded by operations (the console, the admin
API) or by the trip's lead guide with `PAID <ref> <amount> [currency] [CASH]` in the chat.

The money goes through `payments.receive` like any other (the ledger in the base currency at
the day's rate, the booking moved the same way) with a receipt number the customer gets in the
chat (`CR-<booking ref>-<n>`, unique: the ledger refuses a second row with the same number).
Recording twice is impossible: the caller's idempotency key (the WhatsApp message id, the
console form's one-time token, the API's Idempotency-Key header) is the entry's provider
reference, counted once for the cash method, and a repeat answers with the first receipt.

Who may record: in the chat only the accepted lead guide of the booking's trip (anyone else is
told the same as for a reference that does not exist, so nothing can be probed); elsewhere
OPS (and ADMIN). More than is owed is refused with what is owed; a currency without a rate for
the day is refused until staff set one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, Role, Source
from backend.domain.errors import DomainError, NotFound
from backend.models import Booking, LedgerEntry, LedgerMethod, Staff, Trip
from backend.services import assignments, bookings, ledger, notifications, payments, rates, timeline

RECEIPT_PREFIX = "CR"
# The longest idempotency key kept (the ledger's provider_ref holds 120 characters).
KEY_MAX = 120


class CashRefused(DomainError):
    """Cash that cannot be recorded as asked; the message says why and what would work."""

    code = "cash_refused"


class OverOwed(CashRefused):
    """More than the booking still owes: the message names what is owed."""

    code = "more_than_owed"

    def __init__(self, message: str, owed_minor: int, currency: str) -> None:
        super().__init__(message)
        self.owed_minor = owed_minor
        self.currency = currency


@dataclass(frozen=True)
class CashReceipt:
    """What recording cash did: the receipt the customer was given (None when the money could
    not be applied and was passed to staff), the payment's outcome, and whether it was a repeat
    of a cash payment already recorded (nothing recorded again, nobody told again)."""

    receipt_number: str | None
    received: payments.Received
    amount_minor: int
    currency: str
    duplicate: bool = False

    @property
    def booking(self) -> Booking:
        return self.received.booking


def new_form_token() -> str:
    """A one-time token for a console form: the form's submit carries it as its idempotency
    key, so a double click (or a resubmitted page) records once."""
    return secrets.token_urlsafe(18)


def trip_of(session: Session, booking: Booking) -> Trip | None:
    return session.scalar(select(Trip).where(Trip.departure_id == booking.departure_id))


def may_record(session: Session, booking: Booking, recorder: Staff, *, in_the_field: bool) -> bool:
    """In the field (the chat): only the accepted lead guide of the booking's trip. In the
    console or the API: OPS (and ADMIN, who may do everything)."""
    if not in_the_field:
        return recorder.has_role(Role.OPS)
    trip = trip_of(session, booking)
    if trip is None:
        return False
    lead = assignments.lead_guide(session, trip)
    return lead is not None and lead.id == recorder.id


def find_booking_for(
    session: Session, booking_ref: str, recorder: Staff, *, in_the_field: bool
) -> Booking:
    """The booking `booking_ref` names if `recorder` may record cash for it. Someone else's
    booking raises the same NotFound as one that does not exist, word for word; a reference
    not shaped like one raises InvalidReference."""
    booking = bookings.find_booking(session, booking_ref)
    if not may_record(session, booking, recorder, in_the_field=in_the_field):
        raise NotFound(f"No booking {booking_ref}")
    return booking


def receipt_number_for(session: Session, booking: Booking) -> str:
    """The booking's next cash receipt number, `CR-EBC2503123-1`, `-2`, ... Called under the
    booking's row lock (so two receipts never take the same number; the ledger's unique index
    refuses it anyway)."""
    count = session.scalar(
        select(func.count())
        .select_from(LedgerEntry)
        .where(
            LedgerEntry.booking_id == booking.id,
            LedgerEntry.method == str(LedgerMethod.CASH),
            LedgerEntry.receipt_number.is_not(None),
        )
    )
    return f"{RECEIPT_PREFIX}-{booking.ref_key}-{int(count or 0) + 1}"


def owed_in(session: Session, booking: Booking, currency: str, owed_base_minor: int) -> int | None:
    """What is owed in `currency` at the day's rate, rounded down (None without a rate)."""
    base = ledger.base_currency(booking)
    if currency == base:
        return owed_base_minor
    try:
        row = rates.rate_on(session, currency, base, clock.local_today())
    except rates.NoRate:
        return None
    return int((Decimal(owed_base_minor) / Decimal(row.rate)).to_integral_value(ROUND_FLOOR))


def _repeat(existing: LedgerEntry, booking: Booking, amount_minor: int, currency: str) -> None:
    """The same key must name the same payment: another booking or amount is a mistake."""
    if (
        existing.booking_id != booking.id
        or existing.amount_minor != amount_minor
        or existing.currency != currency
    ):
        raise CashRefused(texts.cash_key_reused())


def record_cash(
    session: Session,
    booking_ref: str,
    *,
    amount_minor: int,
    currency: str,
    actor: Actor,
    recorder: Staff,
    idempotency_key: str,
) -> CashReceipt:
    """Record cash received for a booking's balance, once per `idempotency_key`, give the
    customer a receipt number in the chat and tell them what it paid (`notify_received`).

    Raises NotFound (an unknown reference, or a booking `recorder` may not record cash for),
    InvalidReference, CashRefused (nothing owed, a bad amount, a key reused for another
    payment), OverOwed (more than is owed: the message names what is owed) and rates.NoRate
    (another currency with no rate set for today: staff must set one)."""
    currency = currency.strip().upper()
    key = idempotency_key.strip()
    if not key or len(key) > KEY_MAX:
        raise CashRefused(f"An idempotency key of 1 to {KEY_MAX} characters is needed")
    if len(currency) != 3 or not currency.isalpha():
        raise CashRefused(texts.cash_bad_currency(currency))
    in_the_field = actor.source == Source.WHATSAPP
    found = find_booking_for(session, booking_ref, recorder, in_the_field=in_the_field)
    booking = payments.lock_booking(session, found.id)
    existing = ledger.find(session, LedgerMethod.CASH, key, None)
    if existing is not None:
        _repeat(existing, booking, amount_minor, currency)
        return CashReceipt(
            existing.receipt_number,
            payments.Received(booking, existing, duplicate=True),
            amount_minor,
            currency,
            duplicate=True,
        )
    if amount_minor <= 0:
        raise CashRefused(texts.cash_bad_amount())
    if booking.status not in payments.PAYABLE or booking.balance_minor <= 0:
        raise CashRefused(texts.cash_nothing_owed(booking))
    today = clock.local_today()
    try:
        converted = rates.to_base(
            session, amount_minor, currency, ledger.base_currency(booking), today
        )
    except rates.NoRate:
        raise rates.NoRate(texts.cash_no_rate(currency, today)) from None
    owed = booking.balance_minor
    if converted.base_amount_minor > owed:
        raise OverOwed(
            texts.cash_more_than_owed(
                booking, owed, currency, owed_in(session, booking, currency, owed)
            ),
            owed,
            booking.currency,
        )
    number = receipt_number_for(session, booking)
    received = payments.receive(
        session,
        booking.id,
        payments.MoneyIn(
            method=LedgerMethod.CASH,
            amount_minor=amount_minor,
            currency=currency,
            received_on=today,
            provider_ref=key,
            receipt_number=number,
            note=f"cash received by {recorder.name}"[:300],
        ),
        actor,
    )
    if received.duplicate:  # the same key won concurrently (the lock makes this rare)
        assert received.entry is not None
        return CashReceipt(
            received.entry.receipt_number, received, amount_minor, currency, duplicate=True
        )
    booked = received.entry is not None
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="CASH_RECEIVED" if booked else "CASH_FLAGGED",
        action="tms.payment.cash_received" if booked else "tms.payment.cash_flagged",
        actor=actor,
        content={
            "booking": booking.reference,
            "amount": amount_minor,
            "currency": currency,
            "receipt": number if booked else None,
            "recordedBy": recorder.id,
            "reason": received.flagged,
        },
    )
    if booked:
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.cash_receipt_customer(
                booking, number, amount_minor, currency, recorder, today
            ),
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    payments.notify_received(
        session,
        booking,
        amount_minor=converted.base_amount_minor,
        confirmed_now=received.confirmed_now,
        flagged=received.flagged,
        actor=actor,
    )
    return CashReceipt(number if booked else None, received, amount_minor, currency)
