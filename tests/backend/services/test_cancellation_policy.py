"""The cancellation policy as data: the house lines (migration 0014), a product's own lines
replace them, lines are checked, and `refundable` answers on the boundaries (30/29/15/14/0
days), never more than was paid, less the fee. The FAQ's answer is written from the lines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.domain.actor import SYSTEM
from backend.models import LedgerMethod, TimelineEvent
from backend.services import cancellation_policy as policy
from backend.services import knowledge, payments
from tests import factories

P = policy.PolicyLine


def _booking(session, *, paid_in_full: bool = False):
    """3 × $2,400 on a departure 60 days ahead: $6,840 with the early bird, $2,052 deposit."""
    today = clock.local_today()
    dep = factories.departure(session, factories.ebc(session), start=today + timedelta(days=60))
    booking = factories.confirmed_booking(session, dep, 3)
    assert (booking.total_minor, booking.paid_minor) == (6_840_00, 2_052_00)
    if paid_in_full:
        payments.receive(
            session,
            booking.id,
            payments.MoneyIn(
                method=LedgerMethod.BANK_TRANSFER,
                amount_minor=booking.balance_minor,
                currency="USD",
                received_on=today,
                provider_ref="balance",
            ),
            SYSTEM,
        )
        assert booking.paid_minor == 6_840_00
    return booking


def _on(booking, days_before: int):
    return booking.departure.start_date - timedelta(days=days_before)


def test_the_house_lines_are_seeded(session):
    assert policy.lines_for(session, None) == list(policy.HOUSE_LINES)


@pytest.mark.parametrize(
    "days, deposit_only, in_full",
    [
        (45, 2_002_00, 6_790_00),  # everything back less the $50 fee
        (30, 2_002_00, 6_790_00),
        (29, 2_052_00, 4_788_00),  # 70 % of $6,840, never more than paid
        (15, 2_052_00, 4_788_00),
        (14, 0, 0),
        (0, 0, 0),
    ],
)
def test_refundable_on_the_boundaries(session, frozen_clock, days, deposit_only, in_full):
    deposit = _booking(session)
    back = policy.refundable(session, deposit, _on(deposit, days))
    assert (back.amount_minor, back.days_before, back.paid_minor) == (deposit_only, days, 2_052_00)
    session.rollback()
    full = _booking(session, paid_in_full=True)
    assert policy.refundable(session, full, _on(full, days)).amount_minor == in_full


def test_nothing_paid_nothing_back_and_the_fee_never_goes_below_zero(session, frozen_clock):
    booking = _booking(session)
    policy.replace_lines(session, None, [P(30, 100, 3_000_00), P(0, 0)])
    assert policy.refundable(session, booking, _on(booking, 40)).amount_minor == 0  # 2,052 − 3,000
    hold = factories.departure(
        session, booking.departure.product, start=clock.local_today() + timedelta(days=70)
    )
    from backend.services import bookings

    unpaid = bookings.hold_new_booking(
        session,
        contact=factories.contact(session),
        departure_id=hold.id,
        party_size=1,
        actor=SYSTEM,
    )
    back = policy.refundable(session, unpaid)
    assert (back.amount_minor, back.paid_minor) == (0, 0)


def test_a_products_lines_replace_the_house_lines(session, frozen_clock):
    booking = _booking(session, paid_in_full=True)
    product = booking.departure.product
    policy.replace_lines(session, product, [P(1, 100), P(0, 0)], actor=SYSTEM)
    assert policy.lines_for(session, product) == [P(1, 100), P(0, 0)]
    assert policy.lines_for(session, None) == list(policy.HOUSE_LINES)
    assert policy.refundable(session, booking, _on(booking, 2)).amount_minor == 6_840_00
    assert policy.refundable(session, booking, _on(booking, 0)).amount_minor == 0
    event = session.scalar(
        select(TimelineEvent).where(TimelineEvent.action == "tms.cancellation_policy.changed")
    )
    assert event is not None and event.content["product"] == "EBC"
    assert event.content["lines"] == "1+ days 100% · 0+ days 0%"
    # An empty list: the house lines apply again.
    policy.replace_lines(session, product, [], actor=SYSTEM)
    assert policy.lines_for(session, product) == list(policy.HOUSE_LINES)
    assert policy.refundable(session, booking, _on(booking, 2)).amount_minor == 0


@pytest.mark.parametrize(
    "lines, message",
    [
        ([], "at least one line"),
        ([P(30, 100)], "0 days"),
        ([P(30, 101), P(0, 0)], "0 to 100 percent"),
        ([P(30, -1), P(0, 0)], "0 to 100 percent"),
        ([P(-1, 50), P(0, 0)], "0 to 730 days"),
        ([P(10, 50), P(10, 40), P(0, 0)], "two lines for 10 days"),
        ([P(10, 50, -1), P(0, 0)], "cannot be negative"),
    ],
)
def test_lines_that_make_no_policy_are_refused(session, lines, message):
    with pytest.raises(policy.PolicyRefused, match=message):
        policy.replace_lines(session, None, lines)
    assert policy.lines_for(session, None) == list(policy.HOUSE_LINES)


def test_the_faq_answer_follows_the_policy(session):
    knowledge.load_defaults(session, SYSTEM)
    before = knowledge.answer_for(session, "cancellation_policy")
    assert before is not None
    assert (
        "• 30 days or more before departure: everything you've paid comes back, minus a $50 admin fee"
        in before
    )
    assert "• 15 to 29 days before: 70% of the trip's price comes back" in before
    assert "• Less than 15 days before: no refund" in before
    assert "If we cancel for weather" in before  # the stored words follow the lines
    policy.replace_lines(session, None, [P(60, 90, 100_00), P(0, 0)], actor=SYSTEM)
    after = knowledge.answer_for(session, "cancellation_policy")
    assert after is not None and after != before
    assert "• 60 days or more before departure: 90% of the trip's price comes back" in after
    assert "minus a $100 admin fee" in after and "30 days" not in after
