"""The staff console in a real browser (Debian's Chromium, driven by Playwright) over the whole
stack: Rasa, the action server, the backend with its workers on PostgreSQL and the fake Graph
API. Staff sign in with the code WhatsApp brings them, and work the workflows by clicking; the
live parts update while the page is open. Screenshots of each page go to `var/screenshots/`
(`make screenshots` refreshes the ones in `docs/screenshots/`)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.models import (
    Assignment,
    InboundMessage,
    Incident,
    Lead,
    MediaAttachment,
    Staff,
    Trip,
)
from backend.services import catalog, staff_auth, trips
from devkit.demo import BREAKDOWN_PHOTO
from devkit.demo_data import STORY
from devkit.demo_history import seed_history
from tests.processes import ROOT
from tests.workflows.conftest import body

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.rasa

# `make screenshots` points this at docs/screenshots; a test run changes no tracked file.
SHOTS = Path(os.environ.get("TMS_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
CUSTOMER = "+61499300001"
SARAH, PRIYA, RAJESH, AMIT = "+9779801000001", "+9779801000002", "+9779801000003", "+9779801000004"
LIVE = 20_000  # ms a live update may take (the stream polls every 0.7 s)


def _page(browser, *, phone: bool = False):
    size = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    context = browser.new_context(viewport=size, is_mobile=phone, device_scale_factor=1)
    return context.new_page()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"console-{name}.png"), full_page=True)


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
    .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
    .map(el => el.name || el.id)"""


def _every_field_has_a_label(page) -> None:
    assert page.evaluate(UNLABELLED) == [], f"fields without a label on {page.url}"


def _code_from_whatsapp(stack, phone: str, since: int) -> str:
    for message in reversed(stack.wait_for(phone, since=since)):
        found = re.search(r"sign-in code is (\d{6})\b", body(message))
        if found:
            return found.group(1)
    raise AssertionError(f"no code reached {phone}")


def _sign_in(stack, page, phone: str, *, start: str = "/console/leads") -> None:
    page.goto(f"{stack.backend_url}{start}")
    page.get_by_label("WhatsApp number").fill(phone)
    since = stack.total()
    page.get_by_role("button", name="Send me a code").click()
    page.get_by_label(re.compile("6-digit code")).fill(_code_from_whatsapp(stack, phone, since))
    page.get_by_role("button", name="Sign in").click()


