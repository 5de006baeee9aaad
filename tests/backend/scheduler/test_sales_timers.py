"""Holds, waitlist offers and the lead SLA, driven by the clock without sleeping."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, Role, WaitlistStatus
from backend.models import Booking, Lead
from backend.scheduler.service import TimerService
from backend.services import bookings, leads, payments, waitlist
from tests import factories
from tests.backend.scheduler.conftest import job_ids, messages, reload

pytestmark = pytest.mark.asyncio


def _full_departure_with_waitlist(session: Session):  # type: ignore[no-untyped-def]
    """Three seats held; two parties of three waiting, joined a second apart. The clock ends
    where it began (the hold's 24 hours count from there)."""
    start = clock.now()
    dep = factories.departure(session, factories.ebc(session), capacity=3)
    held = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=3, actor=SYSTEM
    )
    with clock.frozen(start + timedelta(seconds=-2)):
        first, _ = bookings.waitlist_new_booking(
            session, contact=factories.contact(session), departure=dep, party_size=3, actor=SYSTEM
        )
    with clock.frozen(start + timedelta(seconds=-1)):
        second, _ = bookings.waitlist_new_booking(
            session, contact=factories.contact(session), departure=dep, party_size=3, actor=SYSTEM
        )
    session.commit()
    return dep, held, first, second


def _pay_deposit(session: Session, booking: Booking, event_id: str) -> None:
    payments.record_payment(
        session,
        booking_id=booking.id,
        provider="test",
        event_id=event_id,
        amount_minor=booking.deposit_minor,
        currency=booking.currency,
        actor=SYSTEM,
    )
    session.commit()


