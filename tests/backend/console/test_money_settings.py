"""The administration page's money settings: an admin sets an exchange rate and sees the rates'
history, edits the house cancellation policy and a product's own; a rep cannot."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
from sqlalchemy import select

from backend.db import transaction
from backend.models import ExchangeRate
from backend.services import cancellation_policy, catalog

SARAH, ANIL = "+9779801000001", "+9779801000009"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _today(page: httpx.Response) -> date:
    return date.fromisoformat(re.search(r'id="r-from"[^>]*value="([0-9-]+)"', page.text).group(1))


def test_an_admin_sets_a_rate_and_sees_its_history(console, pg_db_url):
    browser = console.sign_in(ANIL)
    page = browser.get("/console/admin")
    assert page.status_code == 200 and "No rate is set yet" in page.text
    today = _today(page)
    past = browser.post(
        "/console/admin/rates",
        data={
            "csrf": _csrf(page),
            "currency": "EUR",
            "rate": "1.08",
            "buffer_percent": "2",
            "valid_from": (today - timedelta(days=1)).isoformat(),
        },
    )
    assert past.status_code == 303
    page = browser.get("/console/admin")
    assert "would change days already booked" in page.text
    for rate, day in (("1.08", today), ("1.1", today + timedelta(days=3))):
        done = browser.post(
            "/console/admin/rates",
            data={
                "csrf": _csrf(page),
                "currency": "eur",
                "rate": rate,
                "buffer_percent": "2",
                "valid_from": day.isoformat(),
            },
        )
        assert done.status_code == 303
        page = browser.get("/console/admin")
    assert "1 EUR = 1.1 USD from" in page.text  # the last one's flash
    assert page.text.count("1 EUR = ") >= 3 and "ahead" in page.text  # both in the history
    with transaction(pg_db_url) as s:
        assert sorted(s.scalars(select(ExchangeRate.rate))) == ["1.08", "1.1"]


def test_an_admin_edits_the_house_policy_and_a_products_own(console, pg_db_url):
    browser = console.sign_in(ANIL)
    page = browser.get("/console/admin")
    assert "30+ days 100% − $50 · 15+ days 70% · 0+ days 0%" in page.text
    assert "1+ days 100% · 0+ days 0%" in page.text  # the Pokhara tour's own
    saved = browser.post(
        "/console/admin/policy",
        data={
            "csrf": _csrf(page),
            "days_0": "60",
            "percent_0": "90",
            "fee_0": "25",
            "days_1": "0",
            "percent_1": "0",
        },
    )
    assert saved.status_code == 303
    with transaction(pg_db_url) as s:
        ebc = catalog.get_product(s, "EBC")
        pkr_id = catalog.get_product(s, "PKR").id
        assert cancellation_policy.lines_for(s, ebc) == [
            cancellation_policy.PolicyLine(60, 90, 25_00),
            cancellation_policy.PolicyLine(0, 0),
        ]
    page = browser.get("/console/admin")
    # No 0-day line: refused with the reason, nothing changed.
    refused = browser.post(
        f"/console/admin/products/{pkr_id}/policy",
        data={"csrf": _csrf(page), "days_0": "2", "percent_0": "100"},
    )
    assert refused.status_code == 303
    page = browser.get("/console/admin")
    assert "add a line for 0 days" in page.text
    browser.post(
        f"/console/admin/products/{pkr_id}/policy", data={"csrf": _csrf(page), "house": "1"}
    )
    with transaction(pg_db_url) as s:
        pkr = catalog.get_product(s, "PKR")
        assert cancellation_policy.own_lines(s, pkr) == []
        assert cancellation_policy.lines_for(s, pkr)[0].days_before == 60


def test_a_rep_cannot_set_a_rate_or_change_the_policy(console, pg_db_url):
    browser = console.sign_in(SARAH)
    page = browser.get("/console/leads")
    answer = browser.post(
        "/console/admin/rates", data={"csrf": _csrf(page), "currency": "EUR", "rate": "1.08"}
    )
    assert answer.status_code == 403
    answer = browser.post(
        "/console/admin/policy",
        data={"csrf": _csrf(page), "days_0": "0", "percent_0": "100"},
    )
    assert answer.status_code == 403
    with transaction(pg_db_url) as s:
        assert s.scalar(select(ExchangeRate.id)) is None
        assert cancellation_policy.own_lines(s, None) == list(cancellation_policy.HOUSE_LINES)
