"""Cash on arrival: only the trip's lead guide (in the chat) or OPS records it, once per key,
never more than is owed, with a unique receipt number the customer gets in the chat."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import AssignmentRole, PaymentStatus, Role, Source
from backend.domain.errors import NotFound
from backend.models import LedgerEntry, LedgerMethod, OutboundMessage, Staff
from backend.services import assignments, bookings, cash, kpis, rates, trips
from tests import factories


def _world(session):
    """A confirmed booking (deposit paid) on a trip whose lead guide has accepted."""
    dep = factories.departure(session, factories.ebc(session), capacity=16)
    booking = factories.confirmed_booking(session, dep, 3)
    trip = trips.ensure_trip(session, dep, SYSTEM)
    guide = factories.staff(session, "Rajesh", Role.GUIDE)
    offer = assignments.offer_assignment(
        session, trip, guide, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    assignments.respond_to_assignment(session, offer, True, SYSTEM, notify=False)
    ops = factories.staff(session, "Priya", Role.OPS)
    return booking, guide, ops


def _chat(member):
    return Actor(Source.WHATSAPP, phone=member.phone)


def _console(member):
    return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


def test_the_lead_guide_records_the_balance_in_cash(session, frozen_clock):
    booking, guide, _ = _world(session)
    owed = booking.balance_minor
    receipt = cash.record_cash(
        session,
        booking.reference.lower().replace("-", ""),
        amount_minor=owed,
        currency="usd",
        actor=_chat(guide),
        recorder=guide,
        idempotency_key="wa:wamid.1",
    )
    assert not receipt.duplicate and receipt.receipt_number == f"CR-{booking.ref_key}-1"
    assert booking.balance_minor == 0 and booking.payment_status == PaymentStatus.FULL_PAID
    entry = receipt.received.entry
    assert entry.method == LedgerMethod.CASH and entry.receipt_number == receipt.receipt_number
    to_customer = session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.contact_id == booking.contact_id)
    ).all()
    assert any(f"Cash receipt {receipt.receipt_number}" in body for body in to_customer)
    assert any("fully paid" in body for body in to_customer)


def test_only_the_lead_guide_of_that_trip_and_ops_may_record(session, frozen_clock):
    booking, guide, ops = _world(session)
    other_guide = factories.staff(session, "Amit", Role.GUIDE)
    with pytest.raises(NotFound) as not_theirs:
        cash.record_cash(
            session,
            booking.reference,
            amount_minor=100_00,
            currency="USD",
            actor=_chat(other_guide),
            recorder=other_guide,
            idempotency_key="wa:x",
        )
    unknown_ref = booking.reference[:-3] + (
        "999" if not booking.reference.endswith("999") else "998"
    )
    with pytest.raises(NotFound) as unknown:
        cash.record_cash(
            session,
            unknown_ref,
            amount_minor=100_00,
            currency="USD",
            actor=_chat(other_guide),
            recorder=other_guide,
            idempotency_key="wa:y",
        )
    assert str(not_theirs.value) == str(unknown.value).replace(unknown_ref, booking.reference)
    # In the chat even OPS must be the trip's lead guide; in the console OPS may record.
    with pytest.raises(NotFound):
        cash.record_cash(
            session,
            booking.reference,
            amount_minor=100_00,
            currency="USD",
            actor=_chat(ops),
            recorder=ops,
            idempotency_key="wa:z",
        )
    # A guide cannot use the console's way either.
    with pytest.raises(NotFound):
        cash.record_cash(
            session,
            booking.reference,
            amount_minor=100_00,
            currency="USD",
            actor=_console(guide),
            recorder=guide,
            idempotency_key="console:g",
        )
    done = cash.record_cash(
        session,
        booking.reference,
        amount_minor=100_00,
        currency="USD",
        actor=_console(ops),
        recorder=ops,
        idempotency_key="console:ok",
    )
    assert (
        done.receipt_number and session.scalars(select(LedgerEntry.method)).all().count("cash") == 1
    )


def test_the_same_key_twice_records_once(session, frozen_clock):
    booking, guide, _ = _world(session)
    args = dict(amount_minor=1_000_00, currency="USD", actor=_chat(guide), recorder=guide)
    first = cash.record_cash(session, booking.reference, idempotency_key="wa:same", **args)
    messages = session.scalar(select(OutboundMessage.id).order_by(OutboundMessage.id.desc()))
    again = cash.record_cash(session, booking.reference, idempotency_key="wa:same", **args)
    assert again.duplicate and again.receipt_number == first.receipt_number
    assert session.scalars(select(LedgerEntry).where(LedgerEntry.method == "cash")).all() == [
        first.received.entry
    ]
    # Nobody is told twice.
    assert (
        session.scalar(select(OutboundMessage.id).order_by(OutboundMessage.id.desc())) == messages
    )
    # The same key for another amount is a mistake, refused.
    with pytest.raises(cash.CashRefused):
        cash.record_cash(
            session, booking.reference, idempotency_key="wa:same", **{**args, "amount_minor": 5}
        )


def test_receipt_numbers_are_unique_per_payment(session, frozen_clock):
    booking, guide, _ = _world(session)
    numbers = [
        cash.record_cash(
            session,
            booking.reference,
            amount_minor=500_00,
            currency="USD",
            actor=_chat(guide),
            recorder=guide,
            idempotency_key=f"wa:{n}",
        ).receipt_number
        for n in range(3)
    ]
    assert numbers == [f"CR-{booking.ref_key}-{n}" for n in (1, 2, 3)]
    stored = session.scalars(
        select(LedgerEntry.receipt_number).where(LedgerEntry.receipt_number.is_not(None))
    ).all()
    assert sorted(stored) == sorted(numbers)


def test_more_than_is_owed_is_refused_with_what_is_owed(session, frozen_clock):
    booking, guide, _ = _world(session)
    owed = booking.balance_minor
    with pytest.raises(cash.OverOwed) as refused:
        cash.record_cash(
            session,
            booking.reference,
            amount_minor=owed + 1,
            currency="USD",
            actor=_chat(guide),
            recorder=guide,
            idempotency_key="wa:over",
        )
    assert refused.value.owed_minor == owed and "$4,788" in str(refused.value)
    assert booking.balance_minor == owed
    assert session.scalar(select(LedgerEntry).where(LedgerEntry.method == "cash")) is None


def test_another_currency_uses_the_days_rate_or_asks_for_one(session, frozen_clock):
    booking, guide, _ = _world(session)
    args = dict(actor=_chat(guide), recorder=guide)
    with pytest.raises(rates.NoRate) as no_rate:
        cash.record_cash(
            session,
            booking.reference,
            amount_minor=100_000_00,
            currency="NPR",
            idempotency_key="wa:npr0",
            **args,
        )
    assert "must set one" in str(no_rate.value)
    rates.set_rate(session, currency="NPR", base_currency="USD", rate="0.0075", actor=SYSTEM)
    with pytest.raises(cash.OverOwed) as over:
        cash.record_cash(
            session,
            booking.reference,
            amount_minor=1_000_000_00,
            currency="NPR",
            idempotency_key="wa:npr1",
            **args,
        )
    assert "Rs 638,400" in str(over.value)  # what is owed, in rupees at today's rate
    receipt = cash.record_cash(
        session,
        booking.reference,
        amount_minor=100_000_00,
        currency="NPR",
        idempotency_key="wa:npr2",
        **args,
    )
    entry = receipt.received.entry
    assert (entry.amount_minor, entry.currency, entry.base_amount_minor) == (
        100_000_00,
        "NPR",
        750_00,
    )
    assert booking.balance_minor == 4_788_00 - 750_00


def test_nothing_owed_and_bad_amounts_are_refused(session, frozen_clock):
    booking, guide, _ = _world(session)
    args = dict(currency="USD", actor=_chat(guide), recorder=guide)
    with pytest.raises(cash.CashRefused):
        cash.record_cash(session, booking.reference, amount_minor=0, idempotency_key="wa:0", **args)
    cash.record_cash(
        session,
        booking.reference,
        amount_minor=booking.balance_minor,
        idempotency_key="wa:all",
        **args,
    )
    with pytest.raises(cash.CashRefused) as nothing:
        cash.record_cash(
            session, booking.reference, amount_minor=1_00, idempotency_key="wa:more", **args
        )
    assert "Nothing is owed" in str(nothing.value)


def test_the_kpis_count_money_collected_by_method_and_currency(session, frozen_clock):
    booking, guide, _ = _world(session)
    rates.set_rate(session, currency="NPR", base_currency="USD", rate="0.0075", actor=SYSTEM)
    for key, amount, currency in (
        ("a", 100_00, "USD"),
        ("b", 200_00, "USD"),
        ("c", 10_000_00, "NPR"),
    ):
        cash.record_cash(
            session,
            booking.reference,
            amount_minor=amount,
            currency=currency,
            actor=_chat(guide),
            recorder=guide,
            idempotency_key=f"wa:{key}",
        )
    today = clock.local_today()
    without = kpis.report(session, today, today)
    assert without.collected == []  # only for those who may see payments
    rows = {
        (r["method"], r["currency"]): (r["count"], r["amount_minor"], r["base_amount_minor"])
        for r in kpis.report(session, today, today, with_money=True).collected
    }
    assert rows[("cash", "USD")] == (2, 300_00, 300_00)
    assert rows[("cash", "NPR")] == (1, 10_000_00, 75_00)
    assert rows[("local", "USD")] == (1, booking.deposit_minor, booking.deposit_minor)


def test_concurrent_cash_records_once_per_key_with_distinct_receipts(pg_db_url):
    """On PostgreSQL: ten requests with the same key at once record once; ten with their own
    keys record ten entries with ten receipt numbers, never more than was owed."""
    with transaction(pg_db_url) as s:
        booking, _, ops = _world(s)
        reference, ops_id, owed = booking.reference, ops.id, booking.balance_minor
    barrier = Barrier(20)

    def attempt(key: str) -> str:
        barrier.wait()
        with transaction(pg_db_url) as s:
            member = s.get(Staff, ops_id)
            return cash.record_cash(
                s,
                reference,
                amount_minor=100_00,
                currency="USD",
                actor=_console(member),
                recorder=member,
                idempotency_key=key,
            ).receipt_number

    keys = ["console:same"] * 10 + [f"console:{n}" for n in range(10)]
    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = list(pool.map(attempt, keys))
    assert len(set(numbers[:10])) == 1  # the same key: one receipt for all ten
    assert len(set(numbers)) == 11
    with transaction(pg_db_url) as s:
        entries = s.scalars(select(LedgerEntry).where(LedgerEntry.method == "cash")).all()
        assert len(entries) == 11
        assert sorted(e.receipt_number for e in entries) == sorted(set(numbers))
        assert bookings.find_booking(s, reference).balance_minor == owed - 11 * 100_00
