"""The workflows' customer and guide messages through a running Rasa server and action server
over HTTP (Rasa's REST channel), checking the replies and the database."""

from __future__ import annotations

import itertools

import httpx
import pytest
from sqlalchemy import select

from backend import texts
from backend.assistant_protocol import RASA_CHANNEL_PATH
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.commands import STAFF_ONLY_INTENTS
from backend.domain.enums import (
    AssignmentRole,
    BookingStatus,
    IncidentStatus,
    LeadStatus,
    Severity,
    TripStatus,
)
from backend.models import Booking, Incident, Lead, OutboundMessage
from backend.services import assignments, catalog, leads, trips
from backend.services import staff as staff_service
from backend.whatsapp.inbox_worker import merge_replies, rasa_channel_headers
from devkit.demo_data import STORY

pytestmark = pytest.mark.rasa
_wamids = itertools.count(1)
RAJESH = "+9779801000003"


def say(stack, sender: str, text: str, **metadata: str) -> list[str]:
    answer = httpx.post(
        f"{stack['rasa_url']}{RASA_CHANNEL_PATH}",
        headers=rasa_channel_headers(),
        timeout=60,
        json={
            "sender": sender,
            "message": text,
            "metadata": {
                "wamid": f"wamid.REST{next(_wamids):06d}",
                "profile_name": "Emma",
                **metadata,
            },
        },
    )
    answer.raise_for_status()
    return [m["text"] for m in merge_replies(answer.json())]


def test_workflow_1_customer_enquiry_quote_and_hold(assistant_stack, demo_world_pg):
    customer = "+61499100001"
    replies = say(
        assistant_stack,
        customer,
        "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March 2025",
    )
    assert replies and replies[0].startswith("Thank you for your interest in EBC Trek! 🏔️")
    with transaction(demo_world_pg) as s:
        lead = s.scalar(select(Lead).where(Lead.contact.has(phone=customer)))
        assert lead.party_size == 3 and lead.assigned_staff.name == "Sarah Gurung"
        assert f"(Ref: {lead.reference})" in replies[0]
        departure = catalog.departures_of(s, lead.product)[0]
    noted = say(
        assistant_stack,
        customer,
        "we're flexible, any date mid-March works and we hike every weekend",
    )
    assert "noted" in noted[0].lower()
    with transaction(demo_world_pg) as s:
        leads.quote_lead(s, s.get(Lead, lead.id), s.get(type(departure), departure.id), 3, SYSTEM)
    held = say(assistant_stack, customer, "Yes! Please hold the spots. What's next?")
    assert held[0].startswith("Perfect! I've reserved 3 spots on our March 15 EBC Trek.")
    assert "1. Pay deposit: $2,052 (30%)" in held[0] and "2. Pay full amount: $6,840" in held[0]
    with transaction(demo_world_pg) as s:
        assert s.get(Lead, lead.id).status == LeadStatus.WON
        assert (
            s.scalar(select(Booking).where(Booking.lead_id == lead.id)).status == BookingStatus.HELD
        )


def test_workflow_2_full_departure_waitlist(assistant_stack, demo_world_pg):
    customer = "+61499100002"
    with transaction(demo_world_pg) as s:
        full, _open = catalog.departures_of(s, catalog.get_product(s, "ANN"))
    day = f"{full.start_date:%B} {full.start_date.day}"
    options = say(assistant_stack, customer, f"Interested in Annapurna Circuit {day}")
    assert (
        options[0].startswith("Annapurna Circuit is very popular!") and "FULLY BOOKED" in options[0]
    )
    asked = say(assistant_stack, customer, "2")
    assert asked == [texts.ask_party_size()]  # never a guess: a family of four is four
    joined = say(assistant_stack, customer, "we are a family of four")
    assert joined[0].startswith("✓ Added to waitlist") and "Position: #3 on waitlist" in joined[0]
    with transaction(demo_world_pg) as s:
        assert s.scalar(select(Booking).where(Booking.contact.has(phone=customer))).party_size == 4
    dates = say(assistant_stack, customer, "DATES")
    assert "Upcoming Annapurna Circuit Trek departures" in dates[0]


