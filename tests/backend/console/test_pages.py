"""The console's pages over real HTTP, as a rep, an ops manager, a guide and an admin use them:
who may open what, the CSRF check, and the forms that change things (the customer hears about
it on WhatsApp, through the fake Graph API)."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from sqlalchemy import select

from backend.app import create_app
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Departure, Incident, Lead, Staff, TimelineEvent, Trip
from backend.services import assignments, catalog, contacts, languages, leads, trips

SARAH, PRIYA, RAJESH, ANIL = "+9779801000001", "+9779801000002", "+9779801000003", "+9779801000009"
CUSTOMER = "+61499123456"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _messages_to(console, phone: str, since: int, expect: int = 1) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{console.fake_url}/_fake/messages", params={"to": phone, "since": since}
        ).json()["messages"]
        if len(found) >= expect:
            return [m["text"] if m["type"] != "template" else m["rendered"] for m in found]
        time.sleep(0.1)
    raise AssertionError(f"no message to {phone}")


def _new_lead(db: str, console=None) -> str:
    """A lead from Maya; with `console`, she has just written on WhatsApp (the 24-hour window
    is open; the assistant is paused for her so that no Rasa is needed here)."""
    with transaction(db) as s:
        contact = contacts.get_or_create_contact(s, CUSTOMER, name="Maya Lindqvist")
        lead = leads.create_lead(
            s,
            contact=contact,
            product=catalog.get_product(s, "EBC"),
            party_size=3,
            travel_date_text="March",
            enquiry_text="Everest Base Camp for 3 in March",
            actor=SYSTEM,
        )
        conversation, _ = contacts.get_or_open_conversation(s, contact)
        contacts.set_bot_paused(s, conversation, True, SYSTEM)
        lead_id = lead.id
    if console is not None:
        httpx.post(
            f"{console.fake_url}/_fake/inbound",
            json={"from": CUSTOMER, "text": "Hi, any news on my quote?", "name": "Maya"},
        ).raise_for_status()
        deadline = time.monotonic() + 20
        while True:
            with transaction(db) as s:
                contact = contacts.find_contact(s, CUSTOMER)
                if contacts.window_open(contact):
                    break
            assert time.monotonic() < deadline, "the customer's message was not stored"
            time.sleep(0.1)
    return lead_id


def test_every_console_route_names_who_may_use_it():
    app = create_app(workers=False)
    for route in app.router.routes:
        path = "/" + route.path
        if not path.startswith("/console"):
            continue
        handler = route.handler
        assert getattr(handler, "tms_roles", None) or getattr(handler, "tms_access", None), path


def test_no_session_goes_to_sign_in_and_comes_back(console):
    answer = console.client().get("/console/leads?status=NEW")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=/console/leads%3Fstatus%3DNEW"
    # The next page is never another site.
    page = console.client().get("/console/sign-in", params={"next": "https://evil.example/x"})
    assert 'name="next" value=""' in page.text


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        (RAJESH, "/console/leads", 403),
        (RAJESH, "/console/incidents", 403),
        (RAJESH, "/console/kpis", 403),
        (RAJESH, "/console/me", 200),
        (SARAH, "/console/incidents", 403),
        (SARAH, "/console/admin", 403),
        (PRIYA, "/console/leads", 403),
        (PRIYA, "/console/departures", 200),
        (ANIL, "/console/leads", 200),
        (ANIL, "/console/admin", 200),
    ],
)
def test_roles_decide_which_pages_open(console, who, path, status):
    assert console.sign_in(who).get(path).status_code == status


def test_a_form_without_its_csrf_token_changes_nothing(console, pg_db_url):
    lead_id = _new_lead(pg_db_url)
    browser = console.sign_in(SARAH)
    page = browser.get(f"/console/leads/{lead_id}")
    forged = browser.post(f"/console/leads/{lead_id}/lost", data={"reason": "forged"})
    assert forged.status_code == 403 and "nothing was changed" in forged.text
    other_site = browser.post(
        f"/console/leads/{lead_id}/lost",
        data={"reason": "forged", "csrf": _csrf(page)},
        headers={"Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    with transaction(pg_db_url) as s:
        assert s.get(Lead, lead_id).status == "NEW"


def test_a_rep_quotes_and_holds_from_the_lead_page(console, pg_db_url):
    lead_id = _new_lead(pg_db_url, console)
    browser = console.sign_in(SARAH)
    inbox = browser.get("/console/leads")
    with transaction(pg_db_url) as s:
        reference = s.get(Lead, lead_id).reference
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
    assert reference in inbox.text and "min left" in inbox.text
    page = browser.get(f"/console/leads/{lead_id}")
    assert "Maya Lindqvist" in page.text and "Send quote" in page.text
    since = console.total()
    sent = browser.post(
        f"/console/leads/{lead_id}/quote",
        data={
            "csrf": _csrf(page),
            "departure_id": departure.id,
            "party_size": "3",
            # As prefilled from the price list (the early-bird discount included).
            "price_per_person": re.search(r'id="q-price"[^>]*value="([^"]*)"', page.text).group(1),
            "discount": re.search(r'id="q-disc"[^>]*value="([^"]*)"', page.text).group(1),
            "prefilled_price": re.search(
                r'name="prefilled_price" value="([^"]*)"', page.text
            ).group(1),
            "prefilled_discount": re.search(
                r'name="prefilled_discount" value="([^"]*)"', page.text
            ).group(1),
        },
    )
    assert sent.status_code == 303
    (quote,) = _messages_to(console, CUSTOMER, since)
    assert "EBC Trek" in quote and "$6,840" in quote  # the early bird, as the workflow quotes it
    # The page's live script may re-fetch it before the browser follows the redirect: that
    # background fetch must not use up the message the rep is meant to see.
    live = browser.get(f"/console/leads/{lead_id}", headers={"X-Console-Live": "1"})
    assert live.status_code == 200 and "Quote sent on WhatsApp" not in live.text
    page = browser.get(f"/console/leads/{lead_id}")
    assert "Quote sent on WhatsApp" in page.text and "Hold inventory" in page.text
    since = console.total()
    held = browser.post(f"/console/leads/{lead_id}/hold", data={"csrf": _csrf(page)})
    assert held.status_code == 303
    (hold,) = _messages_to(console, CUSTOMER, since)
    assert "24" in hold and "/pay/" in hold
    with transaction(pg_db_url) as s:
        lead = s.get(Lead, lead_id)
        booking = s.scalar(select(Booking).where(Booking.lead_id == lead_id))
        assert lead.status == "WON" and booking.status == "HELD"


def test_a_changed_price_needs_a_reason(console, pg_db_url):
    lead_id = _new_lead(pg_db_url)
    browser = console.sign_in(SARAH)
    page = browser.get(f"/console/leads/{lead_id}")
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
    refused = browser.post(
        f"/console/leads/{lead_id}/quote",
        data={
            "csrf": _csrf(page),
            "departure_id": departure.id,
            "party_size": "3",
            "price_per_person": "1000",
            "discount": "0",
        },
    )
    assert refused.status_code == 303
    assert "needs a reason" in browser.get(f"/console/leads/{lead_id}").text
    with transaction(pg_db_url) as s:
        assert s.get(Lead, lead_id).status == "NEW"
    # With a reason it goes, and the override is recorded as the admin API's is (one rule:
    # leads.quote_lead).
    page = browser.get(f"/console/leads/{lead_id}")
    sent = browser.post(
        f"/console/leads/{lead_id}/quote",
        data={
            "csrf": _csrf(page),
            "departure_id": departure.id,
            "party_size": "3",
            "price_per_person": "1000",
            "discount": "0",
            "override_reason": "a returning group",
        },
    )
    assert sent.status_code == 303
    with transaction(pg_db_url) as s:
        assert s.get(Lead, lead_id).status == "QUOTED"
        overrides = s.scalars(
            select(TimelineEvent.content).where(
                TimelineEvent.object_id == lead_id,
                TimelineEvent.action == "tms.lead.quote_override",
            )
        ).all()
    assert [o["reason"] for o in overrides] == ["a returning group"]


def test_outside_the_window_the_reply_form_offers_templates(console, pg_db_url):
    lead_id = _new_lead(pg_db_url)
    browser = console.sign_in(SARAH)
    page = browser.get(f"/console/leads/{lead_id}")
    assert "approved template" in page.text and 'value="customer_update"' in page.text
    since = console.total()
    browser.post(
        f"/console/leads/{lead_id}/reply",
        data={
            "csrf": _csrf(page),
            "template": "customer_update",
            "text": "Spots for March are filling up",
        },
    )
    (sent,) = _messages_to(console, CUSTOMER, since)
    assert sent.startswith("Update on your trip:") and "Spots for March" in sent


def test_a_paused_conversation_brings_the_customer_to_the_rep(console, pg_db_url):
    lead_id = _new_lead(pg_db_url)
    browser = console.sign_in(SARAH)
    page = browser.get(f"/console/leads/{lead_id}")
    browser.post(f"/console/leads/{lead_id}/assistant", data={"csrf": _csrf(page), "paused": "0"})
    assert "Pause the assistant" in browser.get(f"/console/leads/{lead_id}").text
    page = browser.get(f"/console/leads/{lead_id}")
    browser.post(f"/console/leads/{lead_id}/assistant", data={"csrf": _csrf(page), "paused": "1"})
    page = browser.get(f"/console/leads/{lead_id}")
    assert "Assistant paused" in page.text and "Resume the assistant" in page.text
    httpx.post(
        f"{console.fake_url}/_fake/inbound",
        json={"from": CUSTOMER, "text": "Can I bring my dog?", "name": "Maya"},
    ).raise_for_status()
    deadline = time.monotonic() + 20
    while "Can I bring my dog?" not in browser.get(f"/console/leads/{lead_id}").text:
        assert time.monotonic() < deadline, "the customer's message never showed"
        time.sleep(0.2)
    page = browser.get(f"/console/leads/{lead_id}")
    since = console.total()
    browser.post(
        f"/console/leads/{lead_id}/reply",
        data={"csrf": _csrf(page), "text": "Sadly not on the trek!"},
    )
    assert "Sadly not on the trek!" in _messages_to(console, CUSTOMER, since)


def test_ops_assign_a_guide_and_handle_an_incident(console, pg_db_url):
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        rajesh = s.scalar(select(Staff).where(Staff.phone == RAJESH))
    browser = console.sign_in(PRIYA)
    page = browser.get(f"/console/departures/{departure.id}")
    assert "Assign staff" in page.text
    since = console.total()
    browser.post(
        f"/console/departures/{departure.id}/assign",
        data={
            "csrf": _csrf(page),
            "staff_id": rajesh.id,
            "role": "LEAD_GUIDE",
            "compensation": "800",
        },
    )
    (offer,) = _messages_to(console, RAJESH, since)
    assert "Trek: EBC" in offer and "Compensation: $800" in offer
    assert "OFFERED" in browser.get(f"/console/departures/{departure.id}").text

    with transaction(pg_db_url) as s:
        trip = s.scalar(
            select(Trip)
            .join(Departure, Trip.departure_id == Departure.id)
            .where(Departure.product.has(code="PKR"))
        )
        guests = {b.contact.phone for b in trips.guests_of(s, trip)}
        from backend.services import incidents

        incident = incidents.report_incident(
            s, trip, assignments.lead_guide(s, trip), "Vehicle breakdown at the checkpoint", SYSTEM
        )
        incident_id = incident.id
    board = browser.get("/console/incidents")
    assert "Vehicle breakdown" in board.text and "not yet" in board.text
    page = browser.get(f"/console/incidents/{incident_id}")
    browser.post(f"/console/incidents/{incident_id}/acknowledge", data={"csrf": _csrf(page)})
    page = browser.get(f"/console/incidents/{incident_id}")
    since = console.total()
    browser.post(
        f"/console/incidents/{incident_id}/update",
        data={
            "csrf": _csrf(page),
            "status": "IN_PROGRESS",
            "eta": "11:20 AM",
            "message_to_guests": "Minor delay: a fresh vehicle arrives at 11:20 AM.",
        },
    )
    for phone in guests:
        assert any("fresh vehicle" in m for m in _messages_to(console, phone, since))
    # Who has read it: each guest booking's latest update with its tick (the fake Graph API
    # reports sent, delivered, read).
    deadline = time.monotonic() + 90
    while True:
        receipts = re.findall(
            r'data-receipt="(\w+)"', browser.get(f"/console/incidents/{incident_id}").text
        )
        if receipts and all(r == "read" for r in receipts):
            break
        assert time.monotonic() < deadline, receipts
        time.sleep(0.3)
    assert len(receipts) == len(guests)
    with transaction(pg_db_url) as s:
        incident = s.get(Incident, incident_id)
        assert incident.status == "IN_PROGRESS" and incident.acknowledged_at is not None


def test_an_admin_adds_a_departure_and_changes_a_product_from_the_console(console, pg_db_url):
    browser = console.sign_in(ANIL)
    page = browser.get("/console/admin")
    with transaction(pg_db_url) as s:
        ebc = catalog.get_product(s, "EBC")
        ebc_id = ebc.id
        start = catalog.departures_of(s, ebc)[-1].start_date.replace(day=1)
    added = browser.post(
        "/console/admin/departures",
        data={
            "csrf": _csrf(page),
            "product_id": ebc_id,
            "start_date": start.isoformat(),
            "capacity": "12",
        },
    )
    assert added.status_code == 303
    assert "departure on" in browser.get("/console/admin").text
    page = browser.get("/console/admin")
    browser.post(
        f"/console/admin/products/{ebc_id}",
        data={"csrf": _csrf(page), "price": "2500", "deposit_percent": "25"},
    )
    page = browser.get("/console/admin")
    assert "EBC: price_per_person_minor, deposit_percent" in page.text
    refused = browser.post(
        f"/console/admin/products/{ebc_id}", data={"csrf": _csrf(page), "deposit_percent": "120"}
    )
    assert (
        refused.status_code == 303
        and "Deposit % must be between 0 and 100" in browser.get("/console/admin").text
    )
    with transaction(pg_db_url) as s:
        ebc = catalog.get_product(s, "EBC")
        assert (ebc.price_per_person_minor, ebc.deposit_percent) == (250000, 25)
        assert s.scalar(
            select(Departure).where(Departure.product_id == ebc_id, Departure.start_date == start)
        )


def test_guests_who_have_not_read_a_delay_notice_after_15_minutes_are_flagged(
    console, pg_db_url, story_clock
):
    # This time the phones deliver but nobody opens the message.
    httpx.post(
        f"{console.fake_url}/_fake/config", json={"statuses": ["sent", "delivered"]}
    ).raise_for_status()
    with transaction(pg_db_url) as s:
        trip = s.scalar(
            select(Trip)
            .join(Departure, Trip.departure_id == Departure.id)
            .where(Departure.product.has(code="PKR"))
        )
        from backend.services import incidents

        incident_id = incidents.report_incident(
            s, trip, assignments.lead_guide(s, trip), "Road blocked by a landslide", SYSTEM
        ).id
    browser = console.sign_in(PRIYA)
    page = browser.get(f"/console/incidents/{incident_id}")
    assert page.text.count('data-receipt="none"') == 5  # nobody told yet
    browser.post(
        f"/console/incidents/{incident_id}/update",
        data={
            "csrf": _csrf(page),
            "message_to_guests": "A 2-hour delay: the road is being cleared.",
        },
    )
    # The guests have not written to the fake Graph API: each text fails outside the 24-hour
    # window and goes again as its template, which is then delivered (slower on a busy machine).
    deadline = time.monotonic() + 90
    while True:
        page = browser.get(f"/console/incidents/{incident_id}")
        receipts = re.findall(r'data-receipt="(\w+)"', page.text)
        if receipts.count("delivered") == 5:
            break
        assert time.monotonic() < deadline, receipts
        time.sleep(0.3)
    assert "not read after 15 min" not in browser.get(f"/console/incidents/{incident_id}").text
    story_clock.advance(minutes=16)
    assert browser.get(f"/console/incidents/{incident_id}").text.count("not read after 15 min") == 5


def test_odd_input_gets_an_answer_not_a_crash(console, pg_db_url):
    lead_id = _new_lead(pg_db_url)
    sarah = console.sign_in(SARAH)
    assert sarah.get("/console/leads", params={"month": "9999-12"}).status_code == 200
    assert sarah.get("/console/kpis", params={"until": "0001-01-01"}).status_code == 400
    bad = sarah.get("/console/kpis.json", params={"since": "not-a-date"})
    assert bad.status_code == 400 and "error" in bad.json()
    page = sarah.get(f"/console/leads/{lead_id}")
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
    for price, discount in (("inf", "0"), ("1e400", "0"), ("100", "99999")):
        answer = sarah.post(
            f"/console/leads/{lead_id}/quote",
            data={
                "csrf": _csrf(page),
                "departure_id": departure.id,
                "party_size": "3",
                "price_per_person": price,
                "discount": discount,
                "override_reason": "testing",
            },
        )
        assert answer.status_code == 303
    shown = sarah.get(f"/console/leads/{lead_id}").text
    assert "cannot be more than the price of the party" in shown
    empty = sarah.post(f"/console/leads/{lead_id}/quote", data={"csrf": _csrf(page)})
    assert empty.status_code == 303  # back to the page with the reason, not a bare 404
    with transaction(pg_db_url) as s:
        assert s.get(Lead, lead_id).status == "NEW"


def test_the_last_administrator_stays_one(console, pg_db_url):
    anil = console.sign_in(ANIL)
    page = anil.get("/console/admin")
    with transaction(pg_db_url) as s:
        anil_id = s.scalar(select(Staff.id).where(Staff.phone == ANIL))
    answer = anil.post(
        f"/console/admin/staff/{anil_id}/roles", data={"csrf": _csrf(page), "role_SALES": "1"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/console/admin"
    assert "last administrator" in anil.get("/console/admin").text
    with transaction(pg_db_url) as s:
        assert "ADMIN" in s.get(Staff, anil_id).roles


def test_a_new_api_token_is_shown_once_and_the_old_one_stops(console, pg_db_url):
    anil = console.sign_in(ANIL)
    page = anil.get("/console/admin")
    with transaction(pg_db_url) as s:
        sarah_id = s.scalar(select(Staff.id).where(Staff.phone == SARAH))
    shown = anil.post(f"/console/admin/staff/{sarah_id}/rotate-token", data={"csrf": _csrf(page)})
    token = re.search(r"copy it now\): <code>([^<]+)</code>", shown.text).group(1)
    api = f"{console.url}/api/leads"
    assert httpx.get(api, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    old = console.tokens["Sarah Gurung"]
    assert httpx.get(api, headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert token not in anil.get("/console/admin").text  # once


def test_today_shows_who_of_the_guests_read_the_latest_trip_notice(console, pg_db_url):
    with transaction(pg_db_url) as s:
        trip = s.scalar(
            select(Trip)
            .join(Departure, Trip.departure_id == Departure.id)
            .where(Departure.product.has(code="PKR"))
        )
        from backend.services import notifications

        notifications.to_guests(
            s, trips.guests_of(s, trip), "We stop for lunch at 12:30.", purpose="customer_update"
        )
    priya = console.sign_in(PRIYA)
    deadline = time.monotonic() + 90
    while True:
        page = priya.get("/console/today").text
        receipts = re.findall(r'<li data-receipt="(\w+)"', page)
        if receipts.count("read") == 5:
            break
        assert time.monotonic() < deadline, receipts
        time.sleep(0.3)
    assert "Guests told: 5 of 5 read the latest notice" in page


def test_an_admin_edits_an_answer_in_the_console_and_a_rep_only_reads(console, pg_db_url):
    sarah = console.sign_in(SARAH)
    page = sarah.get("/console/answers")
    assert page.status_code == 200 and "Cancellation" in page.text and "<textarea" not in page.text
    assert (
        sarah.post(
            "/console/answers/tipping", data={"csrf": _csrf(page), "answer": "x"}
        ).status_code
        == 403
    )
    anil = console.sign_in(ANIL)
    page = anil.get("/console/answers")
    saved = anil.post(
        "/console/answers/permits",
        data={"csrf": _csrf(page), "product": "PKR", "answer": "No permits for the city tour."},
    )
    assert saved.status_code == 303 and "/console/answers" in saved.headers["location"]
    with transaction(pg_db_url) as s:
        from backend.services import knowledge

        assert (
            knowledge.answer_for(s, "permits", catalog.get_product(s, "PKR"))
            == "No permits for the city tour."
        )
    assert "No permits for the city tour." in anil.get("/console/answers").text
    german = anil.post(
        "/console/answers/permits",
        data={
            "csrf": _csrf(page),
            "product": "PKR",
            "language": "de",
            "answer": "Für die Stadttour braucht es keine Genehmigungen.",
        },
    )
    assert german.status_code == 303
    with transaction(pg_db_url) as s:
        from backend.services import knowledge

        pokhara = catalog.get_product(s, "PKR")
        assert knowledge.answer_for(s, "permits", pokhara, "de").startswith("Für die Stadttour")
        assert knowledge.answer_for(s, "permits", pokhara, "en") == "No permits for the city tour."
    assert 'lang="de">Für die Stadttour' in anil.get("/console/answers").text


def test_the_rep_sees_which_language_the_customer_reads(console, pg_db_url):
    lead_id = _new_lead(pg_db_url)
    browser = console.sign_in(SARAH)
    page = browser.get(f"/console/leads/{lead_id}")
    assert "The customer reads <strong>English (not yet known)</strong>" in page.text
    with transaction(pg_db_url) as s:
        languages.choose(s, contacts.find_contact(s, CUSTOMER), "de", SYSTEM)
    page = browser.get(f"/console/leads/{lead_id}")
    assert "The customer reads <strong>German (their choice)</strong>" in page.text
