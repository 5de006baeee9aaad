"""The admin API over real HTTP (the backend service in its own process, PostgreSQL):
authentication, roles, validation, errors, and the staff steps of the workflows."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, LeadStatus
from backend.models import Booking, Departure, Lead, OutboundMessage, Staff, TimelineEvent
from backend.services import catalog, contacts, leads
from tests.conftest import load_demo_world


@pytest.fixture
def world(backend_url, pg_db_url, story_clock):
    tokens = load_demo_world(pg_db_url).staff_tokens
    return {
        "sales": tokens["Sarah Gurung"],
        "ops": tokens["Priya Thapa"],
        "admin": tokens["Anil Admin"],
        "guide": tokens["Rajesh Kumar"],
    }


def call(url, token, method, path, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{url}{path}", headers=headers, timeout=30, **kw)


def _lead(pg_db_url) -> tuple[str, str]:
    with transaction(pg_db_url) as s:
        contact = contacts.get_or_create_contact(s, "+61499400001", name="Ava")
        product = catalog.get_product(s, "EBC")
        lead = leads.create_lead(s, contact=contact, product=product, actor=SYSTEM, party_size=3)
        return lead.id, catalog.departures_of(s, product)[0].id


def test_no_token_is_401_and_a_wrong_role_is_403(backend_url, world):
    assert call(backend_url, None, "GET", "/api/leads").status_code == 401
    assert call(backend_url, "not-a-token", "GET", "/api/leads").status_code == 401
    assert call(backend_url, world["guide"], "GET", "/api/leads").status_code == 403
    assert call(backend_url, world["ops"], "GET", "/api/leads").status_code == 403
    assert call(backend_url, world["sales"], "GET", "/api/incidents").status_code == 403
    assert call(backend_url, world["admin"], "GET", "/api/incidents").status_code == 200


def test_invalid_body_is_422_naming_the_fields(backend_url, world, pg_db_url):
    lead_id, _ = _lead(pg_db_url)
    answer = call(
        backend_url, world["sales"], "POST", f"/api/leads/{lead_id}/quote", json={"party_size": 0}
    )
    assert answer.status_code == 422
    assert set(answer.json()["fields"]) == {"departure_id", "party_size"}
    assert (
        call(
            backend_url, world["sales"], "POST", f"/api/leads/{lead_id}/quote", content=b"{nope"
        ).status_code
        == 422
    )


def test_unknown_id_is_404_and_an_illegal_transition_is_409(backend_url, world, pg_db_url):
    assert call(backend_url, world["sales"], "GET", "/api/leads/nope").status_code == 404
    lead_id, _ = _lead(pg_db_url)
    refused = call(backend_url, world["sales"], "POST", f"/api/leads/{lead_id}/hold")
    assert refused.status_code == 409 and "no quote" in refused.json()["error"]
    with transaction(pg_db_url) as s:
        done = s.scalar(select(Booking).where(Booking.status == BookingStatus.CONFIRMED))
        leads_before = s.get(Lead, lead_id).status
    call(backend_url, world["sales"], "POST", f"/api/bookings/{done.id}/cancel", json={})
    again = call(
        backend_url, world["sales"], "POST", f"/api/bookings/{done.reference}/cancel", json={}
    )
    assert again.status_code == 409 and "CANCELLED" in again.json()["error"]
    assert leads_before == LeadStatus.NEW


def test_quote_then_hold_through_the_api(backend_url, world, pg_db_url):
    lead_id, departure_id = _lead(pg_db_url)
    quoted = call(
        backend_url,
        world["sales"],
        "POST",
        f"/api/leads/{lead_id}/quote",
        json={"departure_id": departure_id, "party_size": 3},
    )
    assert quoted.status_code == 200 and quoted.json()["quote"]["total"]["display"] == "$6,840"
    held = call(backend_url, world["sales"], "POST", f"/api/leads/{lead_id}/hold")
    assert held.status_code == 200
    booking = held.json()["booking"]
    assert booking["status"] == "HELD" and booking["deposit"]["display"] == "$2,052"
    with transaction(pg_db_url) as s:
        sent = [
            m.body
            for m in s.scalars(
                select(OutboundMessage).where(OutboundMessage.recipient_phone == "+61499400001")
            )
        ]
    assert sent[0].startswith("Hello! I'm Sarah from Adventure Treks") and sent[1].startswith(
        "Perfect! I've reserved 3 spots"
    )
    listed = call(
        backend_url, world["sales"], "GET", "/api/leads", params={"status": "WON"}
    ).json()["leads"]
    assert [x["id"] for x in listed] == [lead_id]


def test_departures_show_the_seat_counts(backend_url, world):
    departures = call(backend_url, world["ops"], "GET", "/api/departures").json()["departures"]
    full = next(d for d in departures if d["product"] == "ANN" and d["available"] == 0)
    assert (full["capacity"], full["confirmed"], full["waitlist"]) == (30, 30, 2)
    detail = call(backend_url, world["ops"], "GET", f"/api/departures/{full['id']}").json()
    assert sum(m["people"] for m in detail["manifest"]) == 30


def test_assignment_offer_goes_on_whatsapp(backend_url, world, pg_db_url):
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        rajesh = s.scalar(select(Staff).where(Staff.name == "Rajesh Kumar"))
        rajesh_id, rajesh_phone = rajesh.id, rajesh.phone
    bad = call(
        backend_url,
        world["ops"],
        "POST",
        f"/api/departures/{departure.id}/assignments",
        json={"staff_id": rajesh_id, "role": "CHEF", "compensation_minor": 1},
    )
    assert bad.status_code == 422 and "role" in bad.json()["fields"]
    ok = call(
        backend_url,
        world["ops"],
        "POST",
        f"/api/departures/{departure.id}/assignments",
        json={"staff_id": rajesh_id, "role": "LEAD_GUIDE", "compensation_minor": 800_00},
    )
    assert ok.status_code == 200 and ok.json()["assignment"]["status"] == "OFFERED"
    again = call(
        backend_url,
        world["ops"],
        "POST",
        f"/api/departures/{departure.id}/assignments",
        json={"staff_id": rajesh_id, "role": "LEAD_GUIDE", "compensation_minor": 800_00},
    )
    assert again.status_code == 409
    with transaction(pg_db_url) as s:
        offer = s.scalar(
            select(OutboundMessage).where(OutboundMessage.recipient_phone == rajesh_phone)
        )
        assert offer.body.startswith("📋 Trip Assignment") and offer.purpose == "assignment_offer"


def test_timeline_queries_and_the_openapi_document(backend_url, world, pg_db_url):
    lead_id, _ = _lead(pg_db_url)
    by_object = call(
        backend_url,
        world["sales"],
        "GET",
        "/api/timeline",
        params={"object_type": "LEAD", "object_id": lead_id},
    )
    created = by_object.json()["events"][0]
    assert created["action"] == "tms.lead.created"
    # The sentence staff read in the console comes with the code.
    assert created["sentence"].startswith("New lead ") and "tms." not in created["sentence"]
    by_time = call(
        backend_url,
        world["sales"],
        "GET",
        "/api/timeline",
        params={"start": "2020-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"},
    )
    assert len(by_time.json()["events"]) > 10
    assert call(backend_url, world["sales"], "GET", "/api/timeline").status_code == 422
    document = httpx.get(f"{backend_url}/api/openapi.json").json()
    assert (
        document["openapi"].startswith("3.") and "/api/leads/{lead_id}/quote" in document["paths"]
    )


def test_staff_can_message_a_customer_and_pause_the_bot(backend_url, world, pg_db_url):
    with transaction(pg_db_url) as s:
        contact = contacts.get_or_create_contact(s, "+61499400002")
        conversation, _ = contacts.get_or_open_conversation(s, contact)
        conversation_id = conversation.id
    path = f"/api/conversations/{conversation_id}/messages"
    # They have not written in 24 hours: free text is refused, as in the console, and an
    # approved template goes only when chosen.
    closed = call(backend_url, world["sales"], "POST", path, json={"text": "Hi, Sarah here!"})
    assert closed.status_code == 409 and "window is closed" in closed.json()["error"]
    chosen = {"text": "Your permit is ready", "template": "customer_update"}
    update = call(backend_url, world["sales"], "POST", path, json=chosen)
    assert update.status_code == 200  # the sender sends it as the update template
    with transaction(pg_db_url) as s:
        contacts.find_contact(s, "+61499400002").last_inbound_at = clock.now()
    sent = call(backend_url, world["sales"], "POST", path, json={"text": "Hi, Sarah here!"})
    assert sent.status_code == 200 and sent.json()["queued"][0]["body"] == "Hi, Sarah here!"
    with transaction(pg_db_url) as s:
        replies = s.scalars(
            select(TimelineEvent.content).where(TimelineEvent.action == "tms.console.reply")
        ).all()
    assert [r["template"] for r in replies] == ["customer_update", None]
    paused = call(
        backend_url,
        world["sales"],
        "POST",
        f"/api/conversations/{conversation_id}/handoff",
        json={"paused": True},
    )
    assert paused.json()["botPaused"] is True


def test_a_price_override_through_the_api_needs_a_reason_as_in_the_console(
    backend_url, world, pg_db_url
):
    lead_id, departure_id = _lead(pg_db_url)
    path = f"/api/leads/{lead_id}/quote"
    cheaper = {"departure_id": departure_id, "party_size": 3, "price_per_person_minor": 100000}
    refused = call(backend_url, world["sales"], "POST", path, json=cheaper)
    assert refused.status_code == 409 and "needs a reason" in refused.json()["error"]
    with transaction(pg_db_url) as s:
        assert s.get(Lead, lead_id).status == LeadStatus.NEW  # nothing quoted, nothing sent
    # The standard price given explicitly is no override.
    with transaction(pg_db_url) as s:
        list_price = s.get(Departure, departure_id).product.price_per_person_minor
    standard = call(
        backend_url,
        world["sales"],
        "POST",
        path,
        json={"departure_id": departure_id, "party_size": 3, "price_per_person_minor": list_price},
    )
    assert standard.status_code == 200, standard.text
    reasoned = {**cheaper, "override_reason": "repeat customers"}
    quoted = call(backend_url, world["sales"], "POST", path, json=reasoned)
    assert quoted.status_code == 200
    with transaction(pg_db_url) as s:
        overrides = s.scalars(
            select(TimelineEvent).where(
                TimelineEvent.object_id == lead_id,
                TimelineEvent.action == "tms.lead.quote_override",
            )
        ).all()
    assert [e.content["reason"] for e in overrides] == ["repeat customers"]
    assert overrides[0].content["standardTotal"].startswith("$")