async def test_hold_expires_after_24_hours_customer_told_and_waitlist_offered(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    _, held, first, _ = _full_departure_with_waitlist(session)
    report = timers_service.start(paused=True, maintenance=False)
    assert report.added == 1
    assert job_ids(timers_service) == {f"hold-expiry:{held.id}"}
    assert timers_service.store.run_times()[f"hold-expiry:{held.id}"] == pytest.approx(
        (frozen_clock.at + timedelta(hours=24)).timestamp()
    )

    frozen_clock.advance(hours=23, minutes=59)
    assert timers_service.run_due() == []

    frozen_clock.advance(minutes=1, seconds=1)
    results = timers_service.run_due()
    assert [job for job, _ in results] == [f"hold-expiry:{held.id}"]
    assert reload(db_url, Booking, held.id).status == BookingStatus.EXPIRED
    assert bookings.inventory.active_hold(session, held) is None
    session.commit()
    told = messages(db_url, "hold_expired")
    assert [m.contact_id for m in told] == [held.contact_id]
    assert held.reference in told[0].body
    offers = messages(db_url, "waitlist_offer")
    assert [m.contact_id for m in offers] == [first.contact_id]
    # The offer's own timer now exists, two hours out.
    assert job_ids(timers_service) == {f"offer-expiry:{first.id}"}


async def test_unanswered_offer_passes_to_the_next_in_line(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    _, _held, first, second = _full_departure_with_waitlist(session)
    timers_service.start(paused=True, maintenance=False)
    frozen_clock.advance(hours=24, seconds=1)
    timers_service.run_due()
    frozen_clock.advance(hours=2, seconds=1)
    results = dict(timers_service.run_due())
    assert results[f"offer-expiry:{first.id}"].startswith("offer expired")
    assert reload(db_url, Booking, first.id).status == BookingStatus.EXPIRED
    assert waitlist.entry_of(session, first).status == WaitlistStatus.EXPIRED
    session.commit()
    assert reload(db_url, Booking, second.id).status == BookingStatus.OFFERED
    assert [m.contact_id for m in messages(db_url, "offer_expired")] == [first.contact_id]
    assert [m.contact_id for m in messages(db_url, "waitlist_offer")] == [
        first.contact_id,
        second.contact_id,
    ]


async def test_accepted_offer_starts_a_30_minute_payment_timer(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    _, _held, first, _ = _full_departure_with_waitlist(session)
    timers_service.start(paused=True, maintenance=False)
    frozen_clock.advance(hours=24, seconds=1)
    timers_service.run_due()
    session.expire_all()
    waitlist.accept_offer(session, session.get(Booking, first.id), SYSTEM)
    session.commit()
    timers_service.drain_touches()
    run_times = timers_service.store.run_times()
    assert set(run_times) == {f"hold-expiry:{first.id}"}
    assert run_times[f"hold-expiry:{first.id}"] == pytest.approx(
        (frozen_clock.at + timedelta(minutes=30)).timestamp()
    )
    frozen_clock.advance(minutes=30, seconds=1)
    assert dict(timers_service.run_due())[f"hold-expiry:{first.id}"].startswith("hold expired")


async def test_hold_paid_one_second_before_expiry_is_confirmed_not_expired(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    _, held, first, _ = _full_departure_with_waitlist(session)
    timers_service.start(paused=True, maintenance=False)
    frozen_clock.advance(hours=24, seconds=-1)
    _pay_deposit(session, held, "evt-last-second")
    frozen_clock.advance(seconds=2)
    results = timers_service.run_due()
    # The payment's touch removed the job before it could fire.
    assert results == []
    assert reload(db_url, Booking, held.id).status == BookingStatus.CONFIRMED
    assert messages(db_url, "hold_expired") == []
    assert messages(db_url, "waitlist_offer") == []
    assert reload(db_url, Booking, first.id).status == BookingStatus.WAITLISTED


async def test_expiry_that_fires_after_the_payment_does_nothing(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    """The job fires before the drain saw the payment: the handler re-reads and stands down."""
    _, held, _, _ = _full_departure_with_waitlist(session)
    timers_service.start(paused=True, maintenance=False)
    frozen_clock.advance(hours=24, seconds=-1)
    _pay_deposit(session, held, "evt-race")
    frozen_clock.advance(seconds=2)
    from backend.scheduler import runner

    outcome = runner.execute("hold-expiry", held.id, url=db_url)
    assert outcome.startswith("nothing to do")
    assert reload(db_url, Booking, held.id).status == BookingStatus.CONFIRMED
    assert messages(db_url, "hold_expired") == []


async def test_restart_with_pending_jobs_loses_nothing_and_sends_nothing_twice(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock
) -> None:
    import asyncio

    dep = factories.departure(session, factories.ebc(session), capacity=12)
    held = [
        bookings.hold_new_booking(
            session,
            contact=factories.contact(session),
            departure_id=dep.id,
            party_size=2,
            actor=SYSTEM,
        )
        for _ in range(3)
    ]
    session.commit()
    loop = asyncio.get_running_loop()
    first = TimerService(url=db_url, event_loop=loop)
    first.start(paused=True, maintenance=False)
    assert len(job_ids(first)) == 3
    first.shutdown()
    await asyncio.sleep(0)

    # Down for two days: every hold came due meanwhile.
    frozen_clock.advance(days=2)
    second = TimerService(url=db_url, event_loop=loop)
    report = second.start(paused=True, maintenance=False)
    assert (report.existing, report.added, report.removed) == (3, 0, 0)
    assert len(second.run_due()) == 3
    second.shutdown()
    await asyncio.sleep(0)

    third = TimerService(url=db_url, event_loop=loop)
    report = third.start(paused=True, maintenance=False)
    assert (report.wanted, report.existing) == (0, 0)
    assert third.run_due() == []
    third.shutdown()
    await asyncio.sleep(0)

    assert {reload(db_url, Booking, b.id).status for b in held} == {BookingStatus.EXPIRED}
    assert sorted(m.contact_id for m in messages(db_url, "hold_expired")) == sorted(
        b.contact_id for b in held
    )


async def test_reconcile_recreates_deleted_jobs_and_removes_ones_that_no_longer_apply(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    dep = factories.departure(session, factories.ebc(session), capacity=12)
    held = [
        bookings.hold_new_booking(
            session,
            contact=factories.contact(session),
            departure_id=dep.id,
            party_size=1,
            actor=SYSTEM,
        )
        for _ in range(4)
    ]
    session.commit()
    timers_service.start(paused=True, maintenance=False)
    wanted = {f"hold-expiry:{b.id}" for b in held}
    assert job_ids(timers_service) == wanted

    # Behind the scheduler's back: two jobs deleted, one left for a booking now cancelled
    # without a touch, and a job of a kind nobody knows.
    timers_service.store.delete_jobs([f"hold-expiry:{held[0].id}", f"hold-expiry:{held[1].id}"])
    timers_service.schedule("hold-expiry", "no-such-booking", frozen_clock.at)
    timers_service.schedule("old-kind", held[2].id, frozen_clock.at)
    report = timers_service.reconcile()
    assert (report.added, report.removed, report.updated) == (2, 2, 0)
    assert job_ids(timers_service) == wanted

    # A job moved to the wrong time is put back.
    timers_service.schedule("hold-expiry", held[3].id, frozen_clock.at + timedelta(days=9))
    assert timers_service.reconcile().updated == 1
    assert timers_service.store.run_times()[f"hold-expiry:{held[3].id}"] == pytest.approx(
        (frozen_clock.at + timedelta(hours=24)).timestamp()
    )


async def test_cancelled_hold_loses_its_job(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    dep = factories.departure(session, factories.ebc(session), capacity=12)
    booking = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=1, actor=SYSTEM
    )
    session.commit()
    timers_service.start(paused=True, maintenance=False)
    bookings.cancel_booking(session, booking, SYSTEM, reason="changed plans")
    session.commit()
    assert timers_service.drain_touches() >= 1
    assert job_ids(timers_service) == set()
    frozen_clock.advance(days=2)
    assert timers_service.run_due() == []
    assert reload(db_url, Booking, booking.id).status == BookingStatus.CANCELLED


async def test_lead_not_contacted_in_two_hours_alerts_ops_and_moves_to_another_rep(
    session: Session, db_url: str, frozen_clock: clock.FrozenClock, timers_service: TimerService
) -> None:
    product = factories.ebc(session)
    first_rep = factories.staff(session, "Sarah Gurung", Role.SALES)
    second_rep = factories.staff(session, "Bikash Rai", Role.SALES)
    ops = factories.staff(session, "Priya Thapa", Role.OPS)
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=product, actor=SYSTEM
    )
    contacted = leads.create_lead(
        session, contact=factories.contact(session), product=product, actor=SYSTEM
    )
    session.commit()
    original_rep = lead.assigned_staff_id
    timers_service.start(paused=True, maintenance=False)
    assert job_ids(timers_service) == {f"lead-sla:{lead.id}", f"lead-sla:{contacted.id}"}

    leads.mark_contacted(session, contacted, SYSTEM)
    session.commit()
    frozen_clock.advance(hours=2, seconds=1)
    results = dict(timers_service.run_due())
    assert set(results) == {f"lead-sla:{lead.id}"}
    lead = reload(db_url, Lead, lead.id)
    assert lead.assigned_staff_id not in (None, original_rep)
    assert {lead.assigned_staff_id, original_rep} == {first_rep.id, second_rep.id}
    alerts = messages(db_url, "ops_alert")
    assert [m.staff_id for m in alerts] == [ops.id]
    assert lead.reference in alerts[0].body and "2 hours" in alerts[0].body
    assert [m.staff_id for m in messages(db_url, "rep_alert")] == [lead.assigned_staff_id]

    # Nothing twice: a reconcile does not bring the alert back.
    assert timers_service.reconcile().wanted == 0
    frozen_clock.advance(hours=5)
    assert timers_service.run_due() == []
    assert len(messages(db_url, "ops_alert")) == 1


async def test_failed_timer_is_kept_and_retried(
    session: Session,
    db_url: str,
    frozen_clock: clock.FrozenClock,
    timers_service: TimerService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dep = factories.departure(session, factories.ebc(session), capacity=12)
    booking = bookings.hold_new_booking(
        session, contact=factories.contact(session), departure_id=dep.id, party_size=1, actor=SYSTEM
    )
    session.commit()
    timers_service.start(paused=True, maintenance=False)
    real_expire = bookings.expire_hold
    calls = {"n": 0}

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real_expire(*args, **kwargs)

    monkeypatch.setattr(bookings, "expire_hold", flaky)
    frozen_clock.advance(hours=24, seconds=1)
    [(job, outcome)] = timers_service.run_due()
    assert outcome.startswith("failed: RuntimeError")
    assert reload(db_url, Booking, booking.id).status == BookingStatus.HELD
    # Kept, two minutes out; a reconcile leaves the retry alone.
    assert timers_service.reconcile().updated == 0
    assert timers_service.store.run_times()[job] == pytest.approx(
        (frozen_clock.at + timedelta(minutes=2)).timestamp()
    )
    frozen_clock.advance(minutes=2)
    assert dict(timers_service.run_due())[job].startswith("hold expired")
    assert reload(db_url, Booking, booking.id).status == BookingStatus.EXPIRED
    assert len(messages(db_url, "hold_expired")) == 1
    assert timers_service.outcomes[("hold-expiry", "failed")] == 1
    assert timers_service.outcomes[("hold-expiry", "done")] == 1
    assert bookings.inventory.active_hold(session, booking) is None
    session.commit()
