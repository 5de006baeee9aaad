"""The job store holds APScheduler's own job format, with the misfire policy chosen on purpose."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import SYSTEM
from backend.scheduler.service import TimerService
from backend.services import bookings
from tests import factories

pytestmark = pytest.mark.asyncio


async def test_bulk_written_jobs_equal_the_ones_apscheduler_writes_itself(
    db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    timers_service.start(paused=True, maintenance=False)
    run_at = frozen_clock.at + timedelta(hours=3)
    timers_service.schedule("hold-expiry", "booking-a", run_at)
    by_apscheduler = timers_service.store.lookup_job("hold-expiry:booking-a").__getstate__()
    timers_service.store.put_jobs([timers_service._job("hold-expiry", "booking-b", run_at)])
    by_bulk = timers_service.store.lookup_job("hold-expiry:booking-b").__getstate__()

    def comparable(state: dict) -> dict:  # type: ignore[type-arg]
        return {**state, "id": None, "name": None, "args": state["args"][:1], "trigger": None}

    assert comparable(by_bulk) == comparable(by_apscheduler)
    assert by_bulk["trigger"].run_date == by_apscheduler["trigger"].run_date == run_at
    # A late timer still runs (the handler judges staleness); missed runs collapse into one.
    assert (by_bulk["misfire_grace_time"], by_bulk["coalesce"], by_bulk["max_instances"]) == (
        None,
        True,
        1,
    )


async def test_a_timer_job_survives_in_the_database_table(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    dep = factories.departure(session, factories.ebc(session))
    booking = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=2, actor=SYSTEM
    )
    session.commit()
    timers_service.start(paused=True, maintenance=False)
    job = timers_service.store.lookup_job(f"hold-expiry:{booking.id}")
    assert job is not None
    assert job.func_ref == "backend.scheduler.runner:run_timer"
    assert job.args == ("hold-expiry", booking.id)
    assert job.next_run_time == frozen_clock.at + timedelta(hours=24)


async def test_a_timer_that_fires_early_is_moved_to_its_time_without_blocking(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    """The job came due before the data's time (the data moved it later): the job is put at
    the data's time, after the handler's transaction (on SQLite the job store would otherwise
    wait for the lock that very transaction holds)."""
    dep = factories.departure(session, factories.ebc(session))
    booking = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=2, actor=SYSTEM
    )
    session.commit()
    timers_service.start(paused=True, maintenance=False)
    timers_service.drain_touches()  # the hold's own change, already reflected
    job = f"hold-expiry:{booking.id}"
    timers_service.schedule("hold-expiry", booking.id, frozen_clock.at)
    started = time.monotonic()
    [(ran, outcome)] = timers_service.run_due()
    assert time.monotonic() - started < 5
    assert ran == job and outcome.startswith("not yet due")
    assert timers_service.store.run_times()[job] == pytest.approx(
        (frozen_clock.at + timedelta(hours=24)).timestamp()
    )


async def test_removing_a_job_someone_else_took_is_not_an_error(
    db_url: str, timers_service: TimerService
) -> None:
    timers_service.start(paused=True, maintenance=False)
    timers_service.store.remove_job("hold-expiry:already-gone")
    assert timers_service.store.take("hold-expiry:already-gone") is False