def test_a_rep_takes_the_enquiry_from_the_live_inbox_quotes_and_holds(stack, browser, pg_db_url):
    stack.clock.at(STORY.today, "13:45")
    page = _page(browser, phone=True)
    # A wrong code first: refused, nothing opens.
    page.goto(f"{stack.backend_url}/console/leads")
    page.get_by_label("WhatsApp number").fill(SARAH)
    _shot(page, "sign-in")
    since = stack.total()
    page.get_by_role("button", name="Send me a code").click()
    real = _code_from_whatsapp(stack, SARAH, since)
    page.get_by_label(re.compile("6-digit code")).fill(f"{(int(real) + 1) % 10**6:06d}")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("That code did not work")
    # The same page asks again; the code on the phone still works (a second code within the
    # minute is not sent: each one costs the operator money).
    page.get_by_label(re.compile("6-digit code")).fill(real)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/leads$"))
    page.locator("#live-status[data-state=open]").wait_for(timeout=LIVE)

    # Workflow 1 step 1 while the inbox is open: the lead appears without a reload.
    stack.clock.at(STORY.today, "13:50")
    stack.say(
        CUSTOMER, "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March 2025"
    )
    with transaction(pg_db_url) as s:
        lead = s.scalar(select(Lead).where(Lead.contact.has(phone=CUSTOMER)))
        reference, lead_id = lead.reference, lead.id
    row = page.get_by_role("link", name=reference)
    row.wait_for(timeout=LIVE)
    assert "min left" in page.locator("#leads-list").inner_text()
    _shot(page, "leads-inbox")

    # Step 2: the quote, prefilled from the price list with the early bird.
    stack.clock.at(STORY.today, "13:55")
    row.click()
    page.wait_for_url(re.compile(rf"/console/leads/{lead_id}$"))
    assert page.get_by_label("Party size").input_value() == "3"
    assert page.get_by_label(re.compile("Discount")).input_value() == "360.00"
    since = stack.total()
    page.get_by_role("button", name="Send quote").click()
    page.get_by_text("Quote sent on WhatsApp").wait_for()
    (quote,) = stack.wait_for(CUSTOMER, since=since)
    assert quote["text"].startswith("Hello! I'm Sarah from Adventure Treks 👋")
    assert "Early bird discount (book before Jan 31): $6,840" in quote["text"]

    # The quote shows up in the conversation on the page, with its delivery tick.
    page.locator("#lead-chat").get_by_text("Hello! I'm Sarah").wait_for(timeout=LIVE)

    # Step 3 from the console: Hold inventory; the customer gets the hold message.
    stack.clock.at(STORY.today, "14:00")
    since = stack.total()
    page.get_by_role("button", name="Hold inventory").click()
    page.get_by_text(re.compile("Held for 24 hours")).wait_for()
    (held,) = stack.wait_for(CUSTOMER, since=since)
    assert held["text"].startswith("Perfect! I've reserved 3 spots on our March 15 EBC Trek.")
    assert "1. Pay deposit: $2,052 (30%)" in held["text"] and "/pay/" in held["text"]
    _shot(page, "lead")
    _every_field_has_a_label(page)

    # Handoff: the rep pauses the assistant; the customer's next message appears live.
    page.get_by_role("button", name="Pause the assistant").click()
    page.get_by_text(re.compile("Assistant paused")).first.wait_for()
    stack.httpx_inbound = httpx.post(
        f"{stack.fake_url}/_fake/inbound",
        json={"from": CUSTOMER, "text": "Can my son (14) join the trek?", "name": "Emma"},
    )
    page.locator("#lead-chat").get_by_text("Can my son (14) join the trek?").wait_for(timeout=LIVE)
    since = stack.total()
    page.get_by_label(re.compile("Reply on WhatsApp")).fill(
        "Yes, from 12 with a parent. I'll add him."
    )
    page.get_by_role("button", name="Send reply").click()
    (answer,) = stack.wait_for(CUSTOMER, since=since)
    assert answer["text"] == "Yes, from 12 with a parent. I'll add him."


