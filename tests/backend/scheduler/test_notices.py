"""Reminders, pre-departure messages and operations alerts, on their days and only once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, AssignmentStatus, Role
from backend.domain.errors import IllegalTransition
from backend.models import Assignment, Booking, SentNotice, Staff, Trip
from backend.scheduler.service import TimerService
from backend.services import assignments, attendance, incidents, payments, trips
from backend.whatsapp import outbox_rules
from tests import factories
from tests.backend.scheduler.conftest import job_ids, messages, reload

pytestmark = pytest.mark.asyncio


@pytest.fixture(autouse=True)
def _no_papers_chase(monkeypatch: pytest.MonkeyPatch) -> None:
    """These are the money and trip notices; the papers' own are in test_papers_chase.py."""
    monkeypatch.setenv("PAPERS_REMINDER_DAYS", "0")
    monkeypatch.setenv("PAPERS_ALERT_DAYS", "0")


# 09:00 in Kathmandu (UTC+05:45) is 03:15 UTC.
NOTICE_UTC = (3, 15)


def at(day: str, hour: int, minute: int, second: int = 1) -> datetime:
    y, m, d = (int(x) for x in day.split("-"))
    return datetime(y, m, d, hour, minute, second, tzinfo=UTC)


def _confirmed(session: Session) -> Booking:
    """March 15-28, 2025; balance due Feb 28; deposit paid on Dec 23, 2024."""
    dep = factories.departure(session, factories.ebc(session))
    booking = factories.confirmed_booking(session, dep, 3)
    session.commit()
    return booking


