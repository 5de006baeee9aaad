"""An incident on the mountain in the console, over real HTTP as the demo's staff use it: OPS
sees the guests' insurer, policy and assistance number (one tap: a `tel:` link), emergency
contact and medical notes on the incident's page, records the insurer-first checklist's steps
through its forms (the evacuation before the insurer comes back with the reason) and gets the
dossier; SALES and the guide open none of it. A screenshot on a phone (Chromium)."""

from __future__ import annotations

from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Staff, TimelineEvent
from backend.services import catalog, incidents, staff_auth, travellers, trips
from backend.services import staff as staff_service
from tests import factories
from tests.backend.console.test_papers_console import (
    ANIL,
    PHONE,
    PRIYA,
    RAJESH,
    SARAH,
    SHOTS,
    _csrf,
    _papers,
)


def _incident(pg_db_url) -> tuple[str, str]:
    """Ava Martin (Cover-More) and Noah on the demo's Everest trip; Rajesh reports that Ava
    fell. Returns the incident's id and the booking's reference."""
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = factories.confirmed_booking(s, departure, 2)
        travellers.save(s, booking, 1, _papers(departure), SYSTEM)
        travellers.save(s, booking, 2, {"full_name": "Noah Martin"}, SYSTEM)
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff_service.by_phone(s, RAJESH)
        incident = incidents.report_incident(
            s,
            trip,
            rajesh,
            "Ava Martin fell above Lobuche, suspected fractured ankle, needs helicopter evacuation",
            SYSTEM,
        )
        return incident.id, booking.reference


def test_ops_sees_the_guests_details_and_records_the_checklist_insurer_first(console, pg_db_url):
    incident_id, reference = _incident(pg_db_url)
    page_path = f"/console/incidents/{incident_id}"
    browser = console.sign_in(PRIYA)
    page = browser.get(page_path)
    assert page.status_code == 200
    text = page.text
    assert "Insurer-first checklist" in text and 'id="incident-guests"' in text
    assert 'href="tel:+61289075619"' in text and "Call Cover-More" in text  # one tap
    assert "CM-5521" in text and "penicillin allergy" in text
    assert 'href="tel:+61412345678"' in text and "Liam Martin (partner)" in text
    assert "no helicopter cover" in text
    assert "Noah Martin" not in text  # the report names Ava: her alone, the rest a link away
    assert "Noah Martin" in browser.get(page_path, params={"guests": "all"}).text
    csrf = _csrf(page)
    post = f"{page_path}/rescue"
    heli = {"csrf": csrf, "step": "evacuation_arranged", "provider": "Simrik Air"}
    heli["at"] = "2024-12-23T16:00"
    refused = browser.post(post, data=heli)
    assert refused.status_code == 303 and refused.headers["location"] == page_path
    assert "Call the insurer&#39;s 24-hour assistance team first" in browser.get(page_path).text
    assert browser.post(post, data={"step": "insurer_called", "case": "CM-1"}).status_code == 403
    called = browser.post(post, data={"csrf": csrf, "step": "insurer_called", "case": "CM-77120"})
    assert called.status_code == 303
    assert browser.post(post, data=heli).status_code == 303
    page = browser.get(page_path).text
    assert "Insurer's case number: CM-77120" in page
    assert page.count('data-record="insurer_called"') == 1
    assert 'data-record="evacuation_arranged"' in page and "Simrik Air" in page
    assert "Priya Thapa" in page
    dossier = browser.get(f"{page_path}/dossier.pdf")
    assert dossier.status_code == 200 and dossier.content.startswith(b"%PDF-")
    with transaction(pg_db_url) as s:
        priya = s.scalar(select(Staff).where(Staff.phone == PRIYA))
        steps = s.scalars(
            select(TimelineEvent)
            .where(
                TimelineEvent.object_id == incident_id,
                TimelineEvent.action.like("tms.incident.rescue.%"),
            )
            .order_by(TimelineEvent.id)
        ).all()
        assert [(e.action, e.actor_staff_id) for e in steps[1:]] == [
            ("tms.incident.rescue.insurer_called", priya.id),
            ("tms.incident.rescue.evacuation_arranged", priya.id),
        ]
        reads = s.scalars(
            select(TimelineEvent).where(
                TimelineEvent.action == "tms.traveller.papers_read",
                TimelineEvent.content["booking"].as_string() == reference,
            )
        ).all()
        assert {e.actor_staff_id for e in reads} == {priya.id}
        assert any(e.content["what"].startswith("incident dossier") for e in reads)


def test_sales_and_the_guide_see_nothing_of_it(console, pg_db_url):
    incident_id, _ = _incident(pg_db_url)
    for who in (SARAH, RAJESH):
        browser = console.sign_in(who)
        for path in ("", "/dossier.pdf"):
            answer = browser.get(f"/console/incidents/{incident_id}{path}")
            assert answer.status_code == 403, (who, path)
            assert "CM-5521" not in answer.text and "penicillin" not in answer.text
    admin = console.sign_in(ANIL).get(f"/console/incidents/{incident_id}")
    assert admin.status_code == 200 and 'href="tel:+61289075619"' in admin.text


def test_the_checklist_on_a_phone(browser, console, pg_db_url):
    """Chromium on a phone: the call button, the first step recorded through its form.
    The screenshot goes to var/screenshots/incident-rescue.png."""
    incident_id, _ = _incident(pg_db_url)
    with transaction(pg_db_url) as s:
        member = s.scalar(select(Staff).where(Staff.phone == PRIYA))
        cookie = staff_auth.open_session(s, member, how="test").cookie
    context = browser.new_context(**PHONE)
    context.add_cookies(
        [{"name": "tms_console", "value": cookie, "url": f"{console.url}/console/"}]
    )
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(f"{console.url}/console/incidents/{incident_id}")
        call = page.get_by_role("link", name="Call Cover-More")
        assert call.get_attribute("href") == "tel:+61289075619"
        page.locator("#r-case").fill("CM-77120")
        page.locator("#r-insurer").fill("Cover-More")
        page.get_by_role("button", name="Record: insurer called, case number recorded").click()
        page.locator(".flash").wait_for()
        assert "recorded by Priya Thapa" in page.locator(".flash").inner_text()
        assert "CM-77120" in page.locator("#rescue").inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
        page.screenshot(path=str(SHOTS / "incident-rescue.png"), full_page=True)
    finally:
        context.close()
