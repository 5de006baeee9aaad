"""Scheduler benchmark on PostgreSQL: 100,000 timers.

Prints, with ratios against baselines measured in the same run (the machine is shared and
noisy; ratios travel better than absolute numbers):

- reconciliation of 100,000 wanted jobs into an empty job store (a cold start), and again
  when the store is already in step (a warm restart), against the bare query that computes
  what is wanted, and against adding the same jobs one `add_job` at a time;
- memory: Python's peak allocation during a cold reconciliation, the process's peak RSS,
  and the job store's size on disk;
- lateness: how late timers fire (submitted to the pool, and handler finished) for a burst of
  1,000 hold expiries due within 20 seconds on 50 departures (and how long 1,000 new
  holds take to become jobs), first with a near-empty store,
  then with 100,000 other jobs in the store and 4 other processes holding seats, at a
  steady 40 a second and flat out (2 cores: flat out saturates the machine).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import statistics
import time
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED
from benchdb import URL, reset_database
from sqlalchemy import create_engine, insert, text

from backend import clock
from backend.db import dispose_engines, transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Contact, Departure, Hold, Product, TimerTouch
from backend.scheduler import runner
from backend.scheduler.kinds import timer_specs
from backend.scheduler.service import TimerService
from backend.services import bookings, contacts

JOBS = int(os.environ.get("BENCH_JOBS", "100000"))
BURST = int(os.environ.get("BENCH_BURST", "1000"))
BURST_SECONDS = float(os.environ.get("BENCH_BURST_SECONDS", "20"))
BURST_DEPARTURES = 50
PACE = float(os.environ.get("BENCH_LOAD_PACE", "40"))  # holds per second by the writers


def world(departures: int = 60) -> tuple[list[str], str]:
    """A product, departures of ample capacity and a customer: (departure ids, contact id)."""
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
        ids = []
        for i in range(departures):
            dep = Departure(
                product_id=product.id,
                start_date=date(2031, 1, 1) + timedelta(days=i),
                end_date=date(2031, 1, 5) + timedelta(days=i),
                capacity=10_000_000,
            )
            s.add(dep)
            s.flush()
            ids.append(dep.id)
        contact = contacts.get_or_create_contact(s, "+61400000001", name="Bench Customer")
        s.flush()
        return ids, contact.id


def insert_holds(
    departure_ids: list[str], contact_id: str, expiries: list[datetime], *, touched: bool
) -> None:
    """HELD bookings with active holds, written in bulk (a fixture, not the code under test),
    spread over the departures; `touched`: with the touches a service would have written."""
    now = clock.now()
    booking_rows: list[dict[str, Any]] = []
    hold_rows: list[dict[str, Any]] = []
    touch_rows: list[dict[str, Any]] = []
    for n, expires_at in enumerate(expiries):
        booking_id = str(uuid.uuid4())
        ref = f"BEN-{uuid.uuid4().hex[:12].upper()}"
        departure_id = departure_ids[n % len(departure_ids)]
        booking_rows.append(
            {
                "id": booking_id,
                "reference": ref,
                "ref_key": ref.replace("-", ""),
                "contact_id": contact_id,
                "departure_id": departure_id,
                "party_size": 1,
                "status": "HELD",
                "payment_status": "UNPAID",
                "currency": "USD",
                "price_per_person_minor": 100_00,
                "discount_minor": 0,
                "total_minor": 100_00,
                "deposit_minor": 30_00,
                "paid_minor": 0,
                "balance_due_date": date(2030, 12, 1),
                "created_at": now,
            }
        )
        hold_rows.append(
            {
                "id": str(uuid.uuid4()),
                "booking_id": booking_id,
                "departure_id": departure_id,
                "seats": 1,
                "status": "ACTIVE",
                "expires_at": expires_at,
                "created_at": now,
            }
        )
        touch_rows.append({"object_type": "BOOKING", "object_id": booking_id, "touched_at": now})
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
    """When each timer's handler started and finished, against when it was due."""

    def __init__(self, service: TimerService, due: dict[str, datetime]) -> None:
        self.started: list[float] = []
        self.finished: list[float] = []
        self.due = due
        service.scheduler.add_listener(self._on_done, EVENT_JOB_EXECUTED)
        self._execute = runner.execute
        runner.execute = self._timed_execute  # run_timer looks it up at each call

    def _timed_execute(self, kind: str, subject_id: str, *, url: str | None = None) -> str:
        if subject_id in self.due:
            self.started.append((datetime.now(UTC) - self.due[subject_id]).total_seconds())
        return self._execute(kind, subject_id, url=url)

    def _on_done(self, event: Any) -> None:
        if event.jobstore == "default":
            self.finished.append((datetime.now(UTC) - event.scheduled_run_time).total_seconds())

    def close(self) -> None:
        runner.execute = self._execute


