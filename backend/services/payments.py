"""Money in: record a payment once, and move the booking it pays for.

Every way to pay ends in `receive` (a card provider's event through `record_payment`, a
verified transfer or card-link proof, cash recorded by staff or the trip's lead guide, a credit
spent): the money is booked in the ledger in the base currency at the day's rate, and the
booking moves the same way whatever the method (hold converted, confirmed once the deposit is
covered, paid in full). Confirmation is a compare-and-set under the booking's row lock; a
repeated event, proof or receipt is answered as already recorded (alf.io). Money that cannot be
applied is kept and flagged for staff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain import references
from backend.domain.actor import Actor
from backend.domain.enums import (
    BookingStatus,
    HoldStatus,
    ObjectType,
    PaymentKind,
    PaymentStatus,
    Role,
)
from backend.domain.errors import DomainError, NotEnoughSeats
from backend.domain.states import BOOKING, BOOKING_PAYMENT
from backend.models import Booking, LedgerEntry, LedgerKind, LedgerMethod, Payment
from backend.services import (
    emails,
    inventory,
    languages,
    ledger,
    notifications,
    papers_flow,
    papers_invite,
    rates,
    routing,
    timeline,
    waitlist,
)
from backend.services.state import change_state


@dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    booking: Booking
    duplicate: bool = False
    confirmed_now: bool = False
    flagged: str | None = None


@dataclass(frozen=True)
class MoneyIn:
    """Money received for a booking, however it came: what `receive` books."""

    method: LedgerMethod
    amount_minor: int  # positive, in `currency`
    currency: str
    received_on: date  # the day whose exchange rate applies (a transfer's value date)
    # Counts once per method: a provider's event id, "proof:<id>", a WhatsApp message id ...
    provider_ref: str | None = None
    payment: Payment | None = None
    proof_id: str | None = None
    receipt_number: str | None = None
    note: str | None = None
    recorded_at: datetime | None = None
    kind: LedgerKind = LedgerKind.PAYMENT


@dataclass(frozen=True)
class Received:
    booking: Booking
    entry: LedgerEntry | None  # None when flagged (nothing was booked)
    duplicate: bool = False
    confirmed_now: bool = False
    flagged: str | None = None


# Open bookings a customer can pay for: a hold (deposit or full), a confirmed booking's balance.
PAYABLE = (BookingStatus.HELD, BookingStatus.PAYMENT_PENDING, BookingStatus.CONFIRMED)


def amount_for(booking: Booking, kind: PaymentKind) -> int:
    if kind == PaymentKind.FULL:
        return booking.total_minor
    if kind == PaymentKind.DEPOSIT:
        return booking.deposit_minor
    return booking.balance_minor


def due_now(booking: Booking) -> list[tuple[PaymentKind, int]]:
    """What the customer can pay now, as (kind, amount): the deposit or the full amount while
    nothing is paid, then the balance; nothing when paid in full or the booking is not open
    (a lapsed hold is held again in the chat first, never paid blind)."""
    if booking.status not in PAYABLE or booking.balance_minor <= 0:
        return []
    if booking.paid_minor == 0:
        if booking.deposit_minor >= booking.total_minor:
            return [(PaymentKind.FULL, booking.total_minor)]
        return [
            (PaymentKind.DEPOSIT, booking.deposit_minor),
            (PaymentKind.FULL, booking.total_minor),
        ]
    return [(PaymentKind.BALANCE, booking.balance_minor)]


def checkout_key(booking: Booking, kind: PaymentKind) -> str:
    """One key per payment the booking can owe: two clicks on a stale page, or two tabs, name
    the same payment, so the provider takes it once (idempotency key, local event id)."""
    return f"{booking.ref_key}-{kind.lower()}-{booking.paid_minor}"


def expected_kind(booking: Booking, amount_minor: int) -> PaymentKind | None:
    """Which payment this amount is, or None when it matches nothing owed."""
    if booking.paid_minor == 0:
        if amount_minor == booking.total_minor:
            return PaymentKind.FULL
        if amount_minor == booking.deposit_minor:
            return PaymentKind.DEPOSIT
        return None
    if amount_minor == booking.balance_minor and amount_minor > 0:
        return PaymentKind.BALANCE
    return None


def record_payment(
    session: Session,
    *,
    booking_id: str,
    provider: str,
    event_id: str,
    amount_minor: int,
    currency: str,
    actor: Actor,
) -> PaymentOutcome:
    """Apply one payment event exactly once."""
    existing = session.scalar(
        select(Payment).where(Payment.provider == provider, Payment.provider_event_id == event_id)
    )
    if existing is not None:
        return _duplicate(session, existing, actor)
    if session.get(Booking, booking_id) is None:
        raise DomainError(f"No booking {booking_id} for payment {event_id}")
    booking = lock_booking(session, booking_id)
    kind = expected_kind(booking, amount_minor) if currency == booking.currency else None
    payment = Payment(
        booking_id=booking.id,
        provider=provider,
        provider_event_id=event_id,
        amount_minor=amount_minor,
        currency=currency,
        kind=str(kind or PaymentKind.DEPOSIT),
        received_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(payment)
            session.flush()
    except IntegrityError:
        # The same event arrived concurrently and won the insert.
        existing = session.scalar(
            select(Payment).where(
                Payment.provider == provider, Payment.provider_event_id == event_id
            )
        )
        assert existing is not None
        return _duplicate(session, existing, actor)
    timeline.record(
        session,
        object_type=ObjectType.PAYMENT,
        object_id=payment.id,
        event_type="RECEIVED",
        action="tms.payment.received",
        actor=actor,
        content={
            "booking": booking.reference,
            "amount": amount_minor,
            "currency": currency,
            "eventId": event_id,
        },
    )
    money = MoneyIn(
        method=ledger.method_of(provider),
        amount_minor=amount_minor,
        currency=currency,
        received_on=clock.local_today(),
        provider_ref=ledger.payment_ref(provider) + event_id,
        payment=payment,
        recorded_at=payment.received_at,
    )
    if kind is None:
        received = _flag_money(session, booking, money, "amount does not match what is owed", actor)
    else:
        converted = rates.to_base(
            session, amount_minor, currency, ledger.base_currency(booking), money.received_on
        )
        received = _apply(session, booking, money, converted, actor)
    return PaymentOutcome(
        payment=payment,
        booking=booking,
        confirmed_now=received.confirmed_now,
        flagged=received.flagged,
    )


def lock_booking(session: Session, booking_id: str) -> Booking:
    """The departure's lock, then the booking's row lock: the order every seat-moving path
    takes (a late payment may need the seats), so a payment and a cancellation never deadlock.
    Returns the booking read again under its lock."""
    departure_id = session.scalar(select(Booking.departure_id).where(Booking.id == booking_id))
    if departure_id is None:
        raise DomainError(f"No booking {booking_id}")
    inventory.lock_departure(session, departure_id)
    booking = session.scalar(
        select(Booking)
        .where(Booking.id == booking_id)
        .with_for_update(of=Booking)
        .execution_options(populate_existing=True)
    )
    assert booking is not None
    return booking


def receive(session: Session, booking_id: str, money: MoneyIn, actor: Actor) -> Received:
    """Book money received for a booking and move the booking, whatever the method. The same
    `provider_ref` (or payment) again records nothing and answers `duplicate`. Raises
    `rates.NoRate` when the money is in another currency and no rate is set for its day.
    The caller tells the customer (`tell_customer`) and writes its own step's timeline event."""
    booking = lock_booking(session, booking_id)
    already = ledger.find(session, money.method, money.provider_ref, money.payment)
    if already is not None:
        return Received(booking, already, duplicate=True)
    converted = rates.to_base(
        session,
        money.amount_minor,
        money.currency,
        ledger.base_currency(booking),
        money.received_on,
    )
    return _apply(session, booking, money, converted, actor)


