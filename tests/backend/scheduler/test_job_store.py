"""The job store holds APScheduler's own job format, with the misfire policy chosen on purpose."""

from __future__ import annotations

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
