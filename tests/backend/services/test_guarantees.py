"""Guaranteed departures (issue 27): a minimum group size per product or departure and a
deadline; guaranteed once reached; short of it at the deadline operations are asked to run
or cancel; cancelling offers every booking the move, and a customer who cancels then gets
back what the policy gives (refund or credit)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from backend.config import get_settings
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, RefundStatus, Role, TimerKind
from backend.domain.errors import DomainError
from backend.models import MoveOffer, OutboundMessage
from backend.scheduler.kinds import local_moment, timer_specs
from backend.services import departure_moves, guarantees, refunds
from tests import factories


@pytest.fixture
def small(session, frozen_clock):
    factories.staff(session, "Olga", Role.OPS)
    product = factories.ebc(session)
    product.min_group_size = 4
    march = factories.departure(session, product, date(2025, 3, 15), capacity=12)
    april = factories.departure(session, product, date(2025, 4, 12), capacity=12)
    return product, march, april


def test_a_departure_is_guaranteed_once_its_minimum_is_confirmed(session, small):
    _product, march, _ = small
    factories.confirmed_booking(session, march, 2)
    found = guarantees.status(session, march)
    assert (found.minimum, found.confirmed, found.guaranteed) == (4, 2, False)
    assert found.deadline == date(2025, 2, 13)  # 30 days before by default
    factories.confirmed_booking(session, march, 2)
    assert guarantees.status(session, march).guaranteed
    guarantees.set_minimum(session, march, 6, SYSTEM)  # this departure's own minimum
    assert not guarantees.status(session, march).guaranteed


def test_the_deadline_asks_operations_to_run_or_cancel(session, small, frozen_clock):
    _, march, april = small
    factories.confirmed_booking(session, march, 2)
    spec = next(s for s in timer_specs() if s.kind == TimerKind.GUARANTEE_DEADLINE)
    planned = dict(spec.wanted(session, None))
    settings = get_settings()
    assert planned[march.id] == local_moment(
        date(2025, 2, 13), settings.notice_local_time, settings
    )
    assert spec.handle(session, march.id) == "operations asked to run or cancel"
    assert "already" in spec.handle(session, march.id)
    alerts = session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.purpose == "ops_alert")
    ).all()
    assert any("under its minimum of 4" in body for body in alerts)
    guarantees.run_anyway(session, march, SYSTEM)
    assert guarantees.status(session, march).guaranteed
    with pytest.raises(DomainError, match="Already decided"):
        guarantees.cancel(session, march, SYSTEM, reason="x", to_departure_id=april.id)


def test_a_cancelled_departure_offers_the_move_and_refunds_or_credits_by_the_policy(session, small):
    _, march, april = small
    booking = factories.confirmed_booking(session, march, 2)
    guarantees.cancel(session, march, SYSTEM, reason="too few travellers", to_departure_id=april.id)
    assert not guarantees.status(session, march).guaranteed
    offer = session.scalar(select(MoveOffer).where(MoveOffer.booking_id == booking.id))
    assert offer is not None and offer.held
    departure_moves.answer(session, offer, "cancel", SYSTEM)
    assert booking.status == BookingStatus.CANCELLED
    refund = refunds.current(session, booking)
    assert refund.status == RefundStatus.AWAITING_CHOICE
    assert refund.refundable_minor == booking.deposit_minor - 50_00  # the policy's line