def writer(n: int, departures: list[str], stop: Any, writes: Any, pace: float | None) -> None:
    """Hold seats one after another until stopped (`pace`: holds per second for all four)."""
    dispose_engines()  # a forked child must not share the parent's connections
    with transaction(URL) as s:
        who_id = contacts.get_or_create_contact(s, f"+614100{n:05d}").id
    done = 0
    while not stop.is_set():
        with transaction(URL) as s:
            bookings.hold_new_booking(
                s,
                contact=s.get(Contact, who_id),
                departure_id=departures[(n + done) % len(departures)],
                party_size=1,
                actor=SYSTEM,
                hold_for=timedelta(days=30),
            )
        done += 1
        with writes.get_lock():
            writes.value += 1
        if pace:
            time.sleep(4 / pace)


async def burst(
    service: TimerService, deps: list[str], contact: str, load: bool, pace: float | None = None
) -> dict[str, float]:
    """BURST holds due within BURST_SECONDS; with `load`, 4 threads hold seats on other
    departures meanwhile: `pace` holds per second in all, or as fast as they can."""
    # The writers are other processes, as the action server and web workers are in life.
    stop = multiprocessing.Event()
    writes = multiprocessing.Value("i", 0)
    writers = [
        multiprocessing.Process(
            target=writer, args=(n, deps[BURST_DEPARTURES:], stop, writes, pace)
        )
        for n in range(4 if load else 0)
    ]
    for process in writers:
        process.start()
    # Due from 30 s on: time for the drain to turn the 1,000 changes into jobs first (in life
    # a hold is written a day before it expires); how long that took is reported apart.
    base = clock.now() + timedelta(seconds=30)
    expiries = [base + timedelta(seconds=BURST_SECONDS * i / BURST) for i in range(BURST)]
    written = time.perf_counter()
    booking_ids = await asyncio.to_thread(
        insert_holds, deps[:BURST_DEPARTURES], contact, expiries, touched=True
    )
    probe = LatenessProbe(service, dict(zip(booking_ids, expiries, strict=True)))
    wanted_ids = [f"hold-expiry:{b}" for b in booking_ids]
    while len(await asyncio.to_thread(service.store.run_times, wanted_ids)) < BURST:
        await asyncio.sleep(0.05)
    drained_in = time.perf_counter() - written
    started = time.perf_counter()
    while len(probe.finished) < BURST and time.perf_counter() - started < 180:
        await asyncio.sleep(0.2)
    stop.set()
    for process in writers:
        process.join()
    probe.close()
    s, f = probe.started, probe.finished
    return {
        "fired": len(f),
        "start_p50": statistics.median(s),
        "start_p95": pct(s, 0.95),
        "start_max": max(s),
        "done_p50": statistics.median(f),
        "done_p95": pct(f, 0.95),
        "done_max": max(f),
        "load_writes": writes.value,
        "drained_in": drained_in,
    }


def print_lateness(name: str, r: dict[str, float]) -> None:
    print(
        f"    {name:34s} fired {r['fired']:>5.0f}  handler started p50 {r['start_p50']:.3f} "
        f"p95 {r['start_p95']:.3f} max {r['start_max']:.3f}  done p50 "
        f"{r['done_p50']:.3f} p95 {r['done_p95']:.3f} max {r['done_max']:.3f}"
    )


