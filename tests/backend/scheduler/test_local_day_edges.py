"""The product at the edges of the operator's day (Asia/Kathmandu, UTC+05:45), where the UTC
date and the local date differ: 23:50 and 00:10 local, a year's end, a leap day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus
from backend.models import Booking
from backend.scheduler.service import TimerService
from backend.services import bookings, leads
from devkit.demo_data import STORY
from tests import factories
from tests.backend.scheduler.conftest import messages, reload

pytestmark = pytest.mark.asyncio


async def test_a_hold_placed_at_23_55_local_expires_24_hours_later(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    # 23:55 on New Year's Eve in Kathmandu: 18:10 UTC, the same UTC date, the local year ends.
    frozen_clock.at = placed = STORY.at(date(2024, 12, 31), "23:55")
    dep = factories.departure(session, factories.ebc(session))
    held = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=3, actor=SYSTEM
    )
    hold = bookings.inventory.active_hold(session, held)
    assert hold is not None and hold.expires_at == placed + timedelta(hours=24)
    assert texts.local_datetime(hold.expires_at) == "Jan 1, 2025 11:55 PM"
    session.commit()
    timers_service.start(paused=True, maintenance=False)

    frozen_clock.at = placed + timedelta(hours=24, seconds=-2)
    assert timers_service.run_due() == []
    assert reload(db_url, Booking, held.id).status == BookingStatus.HELD

    frozen_clock.at = placed + timedelta(hours=24, seconds=1)
    assert [job for job, _ in timers_service.run_due()] == [f"hold-expiry:{held.id}"]
    assert reload(db_url, Booking, held.id).status == BookingStatus.EXPIRED


@pytest.mark.parametrize(
    ("local_day", "hhmm", "early_bird"),
    [
        ("2025-01-31", "23:50", True),  # the deadline's last minutes, local time
        ("2025-02-01", "00:10", False),  # 18:25 UTC on Jan 31, but Feb 1 in Kathmandu
    ],
)
async def test_the_early_bird_rule_compares_local_dates(
    session: Session, frozen_clock: clock.FrozenClock, local_day: str, hhmm: str, early_bird: bool
) -> None:
    frozen_clock.at = STORY.at(date.fromisoformat(local_day), hhmm)
    dep = factories.departure(session, factories.ebc(session))  # March 15: deadline Jan 31
    quote = bookings.price_for(dep, 3)
    assert quote.early_bird_deadline == date(2025, 1, 31)
    assert (quote.total.minor, quote.discount.minor > 0) == (
        (6_840_00, True) if early_bird else (7_200_00, False)
    )


async def test_references_take_the_local_month(
    session: Session, frozen_clock: clock.FrozenClock
) -> None:
    # 00:10 on Jan 1 in Kathmandu is still Dec 31 in UTC: the new year's references.
    frozen_clock.at = STORY.at(date(2025, 1, 1), "00:10")
    assert frozen_clock.at.year == 2024
    product = factories.ebc(session)
    lead = leads.create_lead(
        session,
        contact=factories.contact(session),
        product=product,
        party_size=2,
        actor=SYSTEM,
    )
    assert lead.reference.startswith("EBC2501")


async def test_a_reminder_just_after_local_midnight_counts_local_days(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Notices at 00:30 local: the 7-day reminder for Feb 28 goes at 00:30 on Feb 21 in
    # Kathmandu, which is 18:45 UTC on Feb 20. It must say 7 days, not 8.
    monkeypatch.setenv("NOTICE_LOCAL_TIME", "00:30")
    dep = factories.departure(session, factories.ebc(session))
    booking = factories.confirmed_booking(session, dep, 3)
    session.commit()
    timers_service.settings = timers_service.settings.__class__()
    timers_service.start(paused=True, maintenance=False)
    due = STORY.at(date(2025, 2, 21), "00:30")
    assert due.date() == date(2025, 2, 20)
    assert timers_service.store.run_times()[f"balance-reminder-7d:{booking.id}"] == (
        due.timestamp()
    )
    frozen_clock.at = due + timedelta(seconds=1)
    assert [job for job, _ in timers_service.run_due(only="balance-reminder-7d")] == [
        f"balance-reminder-7d:{booking.id}"
    ]
    [reminder] = messages(db_url, "balance_reminder")
    assert "is due in 7 days" in reminder.body


async def test_a_leap_day_departure_keeps_its_dates(
    session: Session, frozen_clock: clock.FrozenClock
) -> None:
    # A 2028 departure on March 15: balance due 15 days before is the leap day, Feb 29.
    frozen_clock.at = STORY.at(date(2027, 12, 23), "14:00")
    dep = factories.departure(session, factories.ebc(session), start=date(2028, 3, 15))
    quote = bookings.price_for(dep, 3)
    assert quote.balance_due == date(2028, 2, 29)
    assert quote.early_bird_deadline == date(2028, 2, 1)  # 43 days before, across Feb 29