async def test_booking_timers_exist_at_their_local_times(
    session: Session, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    booking = _confirmed(session)
    timers_service.start(paused=True, maintenance=False)
    assert timers_service.store.run_times() == {
        f"pre-departure:{booking.id}": at("2025-03-01", *NOTICE_UTC, 0).timestamp(),
        f"balance-reminder-7d:{booking.id}": at("2025-02-21", *NOTICE_UTC, 0).timestamp(),
        f"balance-reminder-1d:{booking.id}": at("2025-02-27", *NOTICE_UTC, 0).timestamp(),
        f"balance-overdue:{booking.id}": at("2025-03-01", *NOTICE_UTC, 0).timestamp(),
    }


async def test_balance_reminders_pre_departure_and_overdue_alert_each_go_once(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    booking = _confirmed(session)
    owed = booking.balance_minor  # read now: the test's session holds no transaction below
    sales = factories.staff(session, "Sarah Gurung", Role.SALES)
    ops = factories.staff(session, "Priya Thapa", Role.OPS)
    session.commit()
    timers_service.start(paused=True, maintenance=False)

    frozen_clock.at = at("2025-02-21", *NOTICE_UTC)
    assert [job for job, _ in timers_service.run_due()] == [f"balance-reminder-7d:{booking.id}"]
    [week] = messages(db_url, "balance_reminder")
    assert "due in 7 days" in week.body
    assert factories.link_in(week.body, "pay") == links.LinkClaims(
        "pay", booking.ref_key, "balance"
    )

    frozen_clock.at = at("2025-02-27", *NOTICE_UTC)
    timers_service.run_due()
    assert "due tomorrow" in messages(db_url, "balance_reminder")[1].body

    frozen_clock.at = at("2025-03-01", *NOTICE_UTC)
    done = dict(timers_service.run_due())
    assert set(done) == {f"pre-departure:{booking.id}", f"balance-overdue:{booking.id}"}
    [pre] = messages(db_url, "pre_departure")
    assert pre.body.startswith("Hi! Your EBC Trek starts in 14 days! 🏔️")
    for line in ("✓ Valid passport (check!)", "✓ Travel insurance", "Questions? Reply here!"):
        assert line in pre.body
    assert f"Balance payment: ${owed // 100:,}" in pre.body
    assert "Pay now: http" in pre.body
    assert factories.link_in(pre.body, "pay") == links.LinkClaims("pay", booking.ref_key, "balance")
    assert {m.staff_id for m in messages(db_url, "rep_alert")} == {sales.id}
    assert {m.staff_id for m in messages(db_url, "ops_alert")} == {ops.id}
    assert reload(db_url, Booking, booking.id).attention_reason == "balance overdue"

    # Nothing twice: the data no longer asks for any of these timers.
    assert timers_service.reconcile().wanted == 0
    frozen_clock.advance(days=3)
    assert timers_service.run_due() == []
    assert len(messages(db_url, "balance_reminder")) == 2
    assert len(messages(db_url, "pre_departure")) == 1


async def test_pre_departure_goes_as_its_template_when_the_window_is_closed(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    booking = _confirmed(session)
    timers_service.start(paused=True, maintenance=False)
    frozen_clock.at = at("2025-03-01", *NOTICE_UTC)
    timers_service.run_due()
    [row] = messages(db_url, "pre_departure")
    with transaction(db_url) as s:
        row = s.get(type(row), row.id)
        wire = outbox_rules.wire_message(s, row, window_open=False)
    assert wire.name == "pre_departure_checklist"
    assert list(wire.parameters)[:4] == [
        "EBC Trek",
        "14 days",
        f"${booking.balance_minor // 100:,}",
        "Feb 28, 2025",
    ]
    assert factories.link_in(wire.parameters[4], "pay") == links.LinkClaims(
        "pay", booking.ref_key, "balance"
    )


async def test_paid_in_full_booking_gets_no_balance_reminders(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    booking = _confirmed(session)
    timers_service.start(paused=True, maintenance=False)
    payments.record_payment(
        session,
        booking_id=booking.id,
        provider="test",
        event_id="evt-balance",
        amount_minor=booking.balance_minor,
        currency=booking.currency,
        actor=SYSTEM,
    )
    session.commit()
    timers_service.drain_touches()
    assert job_ids(timers_service) == {f"pre-departure:{booking.id}"}
    frozen_clock.at = at("2025-03-02", 0, 0)
    timers_service.run_due()
    assert messages(db_url, "balance_reminder") == []
    [pre] = messages(db_url, "pre_departure_paid")  # its template has no balance to pay
    assert "Balance: fully paid ✓" in pre.body and "Pay now" not in pre.body
    assert pre.template_params == ["EBC Trek", "13 days"]  # found on March 2, local time


async def test_a_reminder_found_days_late_is_skipped_not_sent_stale(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    booking = _confirmed(session)
    timers_service.start(paused=True, maintenance=False)
    frozen_clock.at = at("2025-02-24", 12, 0)  # the service was down since before Feb 21
    outcome = dict(timers_service.run_due())[f"balance-reminder-7d:{booking.id}"]
    assert outcome.startswith("skipped")
    assert messages(db_url, "balance_reminder") == []
    with transaction(db_url) as s:
        notice = s.scalar(select(SentNotice).where(SentNotice.subject_id == booking.id))
        assert (notice.kind, notice.outcome) == ("balance-reminder-7d", "skipped")


TRIP_KINDS = ("assignment-response", "guide-checkin", "feedback-request", "incident-escalation")


def trip_jobs(results: list[tuple[str, str]]) -> list[str]:
    """The trip-side timers among those run (the guests' bookings have their own)."""
    return [job for job, _ in results if job.startswith(TRIP_KINDS)]


def _accept_as_lead_guide(session: Session, trip: Trip, guide: Staff) -> None:
    assignment = assignments.assign_staff(
        session, trip, guide, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    assignments.respond_to_assignment(session, assignment, True, SYSTEM)


def _check_in_on_day_one(
    session: Session, frozen_clock: clock.FrozenClock, trip: Trip, guide: Staff
) -> None:
    """06:15 in Kathmandu on March 15: after the 06:00 meeting, before the 07:00 alert."""
    frozen_clock.at = at("2025-03-15", 0, 30)
    attendance.check_in(session, trip, guide, SYSTEM)
    session.commit()


@pytest.fixture
def trip_world(session: Session, frozen_clock: clock.FrozenClock):  # type: ignore[no-untyped-def]
    dep = factories.departure(session, factories.ebc(session))
    guests = [factories.confirmed_booking(session, dep, n) for n in (2, 3)]
    trip = trips.ensure_trip(session, dep, SYSTEM)
    rajesh = factories.staff(session, "Rajesh Kumar", Role.GUIDE)
    ops = factories.staff(session, "Priya Thapa", Role.OPS)
    admin = factories.staff(session, "Anil Admin", Role.ADMIN)
    session.commit()
    return trip, guests, rajesh, ops, admin


async def test_an_unanswered_assignment_expires_and_a_missing_checkin_alerts_operations(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    trip_world,  # type: ignore[no-untyped-def]
) -> None:
    trip, _, rajesh, ops, _ = trip_world
    assignment = assignments.assign_staff(
        session, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    session.commit()
    timers_service.start(paused=True, maintenance=False)
    assert f"assignment-response:{assignment.id}" in job_ids(timers_service)

    frozen_clock.advance(hours=24, seconds=1)
    assert trip_jobs(timers_service.run_due()) == [f"assignment-response:{assignment.id}"]
    [alert] = messages(db_url, "ops_alert")
    assert (
        alert.staff_id == ops.id and "Rajesh Kumar" in alert.body and trip.reference in alert.body
    )
    assert "has expired" in alert.body
    assert reload(db_url, Assignment, assignment.id).status == AssignmentStatus.EXPIRED
    [told] = [m for m in messages(db_url, "staff_alert") if m.staff_id == rajesh.id]
    assert "has expired without an answer" in told.body
    session.expire_all()
    with pytest.raises(IllegalTransition):  # a late Accept finds nothing to accept
        assignments.respond_to_assignment(session, assignment, True, SYSTEM)
    session.rollback()

    # Operations offer it to him again (he was out of signal); this time he accepts. The new
    # offer has a response timer of its own.
    again = assignments.assign_staff(
        session, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    assert again.id == assignment.id and again.status == AssignmentStatus.OFFERED
    session.commit()
    timers_service.drain_touches()
    assert f"assignment-response:{assignment.id}" in job_ids(timers_service)
    assignments.respond_to_assignment(session, again, True, SYSTEM)
    session.commit()
    # Meeting at 06:00 in Kathmandu on March 15; the alert an hour later is 01:15 UTC.
    frozen_clock.at = at("2025-03-15", 1, 14, 59)
    assert trip_jobs(timers_service.run_due()) == []
    frozen_clock.at = at("2025-03-15", 1, 15, 1)
    assert trip_jobs(timers_service.run_due()) == [f"guide-checkin:{trip.id}"]
    [urgent] = messages(db_url, "ops_urgent_alert")
    assert "No check-in" in urgent.body and "Rajesh Kumar" in urgent.body


async def test_a_guide_who_checked_in_raises_no_alert(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    trip_world,  # type: ignore[no-untyped-def]
) -> None:
    trip, _, rajesh, _, _ = trip_world
    _accept_as_lead_guide(session, trip, rajesh)
    session.commit()
    timers_service.start(paused=True, maintenance=False)
    _check_in_on_day_one(session, frozen_clock, trip, rajesh)
    frozen_clock.at = at("2025-03-15", 6, 0)
    assert trip_jobs(timers_service.run_due()) == []
    assert messages(db_url, "ops_urgent_alert") == []


async def test_feedback_follow_up_after_the_trip(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    trip_world,  # type: ignore[no-untyped-def]
) -> None:
    """Checkout without the request: the scheduler asks the guests at noon after the last
    day. A trip nobody checked out: operations are told, guests are not asked mid-trek."""
    trip, guests, rajesh, ops, _ = trip_world
    _accept_as_lead_guide(session, trip, rajesh)
    _check_in_on_day_one(session, frozen_clock, trip, rajesh)
    timers_service.start(paused=True, maintenance=False)
    # The trip's last day is March 28; the follow-up is due at noon in Kathmandu on the 29th.
    frozen_clock.at = at("2025-03-29", 6, 15, 1)
    outcome = dict(timers_service.run_due())[f"feedback-request:{trip.id}"]
    assert outcome == "no checkout after the last day: operations alerted"
    assert messages(db_url, "feedback_request") == []
    assert any(
        m.staff_id == ops.id and "nobody checked out" in m.body
        for m in messages(db_url, "ops_alert")
    )
    frozen_clock.advance(hours=6)
    assert trip_jobs(timers_service.run_due()) == []

    # The guide checks out a day late, without the usual messages: the timer asks the guests.
    frozen_clock.at = at("2025-03-30", 4, 0)
    attendance.check_out(session, trip, rajesh, "Back a day late", SYSTEM, notify=False)
    session.commit()
    done = dict(timers_service.run_due())
    assert done[f"feedback-request:{trip.id}"] == f"feedback requested from {len(guests)} bookings"
    assert {m.contact_id for m in messages(db_url, "feedback_request")} == {
        g.contact_id for g in guests
    }


async def test_checkout_feedback_is_not_asked_for_again(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    trip_world,  # type: ignore[no-untyped-def]
) -> None:
    trip, guests, rajesh, _, _ = trip_world
    _accept_as_lead_guide(session, trip, rajesh)
    _check_in_on_day_one(session, frozen_clock, trip, rajesh)
    timers_service.start(paused=True, maintenance=False)
    frozen_clock.at = at("2025-03-28", 10, 0)
    attendance.check_out(session, trip, rajesh, "All good", SYSTEM)
    session.commit()
    timers_service.drain_touches()
    assert f"feedback-request:{trip.id}" not in job_ids(timers_service)
    frozen_clock.at = at("2025-04-02", 0, 0)
    assert trip_jobs(timers_service.run_due()) == []
    assert len(messages(db_url, "feedback_request")) == len(guests)


async def test_unacknowledged_incident_escalates_once_acknowledged_one_does_not(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    trip_world,  # type: ignore[no-untyped-def]
) -> None:
    trip, _, rajesh, ops, admin = trip_world
    ignored = incidents.report_incident(session, trip, rajesh, "Vehicle breakdown", SYSTEM)
    frozen_clock.advance(seconds=1)
    handled = incidents.report_incident(session, trip, rajesh, "Guest lost a bag", SYSTEM)
    session.commit()
    timers_service.start(paused=True, maintenance=False)
    frozen_clock.advance(minutes=10)
    incidents.acknowledge(session, handled, SYSTEM)
    session.commit()
    frozen_clock.advance(minutes=5, seconds=1)
    assert trip_jobs(timers_service.run_due()) == [f"incident-escalation:{ignored.id}"]
    escalations = [m for m in messages(db_url, "ops_urgent_alert") if "ESCALATION" in m.body]
    assert {m.staff_id for m in escalations} == {ops.id, admin.id}
    assert "Vehicle breakdown" in escalations[0].body
    frozen_clock.advance(hours=1)
    assert trip_jobs(timers_service.run_due()) == []
    timers_service.reconcile()
    left = {job.split(":")[0] for job in job_ids(timers_service) if job.startswith(TRIP_KINDS)}
    assert left == {"guide-checkin", "feedback-request"}