def test_guide_commands_and_refusals(assistant_stack, demo_world_pg, story_clock):
    with transaction(demo_world_pg) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        trip = trips.ensure_trip(s, departure, SYSTEM)
        assignments.offer_assignment(
            s, trip, staff_service.by_phone(s, RAJESH), AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
        )
        reference = trip.reference
    refused = say(assistant_stack, "+61499100003", f"CHECKIN {reference}")
    assert "passed your message to our team" in refused[0]
    accepted = say(assistant_stack, RAJESH, "Accept")
    assert accepted[0].startswith("✓ Assignment confirmed!")
    too_early = say(assistant_stack, RAJESH, f"CHECKIN {reference}")
    assert "starts on March 15; check in on the day" in too_early[0]
    story_clock.at(STORY.ebc_start, "06:00")
    checked_in = say(assistant_stack, RAJESH, f"CHECKIN {reference}")
    assert checked_in[0].startswith("✓ Checked in to EBC Trek")
    issue = say(
        assistant_stack,
        RAJESH,
        f"ISSUE {reference} One guest showing altitude sickness symptoms. Monitoring closely. May need early descent.",
    )
    assert issue[0].startswith("⚠️ Issue logged") and "Severity: Medium" in issue[0]
    done = say(
        assistant_stack,
        RAJESH,
        f"CHECKOUT {reference} Trip completed successfully! All 12 guests safe. Amazing journey! 🎉",
    )
    assert done[0].startswith("✓ Trip completed!") and "Payroll: $800 added." in done[0]
    with transaction(demo_world_pg) as s:
        trip = trips.find_trip(s, reference)
        assert trip.status == TripStatus.ENDED
        incident = s.scalar(select(Incident))
        assert (incident.severity, incident.status) == (Severity.MEDIUM, IncidentStatus.OPEN)
        assert (
            s.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "feedback_request"))
            is not None
        )
    unknown = say(assistant_stack, RAJESH, "CHECKIN TRP9912999")
    assert "I couldn't find TRP9912999" in unknown[0]


def _last_intent(stack, sender: str) -> str:
    tracker = httpx.get(f"{stack['rasa_url']}/conversations/{sender}/tracker", timeout=60)
    tracker.raise_for_status()
    return tracker.json()["latest_message"]["intent"]["name"]


def test_a_customers_update_or_issue_is_never_a_guide_command(
    assistant_stack, demo_world_pg, story_clock
):
    """The backend names the sender's kind (`sender_kind`, services/arrivals.py): a customer's
    words that start like a command are read for what they say; a guide's are commands."""
    with transaction(demo_world_pg) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        reference = trips.ensure_trip(s, departure, SYSTEM).reference
    customer = "+61499100077"
    for text in (
        "Update: we're 3 now",
        "Issue with the payment link, it says expired",
        f"update {reference} my friend can't come after all",
        "checkin time at the hotel?",
        "paid the deposit yesterday",
    ):
        say(assistant_stack, customer, text, sender_kind="customer")
        intent = _last_intent(assistant_stack, customer)
        assert intent not in STAFF_ONLY_INTENTS, (text, intent)
    say(assistant_stack, RAJESH, f"UPDATE {reference} all fine now", sender_kind="staff")
    assert _last_intent(assistant_stack, RAJESH) == "guide_update"


def test_rasa_answers_only_the_backend(assistant_stack, demo_world_pg):
    """Rasa's channel takes the sender's phone from the body: without the channel's secret,
    anyone who reached Rasa could speak as any guide. The stock REST channel is not there."""
    body = {"sender": RAJESH, "message": "CHECKOUT TRP2412001 done"}
    url = assistant_stack["rasa_url"]
    for headers in ({}, {"X-TMS-Channel-Secret": "guess"}):
        assert (
            httpx.post(f"{url}{RASA_CHANNEL_PATH}", json=body, headers=headers).status_code == 403
        )
    assert httpx.post(f"{url}/webhooks/rest/webhook", json=body).status_code == 404
    with transaction(demo_world_pg) as s:
        assert (
            s.scalar(select(OutboundMessage).where(OutboundMessage.recipient_phone == RAJESH))
            is None
        )
