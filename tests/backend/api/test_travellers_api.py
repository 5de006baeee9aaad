"""The traveller file over the admin API: OPS and ADMIN read and set a booking's travellers
(camelCase keys, all or nothing, each read on the timeline), SALES sees a departure's
readiness but no papers, guides see neither; the permit worksheet is a CSV of the
departure's travellers."""

from __future__ import annotations

from datetime import timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.models import TimelineEvent
from backend.services import catalog
from tests import factories
from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)


def _booking(pg_db_url) -> tuple[str, str, dict]:
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = factories.confirmed_booking(s, departure, 2)
        body = {
            "fullName": "Ava Martin",
            "nationality": "au",
            "passportNumber": "PA1234567",
            "passportExpiry": (departure.end_date + relativedelta(years=2)).isoformat(),
            "dateOfBirth": (clock.local_today() - relativedelta(years=29)).isoformat(),
            "sex": "F",
            "insurer": "Cover-More",
            "policyNumber": "CM-5521",
            "assistancePhone": "+61 2 8907 5619",
            "coversHelicopter": True,
            "coverAltitudeM": 5000,
            "emergencyName": "Liam Martin",
            "emergencyRelationship": "partner",
            "emergencyPhone": "+61412345678",
            "diet": "vegetarian",
            "medical": "penicillin allergy",
            "arrivalFlight": "TG 319",
            "arrivalDate": (departure.start_date - timedelta(days=1)).isoformat(),
        }
        return booking.reference, departure.id, body


def test_ops_sets_a_traveller_and_reads_it_back(backend_url, world, pg_db_url):
    reference, _, body = _booking(pg_db_url)
    put = call(
        backend_url, world["ops"], "PUT", f"/api/bookings/{reference}/travellers/1", json=body
    )
    assert put.status_code == 200, put.text
    answer = put.json()
    assert answer["nationality"] == "AU" and answer["passportNumber"] == "PA1234567"
    assert answer["flags"] == ["cover_below_altitude"]  # 5,000 m < Kala Patthar's 5,545 m
    assert answer["missing"] == ["passport_photo", "portrait_photo"]
    listed = call(backend_url, world["admin"], "GET", f"/api/bookings/{reference}/travellers")
    assert listed.status_code == 200
    first, second = listed.json()["travellers"]
    assert first["medical"] == "penicillin allergy" and second["fullName"] is None
    with transaction(pg_db_url) as s:
        reads = s.scalars(
            select(TimelineEvent).where(
                TimelineEvent.action == "tms.traveller.papers_read",
                TimelineEvent.content["booking"].as_string() == reference,
            )
        ).all()
    assert len(reads) == 1


def test_one_wrong_field_is_422_naming_it_and_saves_nothing(backend_url, world, pg_db_url):
    reference, _, body = _booking(pg_db_url)
    bad = body | {"emergencyPhone": "ring my mum", "sex": "Q"}
    put = call(
        backend_url, world["ops"], "PUT", f"/api/bookings/{reference}/travellers/1", json=bad
    )
    assert put.status_code == 422
    assert set(put.json()["fields"]) == {"emergencyPhone", "sex"}
    unknown = call(
        backend_url,
        world["ops"],
        "PUT",
        f"/api/bookings/{reference}/travellers/1",
        json={"shoeSize": 42},
    )
    assert unknown.status_code == 422
    listed = call(backend_url, world["ops"], "GET", f"/api/bookings/{reference}/travellers")
    assert listed.json()["travellers"][0]["passportNumber"] is None
    beyond = call(
        backend_url, world["ops"], "PUT", f"/api/bookings/{reference}/travellers/3", json={}
    )
    assert beyond.status_code == 404


def test_sales_sees_readiness_but_no_papers_and_guides_neither(backend_url, world, pg_db_url):
    reference, departure_id, body = _booking(pg_db_url)
    call(backend_url, world["ops"], "PUT", f"/api/bookings/{reference}/travellers/1", json=body)
    papers = f"/api/bookings/{reference}/travellers"
    assert call(backend_url, world["sales"], "GET", papers).status_code == 403
    assert call(backend_url, world["guide"], "GET", papers).status_code == 403
    ready = call(backend_url, world["sales"], "GET", f"/api/departures/{departure_id}/readiness")
    assert ready.status_code == 200
    assert "PA1234567" not in ready.text and "penicillin" not in ready.text
    mine = next(b for b in ready.json()["bookings"] if b["booking"] == reference)
    assert (mine["total"], mine["complete"]) == (2, 0) and mine["flags"] == ["cover_below_altitude"]
    assert (
        call(
            backend_url, world["guide"], "GET", f"/api/departures/{departure_id}/readiness"
        ).status_code
        == 403
    )
    sheet = f"/api/departures/{departure_id}/permits.csv"
    assert call(backend_url, world["sales"], "GET", sheet).status_code == 403
    csv = call(backend_url, world["ops"], "GET", sheet)
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "PA1234567" in csv.text and "Ava Martin" in csv.text
