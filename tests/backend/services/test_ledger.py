"""The ledger: every payment is one append-only entry, what a booking has paid is their sum,
and the same provider id (receipt, proof) records once, also when two arrive together."""

from __future__ import annotations

import itertools
import re
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from backend.db import create_db_engine, transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import PaymentStatus, Source
from backend.models import Booking, LedgerEntry, LedgerKind, LedgerMethod
from backend.services import bookings, ledger, payments
from tests import factories
from tests.backend.services.test_races import in_thread

_runs = itertools.count()
SERVICE = Path(__file__).resolve().parents[3] / "backend" / "services" / "ledger.py"


def _held(session, size=3):
    dep = factories.departure(session, factories.ebc(session))
    return bookings.hold_new_booking(
        session,
        contact=factories.contact(session),
        departure_id=dep.id,
        party_size=size,
        actor=SYSTEM,
    )


def _pay(session, booking_id, amount, event, provider="stripe"):
    return payments.record_payment(
        session,
        booking_id=booking_id,
        provider=provider,
        event_id=event,
        amount_minor=amount,
        currency="USD",
        actor=SYSTEM,
    )


def _sum(session, booking_id) -> int:
    return session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.base_amount_minor), 0)).where(
            LedgerEntry.booking_id == booking_id
        )
    )


def test_a_payment_is_one_ledger_entry_and_paid_is_their_sum(session, frozen_clock):
    booking = _held(session)
    _pay(session, booking.id, booking.deposit_minor, "evt_deposit")
    [entry] = ledger.entries_of(session, booking)
    assert (entry.kind, entry.method, entry.provider_ref) == ("payment", "stripe", "evt_deposit")
    assert (entry.amount_minor, entry.base_amount_minor, entry.rate) == (2_052_00, 2_052_00, "1")
    assert (entry.currency, entry.base_currency, entry.recorded_by) == ("USD", "USD", "SYSTEM")
    assert entry.payment_id is not None
    assert booking.paid_minor == _sum(session, booking.id) == 2_052_00
    assert booking.balance_minor == booking.total_minor - 2_052_00
    assert booking.payment_status == PaymentStatus.DEPOSIT_PAID
    _pay(session, booking.id, booking.balance_minor, "evt_balance")
    assert len(ledger.entries_of(session, booking)) == 2
    assert booking.paid_minor == _sum(session, booking.id) == booking.total_minor
    assert booking.balance_minor == 0 and booking.payment_status == PaymentStatus.FULL_PAID
    session.commit()
    session.expire_all()
    assert session.get(Booking, booking.id).paid_minor == booking.total_minor


def test_a_flagged_payment_is_not_in_the_ledger(session, frozen_clock):
    booking = _held(session)
    outcome = _pay(session, booking.id, 1_00, "evt_odd")
    assert outcome.flagged and ledger.entries_of(session, booking) == []
    assert booking.paid_minor == 0


def test_the_same_provider_id_records_once(session, frozen_clock):
    booking = _held(session)
    _pay(session, booking.id, booking.deposit_minor, "evt_1")
    assert _pay(session, booking.id, booking.deposit_minor, "evt_1").duplicate
    cash = Actor(Source.ADMIN, staff_id=None, phone="+9779800000001")
    first, new = ledger.record(
        session,
        booking,
        kind=LedgerKind.PAYMENT,
        method=LedgerMethod.CASH,
        amount_minor=100_00,
        currency="USD",
        actor=cash,
        provider_ref="R-0001",
    )
    again, new_again = ledger.record(
        session,
        booking,
        kind=LedgerKind.PAYMENT,
        method=LedgerMethod.CASH,
        amount_minor=100_00,
        currency="USD",
        actor=cash,
        provider_ref="R-0001",
    )
    assert new and not new_again and again.id == first.id
    assert first.recorded_by == "ADMIN:+9779800000001"
    assert len(ledger.entries_of(session, booking)) == 2
    assert booking.paid_minor == 2_052_00 + 100_00 == _sum(session, booking.id)


