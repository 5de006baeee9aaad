"""An incident on the mountain over the admin API: OPS and ADMIN read the guests' emergency
details and the checklist (SALES and the guide get 403 and open nothing), record the steps
through `POST /api/incidents/<id>/rescue/<step>` (the evacuation before the insurer is 409,
what a step needs is 422) and get the dossier. What the checklist and the dossier hold is
tests/backend/services/test_incident_rescue.py's."""

from __future__ import annotations

from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import TimelineEvent
from backend.services import catalog, incidents, travellers, trips
from backend.services import staff as staff_service
from tests import factories
from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call
from tests.backend.console.test_papers_console import RAJESH, _papers

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)


def _incident(pg_db_url) -> tuple[str, str]:
    """On the demo's Everest departure Ava Martin (Cover-More, no helicopter cover) is
    travelling; Rajesh reports a critical injury. Returns the incident's id and her booking."""
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = factories.confirmed_booking(s, departure, 1)
        travellers.save(s, booking, 1, _papers(departure), SYSTEM)
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff_service.by_phone(s, RAJESH)
        incident = incidents.report_incident(
            s, trip, rajesh, "Ava fell and broke her wrist, helicopter evacuation", SYSTEM
        )
        return incident.id, booking.reference


def test_ops_reads_the_guests_details_and_the_checklist(backend_url, world, pg_db_url):
    incident_id, reference = _incident(pg_db_url)
    path = f"/api/incidents/{incident_id}/rescue"
    got = call(backend_url, world["ops"], "GET", path)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["incident"]["severity"] == "CRITICAL"
    assert body["checklist"]["open"] and body["checklist"]["nextStep"] == "insurer_called"
    assert [s["step"] for s in body["checklist"]["steps"]] == [
        "insurer_called",
        "evacuation_arranged",
        "hospital",
        "family_informed",
    ]
    ava = body["guests"][0]
    assert ava["fullName"] == "Ava Martin" and ava["namedInReport"]
    assert (ava["insurer"], ava["policyNumber"], ava["assistancePhone"]) == (
        "Cover-More",
        "CM-5521",
        "+61289075619",
    )
    assert ava["emergencyPhone"] == "+61412345678" and ava["medical"] == "penicillin allergy"
    for who in ("sales", "guide"):
        refused = call(backend_url, world[who], "GET", path)
        assert refused.status_code == 403 and "CM-5521" not in refused.text
        pdf = call(backend_url, world[who], "GET", f"/api/incidents/{incident_id}/dossier.pdf")
        assert pdf.status_code == 403
    with transaction(pg_db_url) as s:
        reads = s.scalars(
            select(TimelineEvent).where(
                TimelineEvent.action == "tms.traveller.papers_read",
                TimelineEvent.content["booking"].as_string() == reference,
            )
        ).all()
        priya = staff_service.by_phone(s, "+9779801000002")
        assert [e.actor_staff_id for e in reads] == [priya.id]
        assert reads[0].content["what"].startswith("incident ")


def test_the_steps_go_through_the_api_insurer_first(backend_url, world, pg_db_url):
    incident_id, _ = _incident(pg_db_url)
    base = f"/api/incidents/{incident_id}/rescue"
    heli = {"provider": "Simrik Air", "at": "2024-12-23T16:00"}
    early = call(backend_url, world["ops"], "POST", f"{base}/evacuation_arranged", json=heli)
    assert early.status_code == 409 and early.json()["code"] == "insurer_first"
    assert "Call the insurer" in early.json()["error"]
    incomplete = call(backend_url, world["ops"], "POST", f"{base}/insurer_called", json={})
    assert incomplete.status_code == 422 and "case number" in incomplete.json()["error"]
    assert call(backend_url, world["ops"], "POST", f"{base}/lunch", json={}).status_code == 404
    assert (
        call(
            backend_url, world["sales"], "POST", f"{base}/insurer_called", json={"case": "X"}
        ).status_code
        == 403
    )
    called = call(
        backend_url, world["ops"], "POST", f"{base}/insurer_called", json={"case": "CM-77120"}
    )
    assert called.status_code == 200, called.text
    assert called.json()["recorded"]["by"] == "Priya Thapa"
    arranged = call(backend_url, world["ops"], "POST", f"{base}/evacuation_arranged", json=heli)
    assert arranged.status_code == 200, arranged.text
    assert arranged.json()["recorded"]["at"] and "4:00 PM" in arranged.json()["recorded"]["at"]
    state = arranged.json()["checklist"]
    assert state["caseNumber"] == "CM-77120" and state["nextStep"] == "hospital"
    pdf = call(backend_url, world["admin"], "GET", f"/api/incidents/{incident_id}/dossier.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert "incident-" in pdf.headers["content-disposition"]
