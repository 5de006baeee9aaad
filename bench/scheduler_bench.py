"""Scheduler benchmark on PostgreSQL: 100,000 timers.

Prints, with ratios against baselines measured in the same run (the machine is shared and
noisy; ratios travel better than absolute numbers):

- reconciliation of 100,000 wanted jobs into an empty job store (a cold start), and again
  when the store is already in step (a warm restart), against the bare query that computes
  what is wanted, and against adding the same jobs one `add_job` at a time;
- memory: Python's peak allocation during the cold reconciliation, the process's peak RSS,
  and the job store's size on disk;
- lateness: how late timers fire (submitted to the pool, and handler finished) for a burst of
  1,000 hold expiries due within 5 seconds, first on an idle machine, then with 100,000 other
  jobs in the store and 4 threads writing holds at full speed.
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import threading
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED
from sqlalchemy import create_engine, insert, text

from backend import clock, migrate
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Contact, Departure, Hold, Product, TimerTouch
from backend.scheduler.kinds import timer_specs
from backend.scheduler.service import TimerService
from backend.services import bookings, contacts

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/tms_bench")
JOBS = int(os.environ.get("BENCH_JOBS", "100000"))
BURST = int(os.environ.get("BENCH_BURST", "1000"))


def reset() -> None:
    engine = create_engine(URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(URL)


def world() -> tuple[str, str]:
    """A product, one big departure and a customer; returns (departure id, contact id)."""
    with transaction(URL) as s:
        product = Product(
            code="BEN",
            name="Bench Trek",
            short_name="Bench",
            days=5,
            price_per_person_minor=100_00,
            deposit_percent=30,
        )
        s.add(product)
        s.flush()
        dep = Departure(
            product_id=product.id,
            start_date=date(2031, 1, 1),
            end_date=date(2031, 1, 5),
            capacity=10_000_000,
        )
        s.add(dep)
        contact = contacts.get_or_create_contact(s, "+61400000001", name="Bench Customer")
        s.flush()
        return dep.id, contact.id


def insert_holds(
    departure_id: str, contact_id: str, expiries: list[datetime], *, touched: bool
) -> list[str]:
    """HELD bookings with active holds, written in bulk (a fixture, not the code under test)."""
    now = clock.now()
    booking_rows, hold_rows, touch_rows = [], [], []
    for expires_at in expiries:
        booking_id = str(uuid.uuid4())
        ref = f"BEN-{uuid.uuid4().hex[:12].upper()}"
        booking_rows.append(
            dict(
                id=booking_id,
                reference=ref,
                ref_key=ref.replace("-", ""),
                contact_id=contact_id,
                departure_id=departure_id,
                party_size=1,
                status="HELD",
                payment_status="UNPAID",
                currency="USD",
                price_per_person_minor=100_00,
                discount_minor=0,
                total_minor=100_00,
                deposit_minor=30_00,
                paid_minor=0,
                balance_due_date=date(2030, 12, 1),
                created_at=now,
            )
        )
        hold_rows.append(
            dict(
                id=str(uuid.uuid4()),
                booking_id=booking_id,
                departure_id=departure_id,
                seats=1,
                status="ACTIVE",
                expires_at=expires_at,
                created_at=now,
            )
        )
        touch_rows.append(dict(object_type="BOOKING", object_id=booking_id, touched_at=now))
    with transaction(URL) as s:
        for start in range(0, len(booking_rows), 5000):
            s.execute(insert(Booking), booking_rows[start : start + 5000])
            s.execute(insert(Hold), hold_rows[start : start + 5000])
            if touched:
                s.execute(insert(TimerTouch), touch_rows[start : start + 5000])
    return [row["id"] for row in booking_rows]


def wanted_query_seconds() -> float:
    started = time.perf_counter()
    with transaction(URL) as s:
        for spec in timer_specs():
            for _ in spec.wanted(s, None):
                pass
    return time.perf_counter() - started


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


class LatenessProbe:
    def __init__(self, service: TimerService) -> None:
        self.submitted: list[float] = []
        self.finished: list[float] = []
        service.scheduler.add_listener(self._on_submit, EVENT_JOB_SUBMITTED)
        service.scheduler.add_listener(self._on_done, EVENT_JOB_EXECUTED)

    def _on_submit(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.jobstore == "default":
            due = event.scheduled_run_times[-1]
            self.submitted.append((datetime.now(UTC) - due).total_seconds())

    def _on_done(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.jobstore == "default":
            self.finished.append((datetime.now(UTC) - event.scheduled_run_time).total_seconds())


async def burst(service: TimerService, dep: str, contact: str, load: bool) -> dict[str, float]:
    probe = LatenessProbe(service)
    stop = threading.Event()
    writes = [0]

    def writer() -> None:
        with transaction(URL) as s:
            who = contacts.get_or_create_contact(s, f"+6141{uuid.uuid4().int % 10**7:07d}")
            who_id = who.id
        while not stop.is_set():
            with transaction(URL) as s:
                bookings.hold_new_booking(
                    s,
                    contact=s.get(Contact, who_id),
                    departure_id=dep,
                    party_size=1,
                    actor=SYSTEM,
                    hold_for=timedelta(days=30),
                )
            writes[0] += 1

    threads = [threading.Thread(target=writer) for _ in range(4 if load else 0)]
    for thread in threads:
        thread.start()
    base = clock.now() + timedelta(seconds=3)
    expiries = [base + timedelta(seconds=5 * i / BURST) for i in range(BURST)]
    started = time.perf_counter()
    await asyncio.to_thread(insert_holds, dep, contact, expiries, touched=True)
    while len(probe.finished) < BURST and time.perf_counter() - started < 120:
        await asyncio.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join()
    s, f = probe.submitted, probe.finished
    return {
        "fired": len(f),
        "submit_p50": statistics.median(s),
        "submit_p95": pct(s, 0.95),
        "submit_max": max(s),
        "done_p50": statistics.median(f),
        "done_p95": pct(f, 0.95),
        "done_max": max(f),
        "load_writes": writes[0],
    }


async def main() -> None:
    print(f"scheduler bench on {URL.split('@')[-1]}: {JOBS:,} timers, bursts of {BURST:,}")
    reset()
    dep, contact = world()
    loop = asyncio.get_running_loop()

    # -- idle lateness first, on a near-empty store ---------------------------------------------
    service = TimerService(url=URL, event_loop=loop)
    service.start()
    idle = await burst(service, dep, contact, load=False)
    service.shutdown()
    await asyncio.sleep(0.2)

    # -- 100,000 timers ---------------------------------------------------------------------------
    now = clock.now()
    expiries = [now + timedelta(days=1, seconds=i * 25) for i in range(JOBS)]  # ~29 days
    started = time.perf_counter()
    insert_holds(dep, contact, expiries, touched=False)
    print(f"  fixture: {JOBS:,} held bookings written in {time.perf_counter() - started:.1f}s")
    with create_engine(URL).begin() as conn:
        conn.execute(text("DELETE FROM apscheduler_jobs"))
    base_query = min(wanted_query_seconds() for _ in range(3))

    service = TimerService(url=URL, event_loop=loop)
    tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cold = service.start(paused=True, maintenance=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    warm = service.reconcile()
    warm2 = service.reconcile()
    with create_engine(URL).connect() as conn:
        store_bytes = conn.execute(
            text("SELECT pg_total_relation_size('apscheduler_jobs')")
        ).scalar()
        avg_state = conn.execute(
            text("SELECT avg(length(job_state)) FROM apscheduler_jobs")
        ).scalar()

    # One add_job per timer, the plain API, timed on a sample and scaled.
    sample = 2000
    one_by_one = time.perf_counter()
    for i in range(sample):
        service.schedule("bench-sample", str(i), now + timedelta(days=40))
    one_by_one = (time.perf_counter() - one_by_one) / sample * JOBS
    service.store.delete_jobs([f"bench-sample:{i}" for i in range(sample)])

    print(f"  wanted-set query alone (baseline):   {base_query:7.2f}s")
    print(
        f"  cold reconcile ({cold.added:,} added):      {cold.seconds:7.2f}s  "
        f"= {cold.seconds / base_query:5.1f}x the query"
    )
    print(
        f"  warm reconcile (in step, {warm.added + warm.updated + warm.removed} changes): "
        f"{min(warm.seconds, warm2.seconds):7.2f}s  = "
        f"{min(warm.seconds, warm2.seconds) / base_query:5.1f}x the query"
    )
    print(
        f"  one add_job per timer (scaled from {sample:,}): {one_by_one:7.1f}s  "
        f"= {one_by_one / cold.seconds:5.1f}x the bulk cold reconcile"
    )
    print(
        f"  memory: Python peak during cold reconcile {peak / 2**20:.0f} MiB; "
        f"process peak RSS {rss_after / 1024:.0f} MiB (+{(rss_after - rss_before) / 1024:.0f}); "
        f"job store {store_bytes / 2**20:.0f} MiB on disk, {avg_state:.0f} bytes per job"
    )

    service.scheduler.add_job(
        service.drain_touches,
        "interval",
        seconds=1,
        jobstore="internal",
        executor="internal",
        id="internal:drain",
    )
    service.scheduler.resume()
    loaded = await burst(service, dep, contact, load=True)
    service.shutdown()
    await asyncio.sleep(0.2)

    print(f"  lateness, {BURST:,} hold expiries due within 5 s (seconds late):")
    for name, r in (("idle", idle), (f"loaded ({JOBS:,} in store + writers)", loaded)):
        print(
            f"    {name:38s} fired {r['fired']:>5}  submitted p50 {r['submit_p50']:.3f} "
            f"p95 {r['submit_p95']:.3f} max {r['submit_max']:.3f}  handler done p50 "
            f"{r['done_p50']:.3f} p95 {r['done_p95']:.3f} max {r['done_max']:.3f}"
        )
    print(
        f"    load: {loaded['load_writes']:,} holds written by 4 threads meanwhile; "
        f"loaded/idle p95 (done) = {loaded['done_p95'] / max(idle['done_p95'], 1e-3):.1f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())