def test_an_amount_in_another_currency_needs_its_base_amount(session, frozen_clock):
    booking = _held(session)
    with pytest.raises(ValueError, match="base amount"):
        ledger.record(
            session,
            booking,
            kind=LedgerKind.PAYMENT,
            method=LedgerMethod.CASH,
            amount_minor=100_00,
            currency="EUR",
            actor=SYSTEM,
        )
    entry, _ = ledger.record(
        session,
        booking,
        kind=LedgerKind.PAYMENT,
        method=LedgerMethod.CASH,
        amount_minor=100_00,
        currency="EUR",
        base_amount_minor=108_00,
        rate="1.08",
        actor=SYSTEM,
    )
    assert (entry.base_currency, entry.base_amount_minor) == ("USD", 108_00)
    assert booking.paid_minor == 108_00


def test_the_database_refuses_to_change_or_delete_an_entry(session, frozen_clock):
    booking = _held(session)
    _pay(session, booking.id, booking.deposit_minor, "evt_1")
    session.commit()
    entry = ledger.entries_of(session, booking)[0]
    entry.amount_minor = 1
    with pytest.raises(DatabaseError, match="append-only"):
        session.flush()
    session.rollback()
    session.delete(ledger.entries_of(session, booking)[0])
    with pytest.raises(DatabaseError, match="append-only"):
        session.flush()
    session.rollback()


def test_the_service_never_updates_or_deletes_an_entry():
    source = SERVICE.read_text()
    assert not re.search(r"\b(update|delete)\s*\(|\.delete\(|session\.merge", source)
    assert "ledger_entries" not in source.replace("uq_ledger_entries", "")


def test_the_same_event_arriving_twice_at_once_records_once(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        booking = _held(s)
        booking_id, deposit = booking.id, booking.deposit_minor
    start = threading.Barrier(2)

    def pay() -> None:
        with transaction(pg_db_url) as s:
            start.wait(timeout=30)
            _pay(s, booking_id, deposit, "evt_twice")

    other = threading.Thread(target=lambda: in_thread(pay))
    other.start()
    pay()
    other.join(timeout=60)
    with transaction(pg_db_url) as s:
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == 1
        assert s.get(Booking, booking_id).paid_minor == deposit == _sum(s, booking_id)


def test_the_same_receipt_recorded_twice_at_once_counts_once(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        booking_id = _held(s).id
    start = threading.Barrier(2)
    answers: list[bool] = []

    def record() -> None:
        with transaction(pg_db_url) as s:
            booking = s.get(Booking, booking_id)
            start.wait(timeout=30)
            _, new = ledger.record(
                s,
                booking,
                kind=LedgerKind.PAYMENT,
                method=LedgerMethod.CASH,
                amount_minor=500_00,
                currency="USD",
                actor=SYSTEM,
                provider_ref="R-7",
            )
            answers.append(new)

    other = threading.Thread(target=lambda: in_thread(record))
    other.start()
    record()
    other.join(timeout=60)
    assert sorted(answers) == [False, True]
    with transaction(pg_db_url) as s:
        assert s.get(Booking, booking_id).paid_minor == 500_00 == _sum(s, booking_id)


# -- a randomised run: the ledger's sum is what every booking has paid ------------------------
payment_steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which booking
        st.sampled_from(["due", "odd", "repeat"]),  # what the provider sends
    ),
    max_size=12,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=payment_steps)
def test_random_payments_keep_the_ledger_and_paid_equal(
    sqlite_template, tmp_path, frozen_clock, steps
):
    # A fresh database per example, in this process: quick, and no example sees another's.
    path = tmp_path / f"run-{next(_runs)}.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    engine = create_db_engine(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False) as s:
        dep = factories.departure(s, factories.ebc(s))
        held = [
            bookings.hold_new_booking(
                s, contact=factories.contact(s), departure_id=dep.id, party_size=n + 1, actor=SYSTEM
            )
            for n in range(3)
        ]
        sent: list[tuple[str, int, str]] = []
        for n, (which, what) in enumerate(steps):
            booking = held[which]
            if what == "repeat" and sent:
                booking_id, amount, event = sent[-1]
            else:
                due = payments.due_now(booking)
                amount = due[0][1] if due and what == "due" else 7_00
                booking_id, event = booking.id, f"evt_{n}"
            _pay(s, booking_id, amount, event)
            sent.append((booking_id, amount, event))
        s.commit()
        s.expire_all()
        for booking in s.scalars(select(Booking)):
            applied = sum(e.base_amount_minor for e in ledger.entries_of(s, booking))
            assert booking.paid_minor == applied == _sum(s, booking.id)
            assert booking.balance_minor == max(booking.total_minor - applied, 0)
            assert booking.paid_minor <= booking.total_minor
    engine.dispose()
