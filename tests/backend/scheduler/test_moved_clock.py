"""A running scheduler follows the project's clock, forwards and back: when the tests or the
demo move time for every process, timers fire when the product thinks they are due."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus
from backend.models import Booking
from backend.scheduler.service import TimerService
from backend.services import bookings
from tests import factories
from tests.backend.scheduler.conftest import job_ids, reload

pytestmark = pytest.mark.asyncio


async def eventually(check: Callable[[], bool], seconds: float = 10.0) -> None:
    """Let the scheduler (on this event loop) work until `check` holds."""
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the scheduler did not get there in time")


def _hold(session: Session) -> Booking:
    dep = factories.departure(session, factories.ebc(session))
    held = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=2, actor=SYSTEM
    )
    session.commit()
    return held


async def test_a_running_scheduler_fires_when_the_clock_reaches_the_timer(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    timers_service.start()
    # Made after the start: the drain of changes (an interval job) turns it into a timer.
    held = _hold(session)
    await eventually(lambda: f"hold-expiry:{held.id}" in job_ids(timers_service))
    await asyncio.sleep(0.5)
    assert reload(db_url, Booking, held.id).status == BookingStatus.HELD
    # Not fired early by the machine's clock (it would find nothing due, again and again).
    assert timers_service.outcomes[("hold-expiry", "noop")] == 0
    # A day later by the project's clock, a moment later by the machine's.
    frozen_clock.advance(hours=24, seconds=1)
    timers_service.nudge()
    await eventually(lambda: reload(db_url, Booking, held.id).status == BookingStatus.EXPIRED)
    assert timers_service.outcomes[("hold-expiry", "done")] == 1


async def test_changes_still_become_timers_after_the_clock_moves_back(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    timers_service.start()
    await asyncio.sleep(0.3)
    timers_service.nudge()
    # Three months back: the maintenance jobs' next runs would be three months away.
    frozen_clock.advance(days=-90)
    timers_service.nudge()
    held = _hold(session)
    await eventually(lambda: f"hold-expiry:{held.id}" in job_ids(timers_service))
    frozen_clock.advance(hours=24, seconds=1)
    await eventually(lambda: reload(db_url, Booking, held.id).status == BookingStatus.EXPIRED)
