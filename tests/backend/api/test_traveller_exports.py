"""A departure's papers as PDFs over the admin API: the checkpoint manifest for OPS, ADMIN and
the trip's lead guide (403 for a guide of another trip and for SALES), the permit worksheet
for OPS and ADMIN only; each export on the bookings' timelines. What the PDFs hold is
tests/backend/services/test_traveller_papers_pdf.py's."""

from __future__ import annotations

from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole
from backend.models import TimelineEvent
from backend.services import assignments, catalog, travellers, trips
from backend.services import staff as staff_service
from tests import factories
from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)

RAJESH = "+9779801000003"  # the demo's guide (world["guide"])


def _two_departures(pg_db_url) -> tuple[str, str, str]:
    """Rajesh leads the Everest departure (a booking with a named traveller on it); the
    Annapurna one is another guide's business. Returns both ids and the booking's reference."""
    with transaction(pg_db_url) as s:
        mine = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        other = catalog.departures_of(s, catalog.get_product(s, "ANN"))[-1]
        booking = factories.confirmed_booking(s, mine, 1)
        travellers.save(s, booking, 1, {"full_name": "Ava Martin", "diet": "vegan"}, SYSTEM)
        rajesh = staff_service.by_phone(s, RAJESH)
        trip = trips.ensure_trip(s, mine, SYSTEM)
        offer = assignments.assign_staff(s, trip, rajesh, AssignmentRole.LEAD_GUIDE, 0, SYSTEM)
        assignments.respond_to_assignment(s, offer, True, SYSTEM, notify=False)
        return mine.id, other.id, booking.reference


def test_the_lead_guide_gets_their_own_trips_manifest_and_no_other(backend_url, world, pg_db_url):
    mine, other, reference = _two_departures(pg_db_url)
    got = call(backend_url, world["guide"], "GET", f"/api/departures/{mine}/manifest.pdf")
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/pdf" and got.content.startswith(b"%PDF-")
    assert "manifest-ebc-" in got.headers["content-disposition"]
    assert got.headers["cache-control"] == "no-store"
    refused = call(backend_url, world["guide"], "GET", f"/api/departures/{other}/manifest.pdf")
    assert refused.status_code == 403 and "lead guide" in refused.json()["error"]
    assert (
        call(backend_url, world["sales"], "GET", f"/api/departures/{mine}/manifest.pdf").status_code
        == 403
    )
    for who in ("ops", "admin"):
        answer = call(backend_url, world[who], "GET", f"/api/departures/{other}/manifest.pdf")
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF-")
    unknown = call(backend_url, world["ops"], "GET", "/api/departures/no-such/manifest.pdf")
    assert unknown.status_code == 404
    with transaction(pg_db_url) as s:
        rajesh = staff_service.by_phone(s, RAJESH)
        reads = s.scalars(
            select(TimelineEvent).where(
                TimelineEvent.action == "tms.traveller.papers_read",
                TimelineEvent.content["booking"].as_string() == reference,
            )
        ).all()
        assert [(e.actor_staff_id, e.content["what"]) for e in reads] == [(rajesh.id, "manifest")]


def test_the_permit_worksheet_pdf_is_for_ops_and_admin_only(backend_url, world, pg_db_url):
    mine, _, _ = _two_departures(pg_db_url)
    path = f"/api/departures/{mine}/permits.pdf"
    for who in ("ops", "admin"):
        answer = call(backend_url, world[who], "GET", path)
        assert answer.status_code == 200 and answer.content.startswith(b"%PDF-")
        assert answer.headers["content-type"] == "application/pdf"
    for who in ("sales", "guide"):  # the guide leads this trip: still no worksheet
        assert call(backend_url, world[who], "GET", path).status_code == 403
    assert call(backend_url, None, "GET", path).status_code == 401
