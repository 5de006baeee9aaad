"""The timer service: an APScheduler AsyncIOScheduler whose jobs mirror what the data says.

- Jobs live in the database (SQLAlchemyJobStore, table `apscheduler_jobs`) with stable ids
  `<kind>:<subject id>`, added with `replace_existing=True`.
- `misfire_grace_time=None`: a job found late (the service was down) still runs, however late;
  the handler decides whether a late notice is still worth sending (`stale_after`).
  `coalesce=True`: a job missed several times runs once. `max_instances=1`.
- At start it reconciles (creates what the data needs, removes what no longer applies), then
  keeps up with changes by draining `timer_touches`, and reconciles again every few minutes
  as a safety net.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers import base as apscheduler_base
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, create_engine, delete, select
from sqlalchemy.engine import make_url

from backend import clock
from backend.config import Settings, get_settings
from backend.db import get_engine, normalise_url, read_transaction, transaction
from backend.models import TimerTouch
from backend.scheduler import runner
from backend.scheduler.kinds import job_id, timer_specs
from backend.scheduler.store import TimerJobStore
from backend.services import staff_auth, travellers

logger = logging.getLogger(__name__)

JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
MAX_RETRY_DELAY = timedelta(hours=1)
CLOCK_STEP_BACK = timedelta(seconds=2)  # less than this is jitter between threads
BULK_CHANGE = 1000  # this many job changes at once: refresh the store's planner statistics


def _job_store_engine(url: str) -> Engine | None:
    """On PostgreSQL, the job store gets its own connections with `synchronous_commit=off`.

    APScheduler deletes each job in its own transaction as it fires; waiting for the WAL
    flush every time made the firing loop the bottleneck (about 7 ms a job here). Losing the
    last job-store writes in a crash is harmless: the store is rebuilt from the data at
    start-up, and a timer that fires again finds nothing to do. SQLite shares the service's
    engine (one writer at a time)."""
    if make_url(url).get_backend_name() != "postgresql":
        return None
    return create_engine(
        url,
        pool_size=5,
        max_overflow=5,
        # No pre-ping: it would double the round trips of every job fired. A dropped
        # connection fails one pass; SQLAlchemy discards it and the watchdog's next wake-up
        # runs on a fresh one.
        connect_args={"options": "-c synchronous_commit=off"},
    )


class _InternalOverlapIsNormal(logging.Filter):
    """A maintenance pass still running when its next turn comes (a big drain) is normal;
    APScheduler would log it as a warning every second."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not ("internal:" in message and "maximum number of running instances" in message)


logging.getLogger("apscheduler.scheduler").addFilter(_InternalOverlapIsNormal())


class _ProjectClockDatetime(datetime):
    """APScheduler asks `datetime.now(tz)` when it decides what is due and how long to sleep.
    Answer with the project's clock, so that when the tests or the demo move time (the
    shared clock file), timers fire when the product thinks they are due. In production the
    project's clock is the machine's, so nothing changes."""

    @classmethod
    def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
        moment = clock.now()
        return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)


apscheduler_base.datetime = _ProjectClockDatetime