def _apply(
    session: Session,
    booking: Booking,
    money: MoneyIn,
    converted: rates.Converted,
    actor: Actor,
) -> Received:
    status = BookingStatus(booking.status)
    confirmed_now = False
    if status == BookingStatus.HELD:
        hold = inventory.active_hold(session, booking)
        if hold is not None and hold.expires_at <= clock.now():
            # The hold lapsed but its expiry has not run yet: treat it as expired.
            inventory.close_hold(session, hold, HoldStatus.EXPIRED, actor)
            change_state(
                session, booking, BOOKING, BookingStatus.EXPIRED, actor, reason="hold expired"
            )
            status = BookingStatus.EXPIRED
        else:
            if hold is not None:
                inventory.close_hold(session, hold, HoldStatus.CONVERTED, actor)
            change_state(session, booking, BOOKING, BookingStatus.PAYMENT_PENDING, actor)
            status = BookingStatus.PAYMENT_PENDING
    if status == BookingStatus.EXPIRED:
        departure = inventory.lock_departure(session, booking.departure_id)
        try:
            inventory.ensure_available(session, departure, booking.party_size)
        except NotEnoughSeats:
            return _flag_money(
                session,
                booking,
                money,
                "paid after the hold expired and the seats are gone: refund",
                actor,
            )
        change_state(
            session,
            booking,
            BOOKING,
            BookingStatus.PAYMENT_PENDING,
            actor,
            reason="late payment, seats still free",
        )
        status = BookingStatus.PAYMENT_PENDING
    if status not in (BookingStatus.PAYMENT_PENDING, BookingStatus.CONFIRMED):
        return _flag_money(session, booking, money, f"booking is {status}: refund", actor)
    entry, _ = ledger.record(
        session,
        booking,
        kind=money.kind,
        method=money.method,
        amount_minor=money.amount_minor,
        currency=money.currency,
        base_amount_minor=converted.base_amount_minor,
        rate=converted.rate,
        actor=actor,
        provider_ref=money.provider_ref,
        payment=money.payment,
        proof_id=money.proof_id,
        receipt_number=money.receipt_number,
        note=money.note,
        recorded_at=money.recorded_at,
    )
    # `paid_minor` now includes this money (the ledger's sum, read again by `record`).
    paid = booking.paid_minor
    if status == BookingStatus.PAYMENT_PENDING and paid >= min(
        booking.deposit_minor, booking.total_minor
    ):
        change_state(session, booking, BOOKING, BookingStatus.CONFIRMED, actor)
        booking.confirmed_at = clock.now()
        confirmed_now = True
    elif status == BookingStatus.PAYMENT_PENDING:
        short = booking.deposit_minor - paid
        booking.attention_reason = f"deposit short by {short} minor units: ask for the rest"
    if paid >= booking.total_minor:
        target: PaymentStatus | None = PaymentStatus.FULL_PAID
    elif paid >= booking.deposit_minor:
        target = PaymentStatus.DEPOSIT_PAID
    else:
        target = None
    if target is not None and booking.payment_status != target:
        change_state(
            session,
            booking,
            BOOKING_PAYMENT,
            target,
            actor,
            amount=converted.base_amount_minor,
            kind=str(_kind_word(booking, target, paid - converted.base_amount_minor)),
            method=str(money.method),
        )
    return Received(booking, entry, confirmed_now=confirmed_now)


