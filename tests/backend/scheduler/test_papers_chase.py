"""The travellers' papers are chased on their days: the booker hears exactly what is missing,
by traveller name, 30, 14 and 7 days before the trip; operations hear 5 days before about a
booking still short; nothing once the papers are complete."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from PIL import Image
from sqlalchemy.orm import Session

from backend import clock, links
from backend.config import get_settings
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.models import Booking
from backend.scheduler.kinds import local_moment
from backend.scheduler.service import TimerService
from backend.services import travellers
from tests import factories
from tests.backend.scheduler.conftest import messages, reload

pytestmark = pytest.mark.asyncio


def _confirmed(session: Session, size: int = 2) -> Booking:
    product = factories.ebc(session)
    product.max_altitude_m = 5545
    start = clock.local_today() + timedelta(days=45)
    booking = factories.confirmed_booking(
        session, factories.departure(session, product, start), size
    )
    session.commit()
    return booking


def _day_before(booking: Booking, days: int):
    """The notice time, `days` before the booking's trip starts."""
    return local_moment(
        booking.departure.start_date - timedelta(days=days),
        get_settings().notice_local_time,
        get_settings(),
    ) + timedelta(seconds=1)


def _papers_alerts(db_url: str) -> list:
    return [m for m in messages(db_url, "ops_alert") if m.body.startswith("📋 Papers incomplete")]


def _fill(db_url: str, booking_id: str, position: int, name: str) -> None:
    with transaction(db_url) as s:
        booking = s.get(Booking, booking_id)
        dep = booking.departure
        travellers.save(
            s,
            booking,
            position,
            {
                "full_name": name,
                "nationality": "GB",
                "passport_number": f"P{position}234567",
                "passport_expiry": (dep.end_date + relativedelta(years=2)).isoformat(),
                "date_of_birth": (clock.local_today() - relativedelta(years=30)).isoformat(),
                "sex": "F",
                "insurer": "World Nomads",
                "policy_number": "WN-1",
                "assistance_phone": "+442079460000",
                "covers_helicopter": True,
                "cover_altitude_m": 6000,
                "emergency_name": "Tom",
                "emergency_relationship": "brother",
                "emergency_phone": "+447911123456",
                "arrival_flight": "QR652",
                "arrival_date": (dep.start_date - timedelta(days=1)).isoformat(),
            },
            SYSTEM,
        )
        out = io.BytesIO()
        Image.new("RGB", (40, 30)).save(out, "JPEG")
        for kind in ("passport_photo", "portrait_photo"):
            travellers.file_photo(s, booking, kind, out.getvalue(), SYSTEM, position=position)


async def test_the_booker_hears_what_is_missing_by_name_until_complete_and_ops_at_five_days(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    tmp_path,
    monkeypatch,
) -> None:
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking = _confirmed(session)
    ops = factories.staff(session, "Priya Thapa", Role.OPS)
    session.commit()
    _fill(db_url, booking.id, 1, "Emma Clarke")
    timers_service.start(paused=True, maintenance=False)

    frozen_clock.at = _day_before(booking, 30)
    assert [job for job, _ in timers_service.run_due()] == [f"papers-reminder-30d:{booking.id}"]
    [first] = messages(db_url, "papers_reminder")
    assert "Traveller 2: the passport details, the travel insurance" in first.body
    assert "Emma Clarke" not in first.body  # complete: not chased
    assert factories.link_in(first.body, "papers") == links.LinkClaims("papers", booking.ref_key)

    frozen_clock.at = _day_before(booking, 14)
    timers_service.run_due()
    assert len(messages(db_url, "papers_reminder")) == 2

    frozen_clock.at = _day_before(booking, 5)
    timers_service.run_due()  # the 7-day one was due first: sent late, as it is not stale
    [alert] = _papers_alerts(db_url)
    assert alert.staff_id == ops.id and "Traveller 2" in alert.body
    assert reload(db_url, Booking, booking.id).attention_reason == "travellers' papers incomplete"


async def test_complete_papers_stop_the_chase(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    tmp_path,
    monkeypatch,
) -> None:
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    booking = _confirmed(session, 1)
    factories.staff(session, "Priya Thapa", Role.OPS)
    session.commit()
    _fill(db_url, booking.id, 1, "Emma Clarke")
    timers_service.start(paused=True, maintenance=False)
    for days in (30, 14, 7, 5):
        frozen_clock.at = _day_before(booking, days)
        timers_service.run_due()
    assert messages(db_url, "papers_reminder") == [] and _papers_alerts(db_url) == []


async def test_the_chase_runs_on_its_days_before_the_trip(
    session: Session, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    booking = _confirmed(session)
    timers_service.start(paused=True, maintenance=False)
    times = timers_service.store.run_times()
    for kind, days in (
        ("papers-reminder-30d", 30),
        ("papers-reminder-14d", 14),
        ("papers-reminder-7d", 7),
        ("papers-incomplete", 5),
    ):
        due = _day_before(booking, days) - timedelta(seconds=1)
        assert times[f"{kind}:{booking.id}"] == due.timestamp()
