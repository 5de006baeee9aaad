"""A customer's credit: issued off a cancelled booking, spent on a later one, never overdrawn
(also by two spends at once, on PostgreSQL with real threads)."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from backend import links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, PaymentStatus
from backend.models import Booking, Contact, Departure, LedgerKind, LedgerMethod, Product
from backend.services import bookings, credits, ledger, payments
from tests import factories


def _held(session, contact, size=2):
    product = session.scalar(select(Product).where(Product.code == "EBC"))
    if product is None:
        product = factories.ebc(session)
    count = session.scalar(select(func.count(Departure.id)))
    dep = factories.departure(session, product, start=date(2025, 3, 15) + timedelta(days=count))
    return bookings.hold_new_booking(
        session, contact=contact, departure_id=dep.id, party_size=size, actor=SYSTEM
    )


def _issue(session, booking, amount):
    ledger.record(
        session,
        booking,
        kind=LedgerKind.CREDIT_ISSUED,
        method=LedgerMethod.CREDIT,
        amount_minor=-amount,
        currency=ledger.base_currency(booking),
        actor=SYSTEM,
    )


def _with_credit(session, amount):
    """A contact whose first booking was paid, cancelled and turned into `amount` of credit."""
    contact = factories.contact(session)
    first = _held(session, contact)
    payments.record_payment(
        session,
        booking_id=first.id,
        provider="test",
        event_id=f"evt-{first.id}",
        amount_minor=first.deposit_minor,
        currency="USD",
        actor=SYSTEM,
    )
    bookings.cancel_booking(session, first, SYSTEM, reason="plans changed")
    _issue(session, first, amount)
    return contact, first


def test_credit_issued_is_available_and_spent_pays_a_later_booking(session, frozen_clock):
    contact, first = _with_credit(session, 500_00)
    assert credits.available(session, contact) == 500_00
    assert first.paid_minor == first.deposit_minor - 500_00
    later = _held(session, contact, size=1)
    received = credits.spend(session, later, amount_minor=300_00, actor=SYSTEM)
    assert received.entry is not None and received.entry.kind == LedgerKind.CREDIT_SPENT
    assert (
        received.entry.method == LedgerMethod.CREDIT and received.entry.base_amount_minor == 300_00
    )
    assert later.paid_minor == 300_00
    assert later.status == BookingStatus.PAYMENT_PENDING  # not yet the deposit
    assert credits.available(session, contact) == 200_00
    with pytest.raises(credits.NotEnoughCredit):
        credits.spend(session, later, amount_minor=200_01, actor=SYSTEM)
    credits.spend(session, later, amount_minor=200_00, actor=SYSTEM)
    assert credits.available(session, contact) == 0
    assert later.paid_minor == 500_00


def test_spend_covering_the_deposit_confirms_and_a_repeat_books_nothing(session, frozen_clock):
    contact, _ = _with_credit(session, 5_000_00)
    later = _held(session, contact, size=1)
    received = credits.spend(
        session, later, amount_minor=later.deposit_minor, actor=SYSTEM, provider_ref="page-1"
    )
    assert received.confirmed_now and later.status == BookingStatus.CONFIRMED
    assert later.payment_status == PaymentStatus.DEPOSIT_PAID
    again = credits.spend(
        session, later, amount_minor=later.deposit_minor, actor=SYSTEM, provider_ref="page-1"
    )
    assert again.duplicate and later.paid_minor == later.deposit_minor


def test_credit_never_pays_more_than_owed_nor_a_stranger_s_credit(session, frozen_clock):
    contact, _ = _with_credit(session, 9_999_00)
    later = _held(session, contact, size=1)
    with pytest.raises(credits.NotEnoughCredit):
        credits.spend(session, later, amount_minor=later.total_minor + 1, actor=SYSTEM)
    stranger = factories.contact(session)
    theirs = _held(session, stranger, size=1)
    assert credits.available(session, stranger) == 0
    with pytest.raises(credits.NotEnoughCredit):
        credits.spend(session, theirs, amount_minor=1, actor=SYSTEM)


def test_two_spends_at_once_never_overdraw(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        contact, _ = _with_credit(s, 400_00)
        one = _held(s, contact, size=1)
        two = _held(s, contact, size=1)
        contact_id, ids = contact.id, [one.id, two.id]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def spend(booking_id: str) -> None:
        barrier.wait(timeout=30)
        try:
            with transaction(pg_db_url) as s:
                credits.spend(s, s.get(Booking, booking_id), amount_minor=300_00, actor=SYSTEM)
            outcomes.append("spent")
        except credits.NotEnoughCredit:
            outcomes.append("refused")

    threads = [threading.Thread(target=spend, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["refused", "spent"]
    with transaction(pg_db_url) as s:
        assert credits.available(s, s.get(Contact, contact_id)) == 100_00


def test_paying_from_credit_on_the_pay_page_takes_what_is_owed_once_and_tells_the_customer(
    session, frozen_clock
):
    from backend.models import OutboundMessage
    from backend.web import page_data

    contact, _ = _with_credit(session, 5_000_00)
    later = _held(session, contact, size=1)
    owed = later.balance_minor
    assert 0 < owed < 5_000_00
    claims = links.read("pay", links.pay_url(later.ref_key).rsplit("/", 1)[1])
    shown = page_data.pay(session, claims).context["credit"]
    assert shown["covers_all"] and shown["key"] == credits.spend_key(later)
    assert credits.usable_on(session, later) == owed
    key = credits.spend_key(later)
    first = credits.pay_from_credit(session, later, actor=SYSTEM, key=key)
    again = credits.pay_from_credit(session, later, actor=SYSTEM, key=key)
    assert first is not None and not first.duplicate and first.confirmed_now
    assert again is None  # nothing is owed any more: a second click spends nothing
    assert later.paid_minor == owed and later.payment_status == PaymentStatus.FULL_PAID
    assert credits.available(session, contact) == 5_000_00 - owed
    assert page_data.pay(session, claims).context.get("credit") is None
    told = session.scalars(
        select(OutboundMessage.purpose).where(OutboundMessage.recipient_phone == contact.phone)
    ).all()
    assert "booking_confirmed" in told
