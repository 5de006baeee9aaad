"""GET/POST /api/bookings/<ref>/reschedule (SALES, OPS, ADMIN): the departures a booking could
move to, a move made by staff, the customer's request approved or declined; guides refused."""

from __future__ import annotations

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.services import bookings, catalog, inventory, reschedules
from tests import factories
from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)


def _booked(pg_db_url, size: int = 2) -> tuple[str, str, str]:
    """A confirmed booking on the first EBC departure more than 30 days out: (reference, its
    departure, a later departure with seats for the party)."""
    with transaction(pg_db_url) as s:
        departures = [
            d
            for d in catalog.departures_of(s, catalog.get_product(s, "EBC"))
            if (d.start_date - clock.local_today()).days > 30
        ]
        first = departures[0]
        later = next(d for d in departures[1:] if inventory.seat_counts(s, d).available >= size)
        booking = factories.confirmed_booking(s, first, size)
        return booking.reference, first.id, later.id


def _path(reference: str) -> str:
    return f"/api/bookings/{reference}/reschedule"


def test_staff_move_a_booking_and_the_answer_shows_it(backend_url, world, pg_db_url):
    reference, _first, later = _booked(pg_db_url)
    listed = call(backend_url, world["sales"], "GET", _path(reference))
    assert listed.status_code == 200, listed.text
    assert later in [d["id"] for d in listed.json()["departures"]]
    moved = call(backend_url, world["ops"], "POST", _path(reference), json={"toDepartureId": later})
    assert moved.status_code == 200, moved.text
    answer = moved.json()
    assert answer["booking"]["departureId"] == later
    assert answer["requests"][0]["status"] == "APPROVED"
    assert answer["requests"][0]["channel"] == "api"
    again = call(backend_url, world["ops"], "POST", _path(reference), json={"toDepartureId": later})
    assert again.status_code == 409  # already there


def test_the_customers_request_is_approved_or_declined(backend_url, world, pg_db_url):
    reference, first, later = _booked(pg_db_url)
    with transaction(pg_db_url) as s:
        reschedules.request_reschedule(s, bookings.find_booking(s, reference), later, SYSTEM)
    declined = call(
        backend_url,
        world["sales"],
        "POST",
        _path(reference),
        json={"decision": "decline", "reason": "that group is private"},
    )
    assert declined.status_code == 200, declined.text
    assert declined.json()["booking"]["departureId"] == first
    assert declined.json()["requests"][0]["status"] == "DECLINED"
    nothing = call(
        backend_url, world["sales"], "POST", _path(reference), json={"decision": "approve"}
    )
    assert nothing.status_code == 409
    with transaction(pg_db_url) as s:
        reschedules.request_reschedule(s, bookings.find_booking(s, reference), later, SYSTEM)
    approved = call(
        backend_url, world["sales"], "POST", _path(reference), json={"decision": "approve"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["booking"]["departureId"] == later


def test_a_guide_cannot_move_bookings(backend_url, world, pg_db_url):
    reference, _first, later = _booked(pg_db_url)
    refused = call(
        backend_url, world["guide"], "POST", _path(reference), json={"toDepartureId": later}
    )
    assert refused.status_code == 403


def test_ops_move_a_departure_and_read_the_board(backend_url, world, pg_db_url):
    reference, first, later = _booked(pg_db_url)
    path = f"/api/departures/{first}/move"
    refused = call(
        backend_url, world["sales"], "POST", path, json={"toDepartureId": later, "reason": "x"}
    )
    assert refused.status_code == 403
    moved = call(
        backend_url,
        world["ops"],
        "POST",
        path,
        json={"toDepartureId": later, "reason": "Lukla flights grounded"},
    )
    assert moved.status_code == 200, moved.text
    board = moved.json()["board"]
    assert reference in [o["booking"] for o in board["waiting"]]
    read = call(backend_url, world["ops"], "GET", path)
    assert read.status_code == 200 and read.json()["move"]["toDepartureId"] == later
    neither = call(backend_url, world["ops"], "POST", path, json={"reason": "weather"})
    assert neither.status_code == 409


def test_ops_set_a_minimum_and_cancel_a_departure_short_of_it(backend_url, world, pg_db_url):
    reference, first, later = _booked(pg_db_url)
    path = f"/api/departures/{first}/guarantee"
    shown = call(backend_url, world["sales"], "GET", path)
    assert shown.status_code == 200 and shown.json()["guaranteed"] is True  # no minimum
    refused = call(backend_url, world["sales"], "POST", path, json={"minGroupSize": 12})
    assert refused.status_code == 403
    set_ = call(backend_url, world["ops"], "POST", path, json={"minGroupSize": 12})
    assert set_.status_code == 200, set_.text
    assert set_.json()["minimum"] == 12 and set_.json()["guaranteed"] is False
    cancelled = call(
        backend_url,
        world["ops"],
        "POST",
        path,
        json={"decision": "cancel", "toDepartureId": later, "reason": "too few travellers"},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["decision"] == "CANCELLED"
    board = call(backend_url, world["ops"], "GET", f"/api/departures/{first}/move").json()
    assert reference in [o["booking"] for o in board["board"]["waiting"]]
