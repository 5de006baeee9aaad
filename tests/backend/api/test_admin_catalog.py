"""Administration through the admin API (ADMIN): products, departures and staff, so that nothing
needs the database by hand. Every change is checked, kept on the timeline, and refused with the
reason when it would break a booking."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.models import Departure, Staff, TimelineEvent
from backend.services import catalog
from tests.conftest import load_demo_world


@pytest.fixture
def admin(backend_url, pg_db_url, story_clock):
    tokens = load_demo_world(pg_db_url).staff_tokens

    def call(method: str, path: str, token: str | None = None, **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token or tokens['Anil Admin']}"}
        return httpx.request(method, f"{backend_url}{path}", headers=headers, timeout=30, **kw)

    call.tokens = tokens  # type: ignore[attr-defined]
    return call


def test_an_admin_adds_a_product_and_changes_its_price(admin, pg_db_url):
    added = admin(
        "POST",
        "/api/products",
        json={
            "code": "mrd",
            "name": "Mardi Himal Trek",
            "aliases": ["Mardi", "mardi himal"],
            "days": 7,
            "price_per_person_minor": 90000,
            "deposit_percent": 25,
            "early_bird_percent": 5,
            "early_bird_days_before": 60,
        },
    )
    assert added.status_code == 200, added.text
    product = added.json()["product"]
    assert product["code"] == "MRD" and product["aliases"] == ["mardi", "mardi himal"]
    again = admin(
        "POST",
        "/api/products",
        json={"code": "MRD", "name": "x", "days": 1, "price_per_person_minor": 1},
    )
    assert again.status_code == 409 and "already exists" in again.json()["error"]
    changed = admin(
        "PATCH", f"/api/products/{product['id']}", json={"price_per_person_minor": 95000}
    )
    assert changed.status_code == 200
    assert changed.json()["changed"] == {"price_per_person_minor": {"from": 90000, "to": 95000}}
    with transaction(pg_db_url) as s:
        assert catalog.find_product(s, "mardi himal").price_per_person_minor == 95000
        actions = s.scalars(
            select(TimelineEvent.action).where(TimelineEvent.object_id == product["id"])
        ).all()
        assert actions == ["tms.product.created", "tms.product.changed"]


def test_bad_product_values_are_refused_with_the_reason(admin):
    bad = admin(
        "POST",
        "/api/products",
        json={"code": "X1", "name": "n", "days": 0, "price_per_person_minor": 1},
    )
    assert bad.status_code == 422 and "days" in bad.json()["fields"]
    code = admin(
        "POST",
        "/api/products",
        json={"code": "E-1", "name": "n", "days": 2, "price_per_person_minor": 1},
    )
    assert code.status_code == 409 and "2-8 letters" in code.json()["error"]
    early = admin(
        "POST",
        "/api/products",
        json={
            "code": "ERL",
            "name": "n",
            "days": 2,
            "price_per_person_minor": 1,
            "early_bird_percent": 5,
        },
    )
    assert early.status_code == 409 and "early-bird" in early.json()["error"]


def test_departures_are_added_and_their_capacity_never_drops_below_the_seats_taken(
    admin, pg_db_url
):
    day = clock.local_today() + timedelta(days=120)
    added = admin(
        "POST",
        "/api/departures",
        json={
            "product": "EBC",
            "start_date": day.isoformat(),
            "capacity": 12,
            "meeting_time": "05:30",
        },
    )
    assert added.status_code == 200, added.text
    new = added.json()["departure"]
    assert new["endDate"] == (day + timedelta(days=13)).isoformat() and new["available"] == 12
    twice = admin(
        "POST",
        "/api/departures",
        json={"product": "EBC", "start_date": day.isoformat(), "capacity": 12},
    )
    assert twice.status_code == 409
    with transaction(pg_db_url) as s:
        full = catalog.departures_of(
            s, catalog.get_product(s, "ANN"), from_date=clock.local_today()
        )[0]
        full_id = full.id
    shrink = admin("PATCH", f"/api/departures/{full_id}", json={"capacity": 10})
    assert shrink.status_code == 409 and "down to 30" in shrink.json()["error"]
    move = admin("PATCH", f"/api/departures/{full_id}", json={"start_date": day.isoformat()})
    assert move.status_code == 409 and "has bookings" in move.json()["error"]
    grow = admin(
        "PATCH", f"/api/departures/{full_id}", json={"capacity": 32, "meeting_point": "Besisahar"}
    )
    assert grow.status_code == 200 and grow.json()["departure"]["available"] == 2
    with transaction(pg_db_url) as s:
        departure = s.get(Departure, full_id)
        assert (departure.capacity, departure.meeting_point) == (32, "Besisahar")
    bad_time = admin("PATCH", f"/api/departures/{full_id}", json={"meeting_time": "25:00"})
    assert bad_time.status_code == 422
    with transaction(pg_db_url) as s:
        ebc_day = catalog.departures_of(
            s, catalog.get_product(s, "EBC"), from_date=clock.local_today()
        )[0].start_date
    taken = admin("PATCH", f"/api/departures/{new['id']}", json={"start_date": ebc_day.isoformat()})
    assert taken.status_code == 409 and "already departs" in taken.json()["error"]


def test_an_admin_adds_staff_and_changes_their_roles_and_availability(admin, pg_db_url):
    added = admin(
        "POST",
        "/api/staff",
        json={"name": "Maya Rai", "phone": "+9779801000011", "roles": ["SALES"]},
    )
    assert added.status_code == 200, added.text
    maya, token = added.json()["staff"], added.json()["token"]
    assert admin("GET", "/api/leads", token=token).status_code == 200
    changed = admin(
        "PATCH", f"/api/staff/{maya['id']}", json={"roles": ["OPS"], "available": False}
    )
    assert changed.status_code == 200 and changed.json()["staff"]["roles"] == ["OPS"]
    assert admin("GET", "/api/leads", token=token).status_code == 403
    assert admin("GET", "/api/incidents", token=token).status_code == 200
    none = admin("PATCH", f"/api/staff/{maya['id']}", json={"roles": []})
    assert none.status_code == 422
    with transaction(pg_db_url) as s:
        member = s.scalar(select(Staff).where(Staff.phone == "+9779801000011"))
        assert member.available is False
    sales = admin("POST", "/api/products", token=admin.tokens["Sarah Gurung"], json={})
    assert sales.status_code == 403


def test_the_last_administrator_cannot_be_removed(admin, pg_db_url):
    with transaction(pg_db_url) as s:
        anil = s.scalar(select(Staff).where(Staff.name == "Anil Admin")).id
    demoted = admin("PATCH", f"/api/staff/{anil}", json={"roles": ["SALES"]})
    assert demoted.status_code == 409 and "last administrator" in demoted.json()["error"]
    gone = admin("POST", f"/api/staff/{anil}/deactivate")
    assert gone.status_code == 409 and "yourself" in gone.json()["error"]


def test_what_the_fuzzer_found_is_answered_not_crashed(admin):
    nul = admin(
        "POST",
        "/api/departures",
        json={"product": "EB\u0000C", "start_date": "2030-03-01", "capacity": 10},
    )
    assert nul.status_code == 422
    far = admin(
        "POST",
        "/api/departures",
        json={"product": "EBC", "start_date": "9999-12-31", "capacity": 10},
    )
    assert far.status_code == 409 and "2100" in far.json()["error"]