def _kind_word(booking: Booking, target: PaymentStatus, paid_before: int) -> PaymentKind:
    if target == PaymentStatus.DEPOSIT_PAID:
        return PaymentKind.DEPOSIT
    return PaymentKind.FULL if paid_before <= 0 else PaymentKind.BALANCE


def _flag_money(
    session: Session, booking: Booking, money: MoneyIn, reason: str, actor: Actor
) -> Received:
    if money.payment is not None:
        money.payment.flagged_reason = reason
    booking.attention_reason = reason
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="PAYMENT_FLAGGED",
        action="tms.booking.payment.flagged",
        actor=actor,
        content={
            "paymentId": money.payment.id if money.payment is not None else None,
            "proofId": money.proof_id,
            "method": str(money.method),
            "amount": money.amount_minor,
            "currency": money.currency,
            "reason": reason,
        },
    )
    return Received(booking, None, flagged=reason)


def _duplicate(session: Session, payment: Payment, actor: Actor) -> PaymentOutcome:
    booking = session.get(Booking, payment.booking_id)
    assert booking is not None
    timeline.record(
        session,
        object_type=ObjectType.PAYMENT,
        object_id=payment.id,
        event_type="DUPLICATE",
        action="tms.payment.already_recorded",
        actor=actor,
        content={"eventId": payment.provider_event_id},
    )
    return PaymentOutcome(
        payment=payment, booking=booking, duplicate=True, flagged=payment.flagged_reason
    )


