"""On PostgreSQL, concurrent attempts at the last seats never oversell."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.errors import InventoryBusy, NotEnoughSeats
from backend.models import Departure
from backend.services import bookings, contacts, inventory, references
from tests import factories


def test_fifty_concurrent_attempts_at_the_last_three_seats_hold_exactly_three(pg_db_url):
    with transaction(pg_db_url) as s:
        dep = factories.departure(s, factories.ebc(s), capacity=12)
        for size in (4, 3, 2):
            factories.confirmed_booking(s, dep, size)
        phones = [factories.contact(s).phone for _ in range(50)]
        dep_id = dep.id
    barrier = Barrier(50)

    def attempt(phone: str) -> str:
        barrier.wait()
        try:
            with transaction(pg_db_url) as s:
                contact = contacts.get_or_create_contact(s, phone)
                bookings.hold_new_booking(
                    s, contact=contact, departure_id=dep_id, party_size=1, actor=SYSTEM
                )
            return "held"
        except NotEnoughSeats as exc:
            return str(exc)
        except InventoryBusy:
            return "busy"

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(attempt, phones))
    assert results.count("held") == 3
    assert all(
        r == "Not enough seats: 1 requested, the departure is full" for r in results if r != "held"
    )
    with transaction(pg_db_url) as s:
        counts = inventory.seat_counts(s, s.get(Departure, dep_id))
        assert counts.confirmed + counts.held == 12
        assert counts.available == 0


def test_concurrent_reference_allocation_never_repeats_a_number(pg_db_url):
    barrier = Barrier(20)

    def take(_: int) -> list[int]:
        barrier.wait()
        got = []
        for _ in range(5):
            with transaction(pg_db_url) as s:
                got.append(references.next_sequence(s, "EBC2503"))
        return got

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = [n for batch in pool.map(take, range(20)) for n in batch]
    assert sorted(numbers) == list(range(1, 101))
