"""Campaigns over the admin API (issue 26): ADMIN creates, OPS or SALES send (each recipient
once), a guide does neither; OPS reads Meta's messaging limit."""

from __future__ import annotations

from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)

CAMPAIGN = {
    "name": "Spring on Everest",
    "template": "departure_news",
    "params": ["Everest Base Camp", "Spring departures are open."],
    "audience": {"kind": "past_travellers", "product": "EBC"},
}


def test_admin_creates_sales_sends_a_guide_does_neither(backend_url, world):
    for who in ("sales", "ops", "guide"):
        refused = call(backend_url, world[who], "POST", "/api/campaigns", json=CAMPAIGN)
        assert refused.status_code == 403, who
    made = call(backend_url, world["admin"], "POST", "/api/campaigns", json=CAMPAIGN)
    assert made.status_code == 200, made.text
    campaign = made.json()["campaign"]
    assert campaign["template"] == "departure_news" and campaign["sentAt"] is None
    assert set(campaign["counts"]) == {"matched", "optedIn", "excluded"}
    path = f"/api/campaigns/{campaign['id']}/send"
    assert call(backend_url, world["guide"], "POST", path).status_code == 403
    sent = call(backend_url, world["sales"], "POST", path)
    assert sent.status_code == 200, sent.text
    first = sent.json()
    assert first["queued"] == first["campaign"]["counts"]["optedIn"]
    again = call(backend_url, world["ops"], "POST", path).json()
    assert again["queued"] == 0 and again["already"] == first["queued"]
    shown = call(backend_url, world["sales"], "GET", f"/api/campaigns/{campaign['id']}").json()
    assert shown["campaign"]["sentAt"] is not None
    listed = call(backend_url, world["ops"], "GET", "/api/campaigns").json()["campaigns"]
    assert [c["id"] for c in listed] == [campaign["id"]]


def test_a_utility_template_is_not_a_campaign(backend_url, world):
    wrong = {**CAMPAIGN, "template": "customer_update", "params": ["x"]}
    refused = call(backend_url, world["admin"], "POST", "/api/campaigns", json=wrong)
    assert refused.status_code == 409 and "marketing" in refused.json()["error"]


def test_ops_reads_the_messaging_limit(backend_url, world):
    assert call(backend_url, world["sales"], "GET", "/api/messaging-limit").status_code == 403
    limit = call(backend_url, world["ops"], "GET", "/api/messaging-limit").json()
    assert limit["tier"] == "TIER_250" and limit["limit"] == 250
