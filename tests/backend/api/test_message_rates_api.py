"""Meta's rate card over the admin API: ADMIN sets a line (never for a past day), OPS reads the
card and the spend, others are refused (issue 26)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)

LINE = {"market": "Germany", "callingCode": "49", "category": "marketing", "price": "0.1400"}


def test_only_admin_updates_the_rate_card(backend_url, world):
    for who in ("sales", "ops", "guide"):
        refused = call(backend_url, world[who], "POST", "/api/message-rates", json=LINE)
        assert refused.status_code == 403, who
    assert call(backend_url, world["sales"], "GET", "/api/message-rates").status_code == 403
    card = call(backend_url, world["ops"], "GET", "/api/message-rates").json()
    today = date.fromisoformat(card["today"])
    later = {**LINE, "validFrom": (today + timedelta(days=3)).isoformat()}
    made = call(backend_url, world["admin"], "POST", "/api/message-rates", json=later)
    assert made.status_code == 200, made.text
    assert made.json()["rate"] | {"id": 0, "setAt": ""} == {
        "id": 0,
        "market": "Germany",
        "callingCode": "49",
        "category": "marketing",
        "price": "0.14",
        "currency": "USD",
        "validFrom": later["validFrom"],
        "setBy": made.json()["rate"]["setBy"],
        "setAt": "",
    }
    card = call(backend_url, world["ops"], "GET", "/api/message-rates").json()
    assert [(r["callingCode"], r["price"]) for r in card["upcoming"]] == [("49", "0.14")]
    past = {**LINE, "validFrom": (today - timedelta(days=1)).isoformat()}
    refused = call(backend_url, world["admin"], "POST", "/api/message-rates", json=past)
    assert refused.status_code == 409 and "already priced" in refused.json()["error"]
    wrong = call(
        backend_url, world["admin"], "POST", "/api/message-rates", json={**LINE, "category": "x"}
    )
    assert wrong.status_code == 409


def test_the_spend_is_read_by_ops(backend_url, world):
    assert call(backend_url, world["sales"], "GET", "/api/message-spend").status_code == 403
    spent = call(backend_url, world["ops"], "GET", "/api/message-spend?since=2026-01-01")
    assert spent.status_code == 200
    assert {"byMonth", "byPurpose", "byCountry", "total", "unpriced"} <= set(spent.json())
    bad = call(backend_url, world["ops"], "GET", "/api/message-spend?since=yesterday")
    assert bad.status_code == 422