async def main() -> None:
    print(f"scheduler bench on {URL.split('@')[-1]}: {JOBS:,} timers, bursts of {BURST:,}")
    reset_database()
    deps, contact = world()
    loop = asyncio.get_running_loop()
    engine = create_engine(URL)

    # -- lateness with a near-empty store ---------------------------------------------------------
    service = TimerService(url=URL, event_loop=loop)
    service.start()
    idle = await burst(service, deps, contact, load=False)
    service.shutdown()
    await asyncio.sleep(0.2)

    # -- 100,000 timers ---------------------------------------------------------------------------
    now = clock.now()
    expiries = [now + timedelta(days=1, seconds=i * 25) for i in range(JOBS)]  # ~29 days
    started = time.perf_counter()
    insert_holds(deps[:BURST_DEPARTURES], contact, expiries, touched=False)
    print(f"  fixture: {JOBS:,} held bookings written in {time.perf_counter() - started:.1f}s")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM apscheduler_jobs"))
    base_query = min(wanted_query_seconds() for _ in range(3))

    service = TimerService(url=URL, event_loop=loop)
    cold = service.start(paused=True, maintenance=False)
    warm = min((service.reconcile() for _ in range(2)), key=lambda r: r.seconds)
    with engine.connect() as conn:
        store_bytes = conn.scalar(text("SELECT pg_total_relation_size('apscheduler_jobs')"))
        avg_state = conn.scalar(text("SELECT avg(length(job_state)) FROM apscheduler_jobs"))

    # Memory, in a second cold pass (tracemalloc slows allocation, so not in the timed one).
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM apscheduler_jobs"))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    service.reconcile()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    # One add_job per timer, the plain API, timed on a sample and scaled.
    sample = 2000
    one_by_one = time.perf_counter()
    for i in range(sample):
        service.schedule("bench-sample", str(i), now + timedelta(days=40))
    one_by_one = (time.perf_counter() - one_by_one) / sample * JOBS
    service.store.delete_jobs([f"bench-sample:{i}" for i in range(sample)])

    warm_changes = warm.added + warm.updated + warm.removed
    print(f"  wanted-set query alone (baseline):       {base_query:7.2f}s")
    print(
        f"  cold reconcile ({cold.added:,} added):        {cold.seconds:7.2f}s"
        f"  = {cold.seconds / base_query:5.1f}x the query"
    )
    print(
        f"  warm reconcile (in step, {warm_changes} changes):     {warm.seconds:7.2f}s"
        f"  = {warm.seconds / base_query:5.1f}x the query"
    )
    print(
        f"  one add_job per timer (from {sample:,}, scaled): {one_by_one:7.1f}s"
        f"  = {one_by_one / cold.seconds:5.1f}x the bulk cold reconcile"
    )
    print(
        f"  memory: Python peak during a cold reconcile {peak / 2**20:.0f} MiB; "
        f"process peak RSS {rss_after / 1024:.0f} MiB (+{(rss_after - rss_before) / 1024:.0f}); "
        f"job store {store_bytes / 2**20:.0f} MiB on disk, {avg_state:.0f} bytes per job"
    )
    engine.dispose()

    service.scheduler.add_job(
        service.drain_touches,
        "interval",
        seconds=1,
        jobstore="internal",
        executor="internal",
        id="internal:drain",
    )
    service.scheduler.resume()
    paced = await burst(service, deps, contact, load=True, pace=PACE)
    loaded = await burst(service, deps, contact, load=True)
    service.shutdown()
    await asyncio.sleep(0.2)

    print(
        f"  lateness, {BURST:,} hold expiries due within {BURST_SECONDS:g} s"
        f" ({BURST / BURST_SECONDS:.0f}/s; seconds late):"
    )
    print_lateness("near-empty store", idle)
    print_lateness(f"{JOBS // 1000}k stored + writers at {PACE:g}/s", paced)
    print_lateness(f"{JOBS // 1000}k stored + writers flat out", loaded)
    print(
        f"    changes to jobs: the {BURST:,} new holds were jobs in the store after "
        f"{idle['drained_in']:.2f}s (near-empty), {paced['drained_in']:.2f}s (paced load) and "
        f"{loaded['drained_in']:.2f}s (flat out)"
    )
    print(
        f"    load: the writers held {paced['load_writes']:,.0f} (paced) and "
        f"{loaded['load_writes']:,.0f} (flat out) seats meanwhile; handler-done p95 against "
        f"near-empty: {paced['done_p95'] / max(idle['done_p95'], 1e-3):.1f}x paced, "
        f"{loaded['done_p95'] / max(idle['done_p95'], 1e-3):.1f}x flat out"
    )


if __name__ == "__main__":
    asyncio.run(main())
