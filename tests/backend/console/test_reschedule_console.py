"""The "Another date" card on a booking's console page (issue 27): the rep approves or
declines the customer's request, or moves the booking to a departure with seats."""

from __future__ import annotations

import re

import httpx

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import RescheduleStatus
from backend.models import Booking, RescheduleRequest
from backend.services import catalog, inventory, reschedules
from tests import factories

SARAH = "+9779801000001"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _booked(db: str, *, asked: bool) -> tuple[str, str, str]:
    """(booking id, its departure, a later departure with seats); `asked`: the customer has
    asked to move there."""
    with transaction(db) as s:
        departures = [
            d
            for d in catalog.departures_of(s, catalog.get_product(s, "EBC"))
            if (d.start_date - clock.local_today()).days > 30
        ]
        later = next(d for d in departures[1:] if inventory.seat_counts(s, d).available >= 2)
        booking = factories.confirmed_booking(s, departures[0], 2)
        if asked:
            reschedules.request_reschedule(s, booking, later.id, SYSTEM)
        return booking.id, departures[0].id, later.id


def test_the_rep_approves_the_customers_request_on_the_booking_page(console, pg_db_url):
    booking_id, _first, later = _booked(pg_db_url, asked=True)
    sarah = console.sign_in(SARAH)
    page = sarah.get(f"/console/bookings/{booking_id}")
    assert page.status_code == 200 and "Another date" in page.text
    assert "Approve the move" in page.text
    with transaction(pg_db_url) as s:
        request_id = s.query(RescheduleRequest).one().id
    done = sarah.post(
        f"/console/bookings/{booking_id}/move",
        follow_redirects=True,
        data={"csrf": _csrf(page), "action": "approve", "request": request_id},
    )
    assert done.status_code == 200 and "moved; the customer is told" in done.text
    stale = sarah.post(
        f"/console/bookings/{booking_id}/move",
        follow_redirects=True,
        data={"csrf": _csrf(page), "action": "decline", "request": request_id},
    )
    assert "already decided" in stale.text
    with transaction(pg_db_url) as s:
        assert s.get(Booking, booking_id).departure_id == later
        assert s.get(RescheduleRequest, request_id).status == RescheduleStatus.APPROVED


def test_the_rep_declines_with_a_reason_or_moves_the_booking_themselves(console, pg_db_url):
    booking_id, first, later = _booked(pg_db_url, asked=True)
    sarah = console.sign_in(SARAH)
    page = sarah.get(f"/console/bookings/{booking_id}")
    with transaction(pg_db_url) as s:
        request_id = s.query(RescheduleRequest).one().id
    sarah.post(
        f"/console/bookings/{booking_id}/move",
        follow_redirects=True,
        data={
            "csrf": _csrf(page),
            "action": "decline",
            "request": request_id,
            "reason": "that group is private",
        },
    )
    with transaction(pg_db_url) as s:
        assert s.get(Booking, booking_id).departure_id == first
        assert s.get(RescheduleRequest, request_id).reason == "that group is private"
    moved = sarah.post(
        f"/console/bookings/{booking_id}/move",
        follow_redirects=True,
        data={"csrf": _csrf(page), "action": "move", "departure": later, "notify": "1"},
    )
    assert "moved to the new departure" in moved.text
    with transaction(pg_db_url) as s:
        assert s.get(Booking, booking_id).departure_id == later


PRIYA = "+9779801000002"


def test_ops_move_a_departure_and_see_the_board_sales_cannot(console, pg_db_url):
    booking_id, first, later = _booked(pg_db_url, asked=False)
    sarah = console.sign_in(SARAH)
    page = sarah.get(f"/console/departures/{first}")
    assert page.status_code == 200 and "Move this departure" not in page.text
    refused = sarah.post(
        f"/console/departures/{first}/move",
        data={"csrf": _csrf(page), "to_departure": later, "reason": "weather"},
    )
    assert refused.status_code == 403
    priya = console.sign_in(PRIYA)
    page = priya.get(f"/console/departures/{first}")
    assert "Move this departure" in page.text
    moved = priya.post(
        f"/console/departures/{first}/move",
        follow_redirects=True,
        data={"csrf": _csrf(page), "to_departure": later, "reason": "Lukla flights grounded"},
    )
    assert "offered the new dates" in moved.text
    assert "Waiting (" in moved.text and "Lukla flights grounded" in moved.text
    with transaction(pg_db_url) as s:
        assert s.get(Booking, booking_id).departure_id == first  # until the customer answers


def test_ops_set_a_minimum_and_run_a_short_departure_anyway(console, pg_db_url):
    _booking_id, first, _later = _booked(pg_db_url, asked=False)
    priya = console.sign_in(PRIYA)
    page = priya.get(f"/console/departures/{first}")
    assert "No minimum group size" in page.text
    saved = priya.post(
        f"/console/departures/{first}/guarantee",
        follow_redirects=True,
        data={"csrf": _csrf(page), "action": "minimum", "minimum": "12"},
    )
    assert "Minimum group size saved" in saved.text and "not yet" in saved.text
    ran = priya.post(
        f"/console/departures/{first}/guarantee",
        follow_redirects=True,
        data={"csrf": _csrf(page), "action": "run"},
    )
    assert "it is guaranteed" in ran.text and ">guaranteed<" in ran.text
