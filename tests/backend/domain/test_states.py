import itertools

import pytest

from backend.domain.enums import BookingStatus, LeadStatus, WaitlistStatus
from backend.domain.errors import IllegalTransition
from backend.domain.states import BOOKING, INCIDENT, LEAD, OPEN_BOOKING_STATES, TRIP, WAITLIST


def test_booking_happy_path_is_allowed():
    path = ["WAITLISTED", "OFFERED", "HELD", "PAYMENT_PENDING", "CONFIRMED", "COMPLETED"]
    for current, target in itertools.pairwise(path):
        assert BOOKING.allows(current, target), (current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("CONFIRMED", "HELD"),
        ("COMPLETED", "CANCELLED"),
        ("CANCELLED", "HELD"),
        ("WAITLISTED", "CONFIRMED"),
    ],
)
def test_booking_refuses_going_backwards_or_skipping(current, target):
    with pytest.raises(IllegalTransition) as info:
        BOOKING.check(current, target)
    assert current in str(info.value) and target in str(info.value)


def test_every_open_booking_state_can_be_cancelled():
    assert {
        BookingStatus.WAITLISTED,
        BookingStatus.OFFERED,
        BookingStatus.HELD,
        BookingStatus.PAYMENT_PENDING,
        BookingStatus.CONFIRMED,
    } == OPEN_BOOKING_STATES


def test_lead_closed_states_are_final():
    for target in LeadStatus:
        assert not LEAD.allows(LeadStatus.WON, target)
        assert not LEAD.allows(LeadStatus.LOST, target)


def test_expired_offer_is_closed_not_requeued():
    assert not WAITLIST.allows(WaitlistStatus.EXPIRED, WaitlistStatus.WAITING)


def test_trip_and_incident_only_move_forward():
    assert TRIP.allows("SCHEDULED", "IN_PROGRESS") and not TRIP.allows("ENDED", "IN_PROGRESS")
    assert INCIDENT.allows("OPEN", "RESOLVED") and not INCIDENT.allows("RESOLVED", "OPEN")
