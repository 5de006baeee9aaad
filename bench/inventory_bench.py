"""Inventory benchmark on PostgreSQL: the cost of "lock, re-check, write" for holding seats.

Prints holds per second for one worker, for 8 workers contending on one departure, and for
8 workers on 8 departures, each as a ratio to the single-worker baseline measured in the same
run (the machine is shared and noisy; ratios travel better than absolute numbers). Also the
time to compute availability from the rows against reading a stored integer.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from benchdb import URL, reset_database
from sqlalchemy import select

from backend.db import dispose_engines, transaction
from backend.domain.actor import SYSTEM
from backend.models import Departure, Product
from backend.services import bookings, contacts, inventory

HOLDS_PER_WORKER = int(os.environ.get("BENCH_HOLDS", "60"))


def make_departures(code: str, n: int, capacity: int) -> list[str]:
    with transaction(URL) as s:
        product = Product(
            code=code,
            name="Bench Trek",
            short_name="Bench",
            days=5,
            price_per_person_minor=100_00,
            deposit_percent=30,
        )
        s.add(product)
        s.flush()
        ids = []
        for i in range(n):
            dep = Departure(
                product_id=product.id,
                start_date=date(2030, 1, 1) + timedelta(days=i),
                end_date=date(2030, 1, 5) + timedelta(days=i),
                capacity=capacity,
            )
            s.add(dep)
            s.flush()
            ids.append(dep.id)
        return ids


def hold_many(departure_id: str, worker: int, count: int) -> list[float]:
    latencies = []
    for i in range(count):
        started = time.perf_counter()
        with transaction(URL) as s:
            contact = contacts.get_or_create_contact(s, f"+614{worker:02d}{i:06d}")
            bookings.hold_new_booking(
                s, contact=contact, departure_id=departure_id, party_size=1, actor=SYSTEM
            )
        latencies.append(time.perf_counter() - started)
    return latencies


def run(departure_ids: list[str], workers: int) -> tuple[float, list[float]]:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(hold_many, departure_ids[w % len(departure_ids)], w, HOLDS_PER_WORKER)
            for w in range(workers)
        ]
        latencies = [x for f in futures for x in f.result()]
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def main() -> int:
    reset_database()
    big = 10_000
    single = make_departures("BNA", 1, big)
    one_for_all = make_departures("BNB", 1, big)
    spread = make_departures("BNC", 8, big)
    base_rate, base_lat = run(single, 1)
    hot_rate, hot_lat = run(one_for_all, 8)
    spread_rate, spread_lat = run(spread, 8)

    def p(lat: list[float], q: float) -> float:
        return statistics.quantiles(lat, n=100)[int(q) - 1] * 1000

    print(f"Inventory holds on PostgreSQL ({HOLDS_PER_WORKER} holds per worker)")
    print(f"{'scenario':<34}{'holds/s':>10}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for name, rate, lat in [
        ("1 worker, 1 departure (baseline)", base_rate, base_lat),
        ("8 workers, 1 departure (contended)", hot_rate, hot_lat),
        ("8 workers, 8 departures", spread_rate, spread_lat),
    ]:
        print(
            f"{name:<34}{rate:>10.1f}{rate / base_rate:>8.2f}{p(lat, 50):>9.1f}{p(lat, 99):>9.1f}"
        )

    with transaction(URL) as s:
        dep = s.get(Departure, one_for_all[0])
        n = 200
        started = time.perf_counter()
        for _ in range(n):
            inventory.seat_counts(s, dep)
        computed = (time.perf_counter() - started) / n
        started = time.perf_counter()
        for _ in range(n):
            s.scalar(select(Departure.capacity).where(Departure.id == dep.id))
        stored = (time.perf_counter() - started) / n
        total = inventory.seat_counts(s, dep)
    print(
        f"\nAvailability from {total.held} hold rows: {computed * 1000:.2f} ms "
        f"vs a stored integer {stored * 1000:.2f} ms (ratio {computed / stored:.1f}x)"
    )
    dispose_engines()
    return 0


if __name__ == "__main__":
    sys.exit(main())
