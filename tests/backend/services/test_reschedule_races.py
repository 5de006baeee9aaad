"""On PostgreSQL (issue 27): date changes approved at the same moment into a departure with
fewer seats than they need never oversell; a move and a payment at the same moment both take
effect."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from threading import Barrier

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, PaymentStatus, RescheduleStatus
from backend.domain.errors import InventoryBusy, NotEnoughSeats
from backend.models import Booking, Departure, RescheduleRequest
from backend.services import bookings, inventory, payments, reschedules
from tests import factories


def test_concurrent_approvals_into_too_few_seats_never_oversell(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        product = factories.ebc(s)
        march = factories.departure(s, product, date(2025, 3, 15), capacity=16)
        april = factories.departure(s, product, date(2025, 4, 12), capacity=5)
        request_ids = []
        for _ in range(6):
            booking = factories.confirmed_booking(s, march, 2)
            request, _new = reschedules.request_reschedule(s, booking, april.id, SYSTEM)
            request_ids.append(request.id)
        april_id = april.id
    barrier = Barrier(len(request_ids))

    def approve(request_id: str) -> str:
        barrier.wait()
        try:
            with transaction(pg_db_url) as s:
                reschedules.approve(s, reschedules.get_request(s, request_id), SYSTEM)
            return "moved"
        except NotEnoughSeats:
            return "full"
        except InventoryBusy:
            return "busy"

    with ThreadPoolExecutor(max_workers=len(request_ids)) as pool:
        results = list(pool.map(approve, request_ids))
    assert results.count("moved") == 2  # 5 seats take two parties of 2, never three
    assert results.count("full") == 4
    with transaction(pg_db_url) as s:
        counts = inventory.seat_counts(s, s.get(Departure, april_id))
        assert counts.confirmed == 4 and counts.available == 1
        statuses = sorted(s.get(RescheduleRequest, i).status for i in request_ids)
        assert statuses.count(RescheduleStatus.APPROVED) == 2
        assert statuses.count(RescheduleStatus.REQUESTED) == 4  # still the rep's to decide


def test_a_move_and_a_payment_at_the_same_moment_both_take_effect(pg_db_url, frozen_clock):
    with transaction(pg_db_url) as s:
        product = factories.ebc(s)
        march = factories.departure(s, product, date(2025, 3, 15), capacity=8)
        april = factories.departure(s, product, date(2025, 4, 12), capacity=8)
        booking = bookings.hold_new_booking(
            s, contact=factories.contact(s), departure_id=march.id, party_size=2, actor=SYSTEM
        )
        request, _new = reschedules.request_reschedule(s, booking, april.id, SYSTEM)
        booking_id, request_id, deposit = booking.id, request.id, booking.deposit_minor
        march_id, april_id = march.id, april.id
    barrier = Barrier(2)

    def move() -> None:
        barrier.wait()
        with transaction(pg_db_url) as s:
            reschedules.approve(s, reschedules.get_request(s, request_id), SYSTEM)

    def pay() -> None:
        barrier.wait()
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

    with ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(move), pool.submit(pay)]:
            future.result()
    with transaction(pg_db_url) as s:
        booking = s.get(Booking, booking_id)
        assert booking.departure_id == april_id
        assert booking.status == BookingStatus.CONFIRMED
        assert booking.payment_status == PaymentStatus.DEPOSIT_PAID
        assert booking.paid_minor == deposit
        assert inventory.seat_counts(s, s.get(Departure, april_id)).available == 6
        assert inventory.seat_counts(s, s.get(Departure, march_id)).available == 8
