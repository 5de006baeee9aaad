"""Workflow 3 over the real stack: ISSUE (HIGH) → urgent ops alert → ops update through the
admin API → the guide's update and a notice to all 15 guests → the guide's UPDATE resolves it
→ RESOLVED with its response time, guests told, the timeline shows the sequence."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from backend import links
from backend.db import transaction
from backend.domain.enums import IncidentStatus, Severity
from backend.models import Booking, Incident, Trip
from backend.services import catalog, trips
from devkit.demo_data import STORY
from tests.workflows.conftest import body

pytestmark = pytest.mark.rasa
AMIT, PRIYA = "+9779801000004", "+9779801000002"


def test_workflow_3(stack, pg_db_url):
    with transaction(pg_db_url) as s:
        pokhara = catalog.departures_of(s, catalog.get_product(s, "PKR"))[0]
        trip = s.scalar(select(Trip).where(Trip.departure_id == pokhara.id))
        reference = trip.reference
        guests = {b.contact.phone for b in trips.guests_of(s, trip)}
        assert sum(b.party_size for b in trips.guests_of(s, trip)) == 15

    stack.clock.at(STORY.pokhara, "10:30")  # the trip has been under way since 08:00
    since = stack.total()
    (logged,) = stack.say(
        AMIT,
        f"ISSUE {reference} Vehicle breakdown at Pokhara checkpoint. Engine failure. 15 guests waiting.",
    )
    assert logged["text"].startswith("⚠️ Issue logged") and "Severity: High" in logged["text"]
    assert "Time: 10:30 AM" in logged["text"]
    stack.wait_for(PRIYA, since=since, until=lambda found: any("URGENT" in body(m) for m in found))
    with transaction(pg_db_url) as s:
        incident = s.scalar(select(Incident).where(Incident.trip_id == trip.id))
        assert (incident.severity, incident.status) == (Severity.HIGH, IncidentStatus.OPEN)

    stack.clock.at(STORY.pokhara, "10:35")
    since = stack.total()
    listed = stack.api("ops", "GET", "/api/incidents").json()["incidents"]
    assert listed[0]["id"] == incident.id
    answer = stack.api(
        "ops",
        "POST",
        f"/api/incidents/{incident.id}",
        json={
            "status": "IN_PROGRESS",
            "resolution": "Backup vehicle en route",
            "eta": "11:20 AM",
            "message_to_guide": "Backup vehicle dispatched:\n- Vehicle: Toyota Coaster\n- Driver: Ram Bahadur\n- ETA: 11:20 AM\n\nKeep guests comfortable.",
            "message_to_guests": "Current: Checkpoint (brief stop)\n\nWe're arranging a fresh vehicle for your comfort.\n\nNew vehicle arrives: 11:20 AM",
        },
    )
    assert answer.status_code == 200 and answer.json()["messagesQueued"]["guests"] == len(guests)
    assert "Toyota Coaster" in body(stack.wait_for(AMIT, since=since)[0])
    for phone in guests:
        assert "Travel Update" in body(
            stack.wait_for(phone, since=since)[0]
        ) or "fresh vehicle" in body(stack.wait_for(phone, since=since)[0])
    # The track page tells the guests the same, live; a guest of another trip sees nothing.
    with transaction(pg_db_url) as s:
        guest = trips.guests_of(s, trip)[0]
        other = s.scalar(
            select(Booking).where(Booking.departure_id != pokhara.id, Booking.status == "CONFIRMED")
        )
        track_mine = f"{stack.backend_url}/track/{links.token_for('track', guest.ref_key)}"
        track_other = f"{stack.backend_url}/track/{links.token_for('track', other.ref_key)}"
    page = httpx.get(track_mine).text
    assert "New vehicle arrives: 11:20 AM" in page and "Amit Sharma" in page
    assert "fresh vehicle" not in httpx.get(track_other).text

    stack.clock.at(STORY.pokhara, "11:20")
    since = stack.total()
    (resolved,) = stack.say(
        AMIT,
        f"UPDATE {reference} Backup vehicle arrived. Guests transferred. Resuming journey. All good!",
    )
    assert resolved["text"].startswith("✓ RESOLVED")
    assert "Incident closed: 11:20 AM" in resolved["text"]
    assert "Response time: 50 minutes" in resolved["text"]
    for phone in guests:
        assert any("All Set" in body(m) for m in stack.wait_for(phone, since=since))
    assert "New vehicle arrives" not in httpx.get(track_mine).text
    with transaction(pg_db_url) as s:
        incident = s.get(Incident, incident.id)
        assert incident.status == IncidentStatus.RESOLVED and incident.response_minutes == 50
    events = stack.api(
        "ops", "GET", "/api/timeline", params={"object_type": "INCIDENT", "object_id": incident.id}
    ).json()["events"]
    actions = [e["action"] for e in events]
    assert actions[0] == "tms.incident.created"
    assert actions.index("tms.incident.status.in_progress") < actions.index(
        "tms.incident.status.resolved"
    )
    assert actions.count("tms.incident.guests_notified") == 1
