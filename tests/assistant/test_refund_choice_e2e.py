"""A cancelled customer's typed REFUND or CREDIT through the trained assistant over HTTP: the
word is the answer to the open refund question whatever intent the classifier guesses, and
the refund waits for staff with that choice."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import RefundStatus
from backend.models import Refund
from backend.services import bookings, catalog
from tests import factories
from tests.assistant.test_rest_channel import say

pytestmark = pytest.mark.rasa


def _cancelled(db: str) -> tuple[str, str, str]:
    with transaction(db) as s:
        # Far enough ahead that the house policy gives something back.
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[-1]
        booking = factories.confirmed_booking(s, departure, 2)
        bookings.cancel_by_staff(s, booking, SYSTEM, reason="plans changed", notify_customer=False)
        refund = s.scalars(select(Refund).where(Refund.booking_id == booking.id)).one()
        assert refund.status == RefundStatus.AWAITING_CHOICE and refund.refundable_minor > 0
        return refund.id, booking.contact.phone, booking.reference


@pytest.mark.parametrize(
    ("typed", "choice", "answer"),
    [("credit", "credit", "a credit for a later trip"), ("Refund", "refund", "a refund of")],
)
def test_a_typed_refund_or_credit_answers_the_open_refund(
    assistant_stack, demo_world_pg, typed, choice, answer
):
    refund_id, phone, reference = _cancelled(demo_world_pg)
    replies = say(assistant_stack, phone, typed)
    assert replies and replies[0].startswith(f"Thanks, noted: {answer}"), replies
    assert reference in replies[0]
    with transaction(demo_world_pg) as s:
        refund = s.get(Refund, refund_id)
        assert (refund.status, refund.choice) == (RefundStatus.AWAITING_APPROVAL, choice)