def apply_provider_event(
    session: Session,
    *,
    provider: str,
    event: dict,
    actor: Actor,
) -> PaymentOutcome | None:
    """A `payment.succeeded` event from the gateway: record it once, confirm the booking, tell
    the customer, and alert staff about money that could not be applied. None when the event
    names no booking we know (kept on the log for staff)."""
    data = event.get("data") or {}
    key = references.reference_key(str(data.get("booking_reference") or ""))
    booking = session.scalar(select(Booking).where(Booking.ref_key == key))
    if booking is None:
        notifications.to_role(
            session,
            Role.OPS,
            f"💳 A payment event {event.get('id')} names no known booking ({data.get('booking_reference')}).",
            purpose="ops_alert",
        )
        return None
    outcome = record_payment(
        session,
        booking_id=booking.id,
        provider=provider,
        event_id=str(event["id"]),
        amount_minor=int(data["amount_minor"]),
        currency=str(data.get("currency") or booking.currency),
        actor=actor,
    )
    if outcome.duplicate:
        return outcome
    notify_received(
        session,
        booking,
        amount_minor=outcome.payment.amount_minor,
        confirmed_now=outcome.confirmed_now,
        flagged=outcome.flagged,
        actor=actor,
    )
    return outcome


def notify_received(
    session: Session,
    booking: Booking,
    *,
    amount_minor: int,
    confirmed_now: bool,
    flagged: str | None,
    actor: Actor,
) -> None:
    """Tell the customer what their money did (confirmed, balance received, or passed to
    staff) and alert staff about money that could not be applied: the same whatever the
    method. `amount_minor` is in the booking's currency (the base amount of foreign money)."""
    contact = booking.contact
    if flagged:
        notifications.to_contact(
            session,
            contact,
            texts.payment_needs_staff_customer(booking),
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
        routing.alert(
            session,
            "tms.booking.payment.flagged",
            texts.staff_payment_flagged(booking, amount_minor, flagged),
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
            lead=booking.lead,
        )
    elif confirmed_now:
        emails.booking_confirmation(session, booking, actor)
        entry = waitlist.entry_of(session, booking)
        with languages.writing_to(contact):
            body = (
                texts.waitlist_confirmed(booking)
                if entry is not None
                else texts.booking_confirmed(booking, amount_minor)
            )
        notifications.to_contact(
            session,
            contact,
            body,
            purpose="booking_confirmed",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
        # The travellers' papers, right after the deposit: the page's link, and the form in
        # the chat for the first traveller (backend/services/papers_invite.py, papers_flow.py).
        papers_invite.invite(session, booking, actor)
        papers_flow.offer(session, booking, actor)
    else:
        with languages.writing_to(contact):
            body = texts.balance_received(booking, amount_minor)
        notifications.to_contact(
            session,
            contact,
            body,
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
