"""Races that lost updates or oversold before, on PostgreSQL with real threads: each test forces
the unlucky interleaving (one transaction reads, the other commits, the first goes on)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, PaymentStatus, WaitlistStatus
from backend.domain.errors import ConcurrentChange, DomainError
from backend.domain.states import BOOKING
from backend.models import Booking, Departure, Payment, TimelineEvent
from backend.services import bookings, inventory, payments, waitlist
from backend.services.state import change_state
from tests import factories
from tests.conftest import truncate_pg


def in_thread(work: Callable[[], object]) -> object:
    """Run `work` in another thread (its own transaction and connection) and wait for it."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result(timeout=60)


def test_a_stale_transition_writes_nothing(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        dep = factories.departure(s, factories.ebc(s))
        held = bookings.hold_new_booking(
            s, contact=factories.contact(s), departure_id=dep.id, party_size=2, actor=SYSTEM
        )
        booking_id = held.id
    with transaction(pg_db_url) as stale:
        booking = stale.get(Booking, booking_id)
        assert booking.status == BookingStatus.HELD

        def expire_elsewhere() -> None:
            with transaction(pg_db_url) as s:
                change_state(s, s.get(Booking, booking_id), BOOKING, BookingStatus.EXPIRED, SYSTEM)

        in_thread(expire_elsewhere)
        with pytest.raises(ConcurrentChange):
            change_state(stale, booking, BOOKING, BookingStatus.CANCELLED, SYSTEM)
    with transaction(pg_db_url) as s:
        assert s.get(Booking, booking_id).status == BookingStatus.EXPIRED


def test_a_cancel_racing_a_payment_does_not_overwrite_the_confirmation(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        dep = factories.departure(s, factories.ebc(s))
        held = bookings.hold_new_booking(
            s, contact=factories.contact(s), departure_id=dep.id, party_size=3, actor=SYSTEM
        )
        booking_id, deposit = held.id, held.deposit_minor

    def pay() -> None:
        with transaction(pg_db_url) as s:
            payments.record_payment(
                s,
                booking_id=booking_id,
                provider="test",
                event_id="evt-race",
                amount_minor=deposit,
                currency="USD",
                actor=SYSTEM,
            )

    # Staff open the booking (HELD) and press Cancel just after the deposit was applied.
    with pytest.raises(ConcurrentChange, match="changed meanwhile"), transaction(pg_db_url) as s:
        booking = s.get(Booking, booking_id)
        assert booking.status == BookingStatus.HELD
        in_thread(pay)
        bookings.cancel_booking(s, booking, SYSTEM, reason="customer changed plans")
    with transaction(pg_db_url) as s:
        booking = s.get(Booking, booking_id)
        assert (booking.status, booking.payment_status) == (
            BookingStatus.CONFIRMED,
            PaymentStatus.DEPOSIT_PAID,
        )
        assert booking.paid_minor == deposit
        cancelled = s.scalar(
            select(func.count()).where(TimelineEvent.action == "tms.booking.status.cancelled")
        )
        assert cancelled == 0


def test_a_payment_after_a_cancel_is_flagged_for_a_refund(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        dep = factories.departure(s, factories.ebc(s))
        held = bookings.hold_new_booking(
            s, contact=factories.contact(s), departure_id=dep.id, party_size=3, actor=SYSTEM
        )
        booking_id, deposit = held.id, held.deposit_minor
        bookings.cancel_booking(s, held, SYSTEM)
    with transaction(pg_db_url) as s:
        outcome = payments.record_payment(
            s,
            booking_id=booking_id,
            provider="test",
            event_id="evt-late",
            amount_minor=deposit,
            currency="USD",
            actor=SYSTEM,
        )
        assert outcome.flagged and "refund" in outcome.flagged
    with transaction(pg_db_url) as s:
        assert s.get(Booking, booking_id).status == BookingStatus.CANCELLED
        assert s.scalar(select(func.count()).select_from(Payment)) == 1


def _offer_on_a_full_departure(pg_db_url):  # type: ignore[no-untyped-def]
    """A departure of 4: 2 confirmed, a waitlisted party of 2 offered the 2 seats a
    cancellation freed."""
    with transaction(pg_db_url) as s:
        dep = factories.departure(s, factories.ebc(s), capacity=4)
        factories.confirmed_booking(s, dep, 2)
        leaving = factories.confirmed_booking(s, dep, 2)
        waiting, _ = bookings.waitlist_new_booking(
            s, contact=factories.contact(s), departure=dep, party_size=2, actor=SYSTEM
        )
        bookings.cancel_booking(s, leaving, SYSTEM)
        assert waiting.status == BookingStatus.OFFERED
        entry = waitlist.entry_of(s, waiting)
        return dep.id, waiting.id, entry.offer_expires_at


def _pause_before_the_departure_lock(monkeypatch, meanwhile: Callable[[], None]) -> None:
    """The unlucky moment: CONFIRM has been read, the departure's lock is not yet taken."""
    real_lock = inventory.lock_departure
    fired = threading.Event()

    def lock_after_the_other_side(session, departure_id):  # type: ignore[no-untyped-def]
        if not fired.is_set():
            fired.set()
            meanwhile()
        return real_lock(session, departure_id)

    monkeypatch.setattr(inventory, "lock_departure", lock_after_the_other_side)


def test_accept_at_expiry_against_a_competing_hold_does_not_oversell(
    pg_db_url, frozen_clock, monkeypatch
):
    dep_id, waiting_id, expires_at = _offer_on_a_full_departure(pg_db_url)
    frozen_clock.at = expires_at - timedelta(seconds=1)

    def someone_else_holds_once_the_offer_ran_out() -> None:
        frozen_clock.at = expires_at + timedelta(seconds=1)

        def hold() -> None:
            with transaction(pg_db_url) as s:
                bookings.hold_new_booking(
                    s, contact=factories.contact(s), departure_id=dep_id, party_size=2, actor=SYSTEM
                )

        in_thread(hold)

    _pause_before_the_departure_lock(monkeypatch, someone_else_holds_once_the_offer_ran_out)
    with pytest.raises(DomainError, match="expired"), transaction(pg_db_url) as s:
        waitlist.accept_offer(s, s.get(Booking, waiting_id), SYSTEM)
    with transaction(pg_db_url) as s:
        counts = inventory.seat_counts(s, s.get(Departure, dep_id))
        assert counts.confirmed + counts.held == 4 and counts.available == 0
        assert s.get(Booking, waiting_id).status == BookingStatus.OFFERED  # the job expires it


def test_accept_at_expiry_against_the_expiry_job_gives_the_seats_once(
    pg_db_url, frozen_clock, monkeypatch
):
    dep_id, waiting_id, expires_at = _offer_on_a_full_departure(pg_db_url)
    frozen_clock.at = expires_at - timedelta(seconds=1)

    def the_expiry_job_runs() -> None:
        frozen_clock.at = expires_at + timedelta(seconds=1)

        def expire() -> None:
            with transaction(pg_db_url) as s:
                booking = s.get(Booking, waiting_id)
                assert waitlist.expire_offer(s, waitlist.entry_of(s, booking), SYSTEM, notify=False)

        in_thread(expire)

    _pause_before_the_departure_lock(monkeypatch, the_expiry_job_runs)
    with pytest.raises(DomainError), transaction(pg_db_url) as s:
        waitlist.accept_offer(s, s.get(Booking, waiting_id), SYSTEM)
    with transaction(pg_db_url) as s:
        booking = s.get(Booking, waiting_id)
        assert booking.status == BookingStatus.EXPIRED
        assert waitlist.entry_of(s, booking).status == WaitlistStatus.EXPIRED
        counts = inventory.seat_counts(s, s.get(Departure, dep_id))
        assert counts.confirmed + counts.held <= 4
    assert clock.now() > expires_at


def test_confirm_and_the_expiry_job_at_the_same_moment_never_deadlock(pg_db_url, frozen_clock):
    """Both take the departure's lock before the booking's (as cancellations and payments do),
    so whichever comes second waits, then finds the world moved on."""
    from backend.scheduler.runner import execute

    outcomes: list[str] = []
    for _ in range(8):
        truncate_pg(pg_db_url)  # a fresh offer each round
        dep_id, waiting_id, expires_at = _offer_on_a_full_departure(pg_db_url)
        frozen_clock.at = expires_at + timedelta(microseconds=1)  # the offer's last moment
        start = threading.Barrier(2)

        def confirm(start: threading.Barrier = start, waiting_id: str = waiting_id) -> str:
            start.wait()
            try:
                with transaction(pg_db_url) as s:
                    waitlist.accept_offer(s, s.get(Booking, waiting_id), SYSTEM)
                return "confirmed"
            except DomainError as exc:
                return f"refused: {exc}"

        def expiry_job(start: threading.Barrier = start, waiting_id: str = waiting_id) -> str:
            start.wait()
            return execute("offer-expiry", waiting_id, url=pg_db_url)

        with ThreadPoolExecutor(max_workers=2) as pool:
            first, second = pool.submit(confirm), pool.submit(expiry_job)
            results = (first.result(timeout=60), second.result(timeout=60))
        outcomes.append(results[0])
        assert "deadlock" not in " ".join(results).lower(), results
        with transaction(pg_db_url) as s:
            assert s.get(Booking, waiting_id).status == BookingStatus.EXPIRED
            counts = inventory.seat_counts(s, s.get(Departure, dep_id))
            assert counts.confirmed + counts.held <= 4
    assert all(o.startswith("refused") for o in outcomes)
