"""The console's Campaigns page (issue 26): sales, operations and admins see each campaign's
audience and sent, delivered, read and replied counts and Meta's messaging limit; an admin
creates a campaign, sales send it; a guide does not open the page."""

from __future__ import annotations

import re

import httpx

SARAH, PRIYA, RAJESH, ANIL = "+9779801000001", "+9779801000002", "+9779801000003", "+9779801000009"


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_admin_creates_sales_send_and_the_counts_show(console, pg_db_url):
    sarah = console.sign_in(SARAH)
    page = sarah.get("/console/campaigns")
    assert page.status_code == 200 and 'href="/console/campaigns"' in page.text
    assert "New campaign" not in page.text and "Meta's messaging limit" in page.text
    assert '<div class="tablewrap"><table>' in page.text  # a phone scrolls the table, not the page
    refused = sarah.post(
        "/console/campaigns",
        data={"csrf": _csrf(page), "name": "x", "template": "departure_news", "kind": "x"},
    )
    assert refused.status_code == 403

    anil = console.sign_in(ANIL)
    page = anil.get("/console/campaigns")
    assert "New campaign" in page.text and "departure_news" in page.text
    made = anil.post(
        "/console/campaigns",
        data={
            "csrf": _csrf(page),
            "name": "Spring on Everest",
            "template": "departure_news",
            "params": "Everest Base Camp\nSpring departures are open.",
            "kind": "past_travellers",
            "product": "EBC",
            "reply_days": "7",
        },
        follow_redirects=True,
    )
    assert "Campaign created" in made.text, made.text[-2000:]
    assert 'data-campaign="Spring on Everest"' in made.text

    page = sarah.get("/console/campaigns")
    action = re.search(r'action="(/console/campaigns/[^"]+/send)"', page.text)
    assert action is not None
    sent = sarah.post(action.group(1), data={"csrf": _csrf(page)}, follow_redirects=True)
    assert "Queued for" in sent.text
    row = sent.text.split('data-campaign="Spring on Everest"')[1].split("</tr>")[0]
    assert "Send to new opt-ins" in row


def test_a_guide_does_not_open_campaigns(console):
    assert console.sign_in(RAJESH).get("/console/campaigns").status_code == 403
