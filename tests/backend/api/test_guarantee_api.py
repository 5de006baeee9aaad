"""Guaranteed departures over the admin API (OPS, ADMIN; issue 27): the trek's minimum and
deadline (`PUT /api/products/<code>/guarantee`), a departure's own minimum
(`PUT /api/departures/<id>/guarantee`, null: the trek's) and the decision at the deadline
(`POST /api/departures/<id>/guarantee/decision`: run, or cancel with a reason and where the
bookings are offered to go). Malformed input is refused naming the fields, and changes
nothing."""

from __future__ import annotations

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Departure, Product
from backend.services import catalog, guarantees, inventory
from tests.backend.api import test_admin_api, test_reschedule_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)


def _terms(pg_db_url, code: str) -> tuple[int | None, int | None]:
    with transaction(pg_db_url) as s:
        product = catalog.get_product(s, code)
        return product.min_group_size, product.guarantee_days_before


def test_ops_set_the_treks_minimum_and_deadline(backend_url, world, pg_db_url):
    path = "/api/products/EBC/guarantee"
    body = {"minGroupSize": 4, "daysBefore": 45}
    assert call(backend_url, world["sales"], "PUT", path, json=body).status_code == 403
    set_ = call(backend_url, world["ops"], "PUT", path, json=body)
    assert set_.status_code == 200, set_.text
    answer = set_.json()
    assert (answer["product"], answer["minGroupSize"], answer["daysBefore"]) == ("EBC", 4, 45)
    assert answer["departures"] and all(d["minimum"] == 4 for d in answer["departures"])
    first = answer["departures"][0]
    with transaction(pg_db_url) as s:
        departure = s.get(Departure, first["departureId"])
        assert first["deadline"] == guarantees.deadline_of(departure).isoformat()
        assert (departure.start_date - guarantees.deadline_of(departure)).days == 45
    for bad in (
        {"minGroupSize": 0},
        {"minGroupSize": "four"},
        {"daysBefore": 30},  # the minimum must be said, even as null
        {"minGroupSize": 4, "daysBefore": -1},
        {"minGroupSize": 4, "minimum": 4},
    ):
        refused = call(backend_url, world["ops"], "PUT", path, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    assert call(backend_url, world["ops"], "PUT", path, content=b"{not json").status_code == 422
    assert _terms(pg_db_url, "EBC") == (4, 45)  # nothing changed by the refusals
    assert (
        call(
            backend_url, world["ops"], "PUT", "/api/products/NOPE/guarantee", json=body
        ).status_code
        == 404
    )
    cleared = call(backend_url, world["admin"], "PUT", path, json={"minGroupSize": None})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["minGroupSize"], cleared.json()["daysBefore"]) == (None, 30)
    assert all(d["guaranteed"] for d in cleared.json()["departures"])
    assert _terms(pg_db_url, "EBC") == (None, None)


def test_a_departures_own_minimum_set_and_cleared(backend_url, world, pg_db_url):
    _reference, first, _later = test_reschedule_api._booked(pg_db_url)
    with transaction(pg_db_url) as s:
        s.get(Departure, first).product.min_group_size = 3
    path = f"/api/departures/{first}/guarantee"
    assert (
        call(backend_url, world["sales"], "PUT", path, json={"minGroupSize": 9}).status_code == 403
    )
    own = call(backend_url, world["ops"], "PUT", path, json={"minGroupSize": 9})
    assert own.status_code == 200, own.text
    assert own.json()["minimum"] == 9
    for bad in ({}, {"minGroupSize": 0}, {"minGroupSize": 2.5}, {"minGroupSize": 9, "x": 1}):
        assert call(backend_url, world["ops"], "PUT", path, json=bad).status_code == 422, bad
    too_many = call(backend_url, world["ops"], "PUT", path, json={"minGroupSize": 400})
    assert too_many.status_code == 409  # more than the departure's capacity
    assert call(backend_url, world["ops"], "GET", path).json()["minimum"] == 9
    trek = call(backend_url, world["ops"], "PUT", path, json={"minGroupSize": None})
    assert trek.status_code == 200 and trek.json()["minimum"] == 3  # the trek's again


def test_the_decision_run_or_cancel_with_a_reason(backend_url, world, pg_db_url):
    reference, first, later = test_reschedule_api._booked(pg_db_url)
    with transaction(pg_db_url) as s:
        departure = s.get(Departure, first)
        guarantees.set_minimum(s, departure, departure.capacity, SYSTEM)
    path = f"/api/departures/{first}/guarantee/decision"
    cancel = {"decision": "cancel", "reason": "too few travellers", "toDepartureId": later}
    assert call(backend_url, world["sales"], "POST", path, json=cancel).status_code == 403
    for bad in (
        {},
        {"decision": "maybe"},
        {"decision": "cancel", "toDepartureId": later},  # no reason
        {"decision": "cancel", "reason": "too few travellers"},  # nowhere to go
        {**cancel, "startDate": "2031-02-30"},
        {**cancel, "startDate": "2031-03-01"},  # both
    ):
        refused = call(backend_url, world["ops"], "POST", path, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
    status = call(backend_url, world["ops"], "GET", f"/api/departures/{first}/guarantee").json()
    assert status["decision"] is None  # nothing decided by the refusals
    done = call(backend_url, world["ops"], "POST", path, json=cancel)
    assert done.status_code == 200, done.text
    assert done.json()["decision"] == "CANCELLED" and done.json()["guaranteed"] is False
    board = call(backend_url, world["ops"], "GET", f"/api/departures/{first}/move").json()
    assert reference in [o["booking"] for o in board["board"]["waiting"]]
    again = call(backend_url, world["ops"], "POST", path, json={"decision": "run"})
    assert again.status_code == 409 and "Already decided" in again.json()["error"]
    with transaction(pg_db_url) as s:
        assert inventory.closed_reason(s, s.get(Departure, first)) == "cancelled"


def test_running_a_departure_anyway(backend_url, world, pg_db_url):
    _reference, first, _later = test_reschedule_api._booked(pg_db_url)
    path = f"/api/departures/{first}/guarantee/decision"
    no_minimum = call(backend_url, world["ops"], "POST", path, json={"decision": "run"})
    assert no_minimum.status_code == 409  # no minimum: it runs anyway
    with transaction(pg_db_url) as s:
        product = s.get(Departure, first).product
        assert isinstance(product, Product)
        guarantees.set_product_terms(s, product, 12, None, SYSTEM)
    ran = call(backend_url, world["admin"], "POST", path, json={"decision": "run"})
    assert ran.status_code == 200, ran.text
    assert ran.json()["decision"] == "RUN" and ran.json()["guaranteed"] is True
