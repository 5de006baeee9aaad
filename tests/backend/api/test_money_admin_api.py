"""Money settings over the admin API: exchange rates (ADMIN sets, never for a past day nor twice
a day), the house and a product's cancellation policy (ADMIN edits; an empty list falls back to
the house lines), and what a booking would get back on a day."""

from __future__ import annotations

from datetime import date, timedelta

from backend.db import transaction
from backend.services import catalog
from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)


def _today(backend_url, token) -> date:
    return date.fromisoformat(
        call(backend_url, token, "GET", "/api/exchange-rates").json()["today"]
    )


def test_only_admin_sets_a_rate_and_never_for_a_past_day(backend_url, world):
    today = _today(backend_url, world["sales"])
    body = {"currency": "EUR", "rate": "1.08", "bufferPercent": "2"}
    assert (
        call(backend_url, world["sales"], "POST", "/api/exchange-rates", json=body).status_code
        == 403
    )
    assert (
        call(backend_url, world["ops"], "POST", "/api/exchange-rates", json=body).status_code == 403
    )
    assert call(backend_url, world["guide"], "GET", "/api/exchange-rates").status_code == 403
    past = {**body, "validFrom": (today - timedelta(days=1)).isoformat()}
    refused = call(backend_url, world["admin"], "POST", "/api/exchange-rates", json=past)
    assert refused.status_code == 409 and "days already booked" in refused.json()["error"]
    made = call(backend_url, world["admin"], "POST", "/api/exchange-rates", json=body)
    assert made.status_code == 200, made.text
    rate = made.json()["rate"]
    assert (rate["currency"], rate["baseCurrency"], rate["rate"], rate["bufferPercent"]) == (
        "EUR",
        "USD",
        "1.08",
        "2",
    )
    assert rate["validFrom"] == today.isoformat()
    again = call(backend_url, world["admin"], "POST", "/api/exchange-rates", json=body)
    assert again.status_code == 409 and "already set" in again.json()["error"]
    later = {**body, "rate": "1.1", "validFrom": (today + timedelta(days=1)).isoformat()}
    assert call(backend_url, world["admin"], "POST", "/api/exchange-rates", json=later).is_success
    listed = call(backend_url, world["sales"], "GET", "/api/exchange-rates?currency=eur").json()
    assert [r["rate"] for r in listed["rates"]] == ["1.1", "1.08"]
    bad = call(backend_url, world["admin"], "POST", "/api/exchange-rates", json={"rate": "1"})
    assert bad.status_code == 422 and "currency" in bad.json()["fields"]


def test_the_policy_is_read_by_staff_and_edited_by_admin(backend_url, world, pg_db_url):
    house = call(backend_url, world["sales"], "GET", "/api/cancellation-policy").json()["policy"]
    assert [line["daysBefore"] for line in house["lines"]] == [30, 15, 0]
    assert house["lines"][0]["fee"]["display"] == "$50"
    pokhara = call(backend_url, world["ops"], "GET", "/api/products/pkr/cancellation-policy")
    assert pokhara.json()["policy"]["own"] is True
    assert [line["daysBefore"] for line in pokhara.json()["policy"]["lines"]] == [1, 0]

    lines = {
        "lines": [
            {"daysBefore": 45, "refundPercent": 100, "fee": "75.00"},
            {"daysBefore": 0, "refundPercent": 0},
        ]
    }
    path = "/api/products/EBC/cancellation-policy"
    assert call(backend_url, world["sales"], "PUT", path, json=lines).status_code == 403
    assert call(backend_url, world["guide"], "GET", path).status_code == 403
    changed = call(backend_url, world["admin"], "PUT", path, json=lines)
    assert changed.status_code == 200, changed.text
    policy = changed.json()["policy"]
    assert policy["own"] is True and policy["lines"][0]["fee"]["minor"] == 75_00
    # Lines that make no policy: refused with the reason, nothing changed.
    no_zero = {"lines": [{"daysBefore": 10, "refundPercent": 50}]}
    refused = call(backend_url, world["admin"], "PUT", path, json=no_zero)
    assert refused.status_code == 409 and "0 days" in refused.json()["error"]
    bad_fee = {"lines": [{"daysBefore": 0, "refundPercent": 0, "fee": "1.234"}]}
    assert call(backend_url, world["admin"], "PUT", path, json=bad_fee).status_code == 422
    over = {"lines": [{"daysBefore": 0, "refundPercent": 120}]}
    assert call(backend_url, world["admin"], "PUT", path, json=over).status_code == 422
    assert (
        call(backend_url, world["sales"], "GET", path).json()["policy"]["lines"][0]["daysBefore"]
        == 45
    )
    # An empty list: the house policy applies to the product again.
    cleared = call(backend_url, world["admin"], "PUT", path, json={"lines": []}).json()["policy"]
    assert cleared["own"] is False and [line["daysBefore"] for line in cleared["lines"]] == [
        30,
        15,
        0,
    ]
    with transaction(pg_db_url) as s:
        from backend.services import cancellation_policy

        assert cancellation_policy.own_lines(s, catalog.get_product(s, "EBC")) == []


def test_what_a_booking_would_get_back_on_a_day(backend_url, world, pg_db_url):
    with transaction(pg_db_url) as s:
        from sqlalchemy import select

        from backend.models import Booking

        booking = next(
            b
            for b in s.scalars(select(Booking).order_by(Booking.reference))
            if b.departure.product.code == "EBC" and b.paid_minor > 0
        )
        reference, start, paid = booking.reference, booking.departure.start_date, booking.paid_minor
    early = (start - timedelta(days=30)).isoformat()
    path = f"/api/bookings/{reference}/refundable"
    answer = call(backend_url, world["sales"], "GET", f"{path}?on={early}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["daysBefore"] == 30 and body["paid"]["minor"] == paid
    assert body["refundable"]["minor"] == paid - 50_00 and body["line"]["refundPercent"] == 100
    late = call(
        backend_url, world["ops"], "GET", f"{path}?on={(start - timedelta(days=14)).isoformat()}"
    )
    assert late.json()["refundable"]["minor"] == 0
    assert call(backend_url, world["guide"], "GET", path).status_code == 403
    assert call(backend_url, world["sales"], "GET", f"{path}?on=soon").status_code == 422