class _CatchUpOnce(IntervalTrigger):
    """An interval whose runs missed while the clock jumped forward are one run, now.

    APScheduler lists every missed run before coalescing them, one interval at a time: the
    touches' drain runs each second, so a clock moved a month ahead (the tests' and the demo's
    shared clock, a machine resumed from sleep) would be 2.6 million run times built in
    memory before anything ran."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        upcoming = super().get_next_fire_time(previous_fire_time, now)
        if previous_fire_time is not None and upcoming is not None and upcoming < now:
            return now
        return upcoming


# job id → (kind, subject id, run at)
WantedJobs = dict[str, tuple[str, str, datetime]]


@dataclass(frozen=True)
class SyncReport:
    wanted: int
    existing: int
    added: int
    updated: int
    removed: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"{self.wanted} wanted, {self.existing} in the store: +{self.added} "
            f"~{self.updated} -{self.removed} in {self.seconds:.2f}s"
        )


class TimerService:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        url: str | None = None,
        event_loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.url = normalise_url(url or self.settings.database_url)
        self._store_engine = _job_store_engine(self.url)
        self.store = TimerJobStore(engine=self._store_engine or get_engine(self.url))
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": self.store, "internal": MemoryJobStore()},
            executors={
                "default": ThreadPoolExecutor(self.settings.scheduler_workers),
                "internal": ThreadPoolExecutor(1),
            },
            job_defaults=JOB_DEFAULTS,
            timezone=UTC,
            event_loop=event_loop,
        )
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.retrying: dict[str, int] = {}
        self._last_nudge: datetime | None = None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, *, paused: bool = False, maintenance: bool = True) -> SyncReport:
        """Start paused, reconcile with the data, then run. Call from the event loop's thread.

        `paused=True` keeps APScheduler from firing anything on its own (tests drive time with
        `run_due`)."""
        runner.activate(self)
        self.scheduler.start(paused=True)
        report = self.reconcile()
        if maintenance:
            # Intervals start from the project's clock (APScheduler would take the machine's).
            self.scheduler.add_job(
                self.drain_touches,
                _CatchUpOnce(seconds=self.settings.scheduler_drain_seconds, start_date=clock.now()),
                id="internal:drain-touches",
                name="internal:drain-touches",
                jobstore="internal",
                executor="internal",
            )
            self.scheduler.add_job(
                self.reconcile,
                _CatchUpOnce(
                    minutes=self.settings.scheduler_reconcile_minutes, start_date=clock.now()
                ),
                id="internal:reconcile",
                name="internal:reconcile",
                jobstore="internal",
                executor="internal",
            )
            self.scheduler.add_job(
                self.housekeeping,
                _CatchUpOnce(hours=1, start_date=clock.now()),
                id="internal:housekeeping",
                name="internal:housekeeping",
                jobstore="internal",
                executor="internal",
            )
        if not paused:
            self.scheduler.resume()
        return report

    def shutdown(self) -> None:
        if runner.active_service() is self:
            runner.activate(None)
        if self.scheduler.running:
            # Timers already running finish in their threads; each is its own transaction.
            self.scheduler.shutdown(wait=False)
        if self._store_engine is not None:
            self._store_engine.dispose()

    def nudge(self) -> None:
        """Make APScheduler look at its jobs again. If a processing pass fails half-way (a
        database error), APScheduler sets no next wake-up and would sleep until the next
        `add_job`; the runner calls this on every leadership check as a watchdog.

        A clock that moved back (the shared clock of the tests and the demo, or a machine
        clock stepped back) leaves the maintenance jobs' next runs in what is now the future:
        they are brought back to now, so changes keep becoming timers."""
        if self.scheduler.state != STATE_RUNNING:
            return
        now = clock.now()
        if self._last_nudge is not None and now < self._last_nudge - CLOCK_STEP_BACK:
            logger.warning("scheduler: the clock moved back by %s", self._last_nudge - now)
            for job in self.scheduler.get_jobs(jobstore="internal"):
                job.modify(next_run_time=now)
        self._last_nudge = now
        self.scheduler.wakeup()

    # -- keeping the jobs in line with the data -----------------------------------------------
    def reconcile(self) -> SyncReport:
        """Every job the data calls for exists at the right time; every other timer job goes."""
        started = time.perf_counter()
        wanted: WantedJobs = {}
        with read_transaction(self.url) as session:
            for spec in timer_specs(self.settings):
                for subject_id, run_at in spec.wanted(session, None):
                    wanted[job_id(spec.kind, subject_id)] = (spec.kind, subject_id, run_at)
        existing = self.store.run_times()
        report = self._apply(wanted, existing, started)
        logger.info("scheduler reconciled: %s", report)
        return report

    def housekeeping(self) -> int:
        """Rows kept only for a while: stale sign-in limits, long-expired codes; travellers'
        papers past their retention (TRAVELLER_PURGE_DAYS after the trip)."""
        with transaction(self.url) as session:
            forgotten = staff_auth.forget_stale(session)
        with transaction(self.url) as session:
            purged = travellers.purge_due(session)
        logger.info(
            "housekeeping: %d stale rows removed, %d travellers' papers purged", forgotten, purged
        )
        return forgotten + purged

    def drain_touches(self, limit: int = 5000) -> int:
        """Re-evaluate the timers of the objects that changed since the last drain."""
        started = time.perf_counter()
        with read_transaction(self.url) as session:
            touches = session.execute(
                select(TimerTouch.id, TimerTouch.object_type, TimerTouch.object_id)
                .order_by(TimerTouch.id)
                .limit(limit)
            ).all()
            if not touches:
                return 0
            by_type: dict[str, set[str]] = defaultdict(set)
            for _, object_type, object_id in touches:
                by_type[object_type].add(object_id)
            wanted: WantedJobs = {}
            scope: set[str] = set()
            for spec in timer_specs(self.settings):
                subjects = sorted(by_type.get(str(spec.subject), ()))
                if not subjects:
                    continue
                scope.update(job_id(spec.kind, s) for s in subjects)
                for subject_id, run_at in spec.wanted(session, subjects):
                    wanted[job_id(spec.kind, subject_id)] = (spec.kind, subject_id, run_at)
        self._apply(wanted, self.store.run_times(scope), started)
        # Only now that the jobs are written: a crash before this line re-drains, harmlessly.
        with transaction(self.url) as session:
            session.execute(delete(TimerTouch).where(TimerTouch.id.in_([t[0] for t in touches])))
        return len(touches)

    def _apply(
        self, wanted: WantedJobs, existing: dict[str, float | None], started: float
    ) -> SyncReport:
        remove = [
            jid
            for jid in existing
            if jid not in wanted and not jid.startswith("internal:") and jid not in self.retrying
        ]
        add: list[tuple[str, str, datetime]] = []
        updated = 0
        for jid, (kind, subject_id, run_at) in wanted.items():
            current = existing.get(jid, -1.0)
            if jid in self.retrying and jid not in existing:
                continue  # its retry is being scheduled; do not reset its back-off
            if jid not in existing:
                add.append((kind, subject_id, run_at))
            elif jid not in self.retrying and (
                current is None or abs(current - run_at.timestamp()) > 0.001
            ):
                add.append((kind, subject_id, run_at))
                updated += 1
        if self.scheduler.state == STATE_RUNNING:
            # New ids go in bulk (nothing can be processing a job that did not exist); moving
            # or removing a job goes through APScheduler's lock, as it may be firing right now.
            fresh = [(k, s, at) for k, s, at in add if job_id(k, s) not in existing]
            self.store.put_jobs([self._job(k, s, at) for k, s, at in fresh])
            for jid in remove:
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(jid, jobstore="default")
            for kind, subject_id, run_at in add:
                if job_id(kind, subject_id) in existing:
                    self.schedule(kind, subject_id, run_at)
            if fresh:
                self.scheduler.wakeup()
        else:
            # Paused (start-up): nothing processes jobs, so bulk writes are safe and fast.
            self.store.delete_jobs(remove)
            self.store.put_jobs([self._job(k, s, at) for k, s, at in add])
        if len(add) + len(remove) >= BULK_CHANGE:
            self.store.refresh_statistics()
        return SyncReport(
            wanted=len(wanted),
            existing=len(existing),
            added=len(add) - updated,
            updated=updated,
            removed=len(remove),
            seconds=time.perf_counter() - started,
        )

    def _job(self, kind: str, subject_id: str, run_at: datetime) -> dict[str, Any]:
        """A timer job in APScheduler's stored form (what `Job.__getstate__` returns), built
        directly: constructing 100,000 `Job` objects spends most of its time re-inspecting
        the same function's signature. `schedule` below makes the same job the public way."""
        jid = job_id(kind, subject_id)
        return {
            "version": 1,
            "id": jid,
            "func": runner.JOB_FUNCTION,
            "trigger": DateTrigger(run_at, timezone=UTC),
            "executor": "default",
            "args": (kind, subject_id),
            "kwargs": {},
            "name": jid,
            "next_run_time": run_at,
            **JOB_DEFAULTS,
        }

    def schedule(self, kind: str, subject_id: str, run_at: datetime, attempt: int = 0) -> None:
        """Add or move one timer job (the public APScheduler API, safe while running)."""
        jid = job_id(kind, subject_id)
        self.scheduler.add_job(
            runner.JOB_FUNCTION,
            trigger=DateTrigger(run_at, timezone=UTC),
            args=(kind, subject_id),
            kwargs={"attempt": attempt} if attempt else {},
            id=jid,
            name=jid,
            jobstore="default",
            executor="default",
            replace_existing=True,
            **JOB_DEFAULTS,
        )

    # -- what the runner reports back ---------------------------------------------------------
    def retry_later(self, kind: str, subject_id: str, attempt: int) -> None:
        delay = min(timedelta(minutes=2 ** min(attempt, 10)), MAX_RETRY_DELAY)
        self.retrying[job_id(kind, subject_id)] = attempt
        self.schedule(kind, subject_id, clock.now() + delay, attempt)

    def timer_done(self, kind: str, subject_id: str, outcome: str) -> None:
        self.retrying.pop(job_id(kind, subject_id), None)

    def count(self, kind: str, outcome: str) -> None:
        self.outcomes[(kind, runner.outcome_category(outcome))] += 1

    # -- driving time by hand (tests, `tms timers run-due`) -----------------------------------
    def run_due(
        self, now: datetime | None = None, *, only: str | None = None, rounds: int = 20
    ) -> list[tuple[str, str]]:
        """Run, in this thread, every timer due at `now` (default: the clock's now), as the
        scheduler would: the job leaves the store, then runs. Timers the handlers create
        (the next waitlist offer, say) are picked up in the next round. `only`: job ids
        starting with this."""
        results: list[tuple[str, str]] = []
        for _ in range(rounds):
            self.drain_touches()
            due = [
                job
                for job in self.store.get_due_jobs(now or clock.now())
                if only is None or job.id.startswith(only)
            ]
            if not due:
                break
            for job in due:
                if not self.store.take(job.id):
                    continue  # someone else took it
                results.append((job.id, job.func(*job.args, **job.kwargs)))
        self.drain_touches()
        return results