def test_ops_assign_a_guide_see_the_accept_and_handle_the_incident_live(stack, browser, pg_db_url):
    # Priya's morning: she signs in shortly before the incident (a session idles out after
    # 30 minutes of story time, as it would in a real morning).
    stack.clock.at(STORY.pokhara, "10:05")
    with transaction(pg_db_url) as s:
        seed_history(s)  # the KPIs page's past
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"), from_date=STORY.today)[
            0
        ]
        priya = s.scalar(select(Staff).where(Staff.phone == PRIYA))
        link = staff_auth.login_link(s, priya, staff_auth._actor(priya))
        trip = s.scalar(
            select(Trip).where(
                Trip.departure_id
                == catalog.departures_of(s, catalog.get_product(s, "PKR"), from_date=STORY.today)[
                    0
                ].id
            )
        )
        trip_reference, guests = trip.reference, {b.contact.phone for b in trips.guests_of(s, trip)}
    page = _page(browser)
    # Priya's first sign-in: the one-time link `tms staff login-link` prints.
    page.goto(stack.backend_url + "/console/" + link.split("/console/", 1)[1])
    page.get_by_role("button", name="Sign me in").click()
    page.wait_for_url(re.compile(r"/console/incidents$"))

    page.goto(f"{stack.backend_url}/console/departures")
    _shot(page, "departures")
    page.goto(f"{stack.backend_url}/console/departures/{departure.id}")
    page.locator("#live-status[data-state=open]").wait_for(timeout=LIVE)
    with transaction(pg_db_url) as s:
        rajesh_id = s.scalar(select(Staff.id).where(Staff.phone == RAJESH))
    page.get_by_label("Who").select_option(rajesh_id)
    page.get_by_label("Role").select_option("LEAD_GUIDE")
    page.get_by_label(re.compile("Compensation")).fill("800")
    since = stack.total()
    page.get_by_role("button", name="Send the offer on WhatsApp").click()
    page.get_by_text(re.compile("Offer sent to Rajesh Kumar")).wait_for()
    stack.wait_for(RAJESH, since=since)
    # Rajesh accepts on WhatsApp; the page shows it without a reload.
    stack.say(RAJESH, "ACCEPT")
    page.locator("#departure-staff").get_by_text("ACCEPTED", exact=True).wait_for(timeout=LIVE)
    _shot(page, "departure")
    with transaction(pg_db_url) as s:
        assert (
            s.scalar(select(Assignment.status).where(Assignment.staff.has(phone=RAJESH)))
            == "ACCEPTED"
        )

    # Workflow 3 from the incidents board: Amit reports, the board shows it live.
    stack.clock.at(STORY.pokhara, "10:30")
    page.goto(f"{stack.backend_url}/console/incidents")
    page.locator("#live-status[data-state=open]").wait_for(timeout=LIVE)
    stack.say(
        AMIT,
        f"ISSUE {trip_reference} Vehicle breakdown at Pokhara checkpoint. Engine failure. 15 guests waiting.",
    )
    link_to_incident = page.get_by_role("link", name=re.compile("Vehicle breakdown"))
    link_to_incident.wait_for(timeout=LIVE)
    _shot(page, "incidents")
    # Amit's photo of the breakdown: fetched from the (fake) Graph API, then on the incident.
    wamid = stack.send_photo(AMIT, BREAKDOWN_PHOTO, "Engine failure, waiting at the checkpoint")
    deadline = time.monotonic() + 60
    while True:
        with transaction(pg_db_url) as s:
            stored = s.scalar(
                select(MediaAttachment.status)
                .join(InboundMessage, InboundMessage.id == MediaAttachment.inbound_message_id)
                .where(InboundMessage.wamid == wamid)
            )
        if stored == "STORED":
            break
        assert time.monotonic() < deadline, stored
        time.sleep(0.2)
    stack.clock.at(STORY.pokhara, "10:35")
    link_to_incident.click()
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_text("Acknowledged").first.wait_for()
    page.get_by_label("Status", exact=True).select_option("IN_PROGRESS")
    page.get_by_label("ETA", exact=True).fill("11:20 AM")
    page.get_by_label("Message to the guide").fill(
        "Backup vehicle dispatched, ETA 11:20 AM. Keep guests comfortable."
    )
    page.get_by_label("Message to all guests of the trip").fill(
        "We're arranging a fresh vehicle for your comfort. New vehicle arrives: 11:20 AM"
    )
    since = stack.total()
    page.get_by_role("button", name="Save and send").click()
    page.get_by_text(re.compile("Incident updated")).wait_for()
    for phone in guests:
        assert any("fresh vehicle" in body(m) for m in stack.wait_for(phone, since=since))
    stack.wait_for(
        AMIT, since=since, until=lambda found: any("Backup vehicle" in body(m) for m in found)
    )
    with transaction(pg_db_url) as s:
        incident = s.scalar(select(Incident).where(Incident.trip_id == trip.id))
        assert incident.status == "IN_PROGRESS" and incident.acknowledged_at is not None
    photo = page.get_by_role("img", name="Engine failure, waiting at the checkpoint")
    photo.scroll_into_view_if_needed()  # below the guests' details: loaded when scrolled to
    photo.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    assert page.evaluate("img => img.naturalWidth", photo.element_handle()) == 480
    _shot(page, "incident")
    _every_field_has_a_label(page)
    page.goto(f"{stack.backend_url}/console/departures/{departure.id}")
    _every_field_has_a_label(page)

    page.goto(f"{stack.backend_url}/console/kpis")
    assert page.locator("[data-kpi=leads]").inner_text().split()[0].isdigit()
    _shot(page, "kpis")
    page.goto(f"{stack.backend_url}/console/timeline")
    _shot(page, "timeline")


def test_a_guide_sees_only_their_own_page(stack, browser, pg_db_url):
    page = _page(browser, phone=True)
    _sign_in(stack, page, RAJESH, start="/console/")
    page.wait_for_url(re.compile(r"/console/me$"))
    assert page.get_by_role("heading", name=re.compile("My trips")).is_visible()
    _shot(page, "guide")
    answer = page.goto(f"{stack.backend_url}/console/leads")
    assert answer.status == 403
