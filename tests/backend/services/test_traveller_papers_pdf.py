"""A departure's papers as PDFs: the permit worksheet and the checkpoint manifest hold every
traveller of the departure and nothing of another; the manifest carries no photo, goes to
OPS, ADMIN and the trip's lead guide only, and each export is on the bookings' timelines.

The PDFs are read as a person's PDF reader would read their text: written uncompressed, in
the core font (its text stands in the file as it is printed), by `_text`."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, Role
from backend.models import TimelineEvent
from backend.services import assignments, traveller_papers_pdf, travellers, trips
from tests import factories
from tests.backend.services.test_travellers import _complete, _details, _world


@pytest.fixture(autouse=True)
def readable_pdfs(monkeypatch, tmp_path):
    monkeypatch.setattr(traveller_papers_pdf, "COMPRESS", False)
    monkeypatch.setattr(traveller_papers_pdf, "FONTS", tmp_path / "no-fonts")
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))


def _text(pdf: bytes) -> str:
    """The text the PDF prints (each line drawn with the core font is a `(...) Tj`)."""
    assert pdf.startswith(b"%PDF-")
    shown = re.findall(rb"\(((?:[^()\\]|\\.)*)\)\s*Tj", pdf)
    return " ".join(s.decode("latin-1").replace("\\(", "(").replace("\\)", ")") for s in shown)


def _departure_with_strangers(session):
    """A departure of two bookings (three travellers) and another departure's traveller."""
    booking, ops = _world(session, 2)
    _complete(session, booking, 1, name="Emma Clarke", passport="AA1111111")
    travellers.save(session, booking, 2, _details(booking, "Jo Clarke", "AA2222222"), SYSTEM)
    travellers.save(session, booking, 2, {"medical": "", "diet": "no peanuts"}, SYSTEM)
    second = factories.confirmed_booking(session, booking.departure, 1)
    travellers.save(session, second, 1, _details(second, "Ann Lee", "BB3333333"), SYSTEM)
    travellers.save(session, second, 1, {"covers_helicopter": False}, SYSTEM)
    elsewhere = factories.departure(
        session, booking.departure.product, start=clock.local_today() + timedelta(days=90)
    )
    stranger = factories.confirmed_booking(session, elsewhere, 1)
    travellers.save(session, stranger, 1, _details(stranger, "Zed Stranger", "ZZ9999999"), SYSTEM)
    return booking, second, stranger, ops


def _lead(session, departure, name="Rajesh", role=AssignmentRole.LEAD_GUIDE, accept=True):
    guide = factories.staff(session, name, Role.GUIDE)
    trip = trips.ensure_trip(session, departure, SYSTEM)
    offer = assignments.assign_staff(session, trip, guide, role, 800_00, SYSTEM)
    if accept:
        assignments.respond_to_assignment(session, offer, True, SYSTEM, notify=False)
    return guide


def test_the_permit_worksheet_pdf_names_each_permit_and_every_traveller_of_the_departure(
    session, frozen_clock
):
    booking, second, _, ops = _departure_with_strangers(session)
    text = _text(traveller_papers_pdf.permits_pdf(session, booking.departure, ops))
    assert "Permit worksheet: Everest Base Camp Trek" in text
    assert "Sagarmatha National Park permit" in text and "TIMS card" in text
    assert "Khumbu Pasang Lhamu Rural Municipality fee" in text
    for seen in ("Emma Clarke", "AA1111111", "Jo Clarke", "AA2222222", "Ann Lee", "BB3333333"):
        assert seen in text
    assert booking.reference in text and second.reference in text
    assert "Zed Stranger" not in text and "ZZ9999999" not in text
    # The same columns as the CSV: what the permits ask for, not the medical notes.
    header, _ = travellers.permit_rows(session, booking.departure, ops)
    assert all(label in text for label in header)
    assert "asthma" not in text


def test_the_manifest_has_what_a_checkpoint_and_an_emergency_need_and_no_photo(
    session, frozen_clock
):
    booking, _, _, ops = _departure_with_strangers(session)
    assert travellers.get(session, booking, 1).passport_photo_key  # she has both photos
    pdf = traveller_papers_pdf.manifest_pdf(session, booking.departure, ops)
    text = _text(pdf)
    assert "Checkpoint manifest: Everest Base Camp Trek" in text
    for seen in (
        "Emma Clarke",
        "AA1111111",
        "GB Britain (UK)",
        "Tom Clarke (brother)",
        "+447911123456",
        "World Nomads",
        "policy WN-778812",
        "24 h +442079460000",
        "asthma; carries an inhaler",
        "no peanuts",
        "Ann Lee",
        "BB3333333",
        "Insurance does not cover helicopter evacuation",
    ):
        assert seen in text, seen
    assert "Zed Stranger" not in text and "ZZ9999999" not in text
    assert not re.search(rb"/Subtype\s*/Image", pdf)  # no photo, of anyone


def test_each_export_is_on_the_timeline_of_each_booking(session, frozen_clock):
    booking, second, _, ops = _departure_with_strangers(session)
    traveller_papers_pdf.manifest_pdf(session, booking.departure, ops)
    traveller_papers_pdf.permits_pdf(session, booking.departure, ops)
    reads = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.traveller.papers_read")
    ).all()
    seen = sorted((e.object_id, e.content["what"], e.actor_staff_id) for e in reads)
    assert seen == sorted(
        [
            (booking.id, "manifest", ops.id),
            (second.id, "manifest", ops.id),
            (booking.id, "permit worksheet", ops.id),
            (second.id, "permit worksheet", ops.id),
        ]
    )
    assert all("AA1111111" not in str(e.content) for e in reads)


def test_the_manifest_goes_to_the_trips_lead_guide_only(session, frozen_clock):
    booking, _, stranger, ops = _departure_with_strangers(session)
    lead = _lead(session, booking.departure)
    other_lead = _lead(session, stranger.departure, "Amit")
    assistant = _lead(session, booking.departure, "Kiran", AssignmentRole.ASSISTANT_GUIDE)
    offered = _lead(session, stranger.departure, "Dawa", accept=False)
    sales = factories.staff(session, "Sarah", Role.SALES)
    rows = traveller_papers_pdf.manifest_rows(session, booking.departure, lead)
    assert {r.passport for r in rows} == {"AA1111111", "AA2222222", "BB3333333"}
    assert traveller_papers_pdf.may_get_manifest(session, booking.departure, ops)
    for refused in (other_lead, assistant, offered, sales):
        with pytest.raises(travellers.NotAllowed):
            traveller_papers_pdf.manifest_pdf(session, booking.departure, refused)
    # A guide never gets the permit worksheet, not even of their own trip.
    with pytest.raises(travellers.NotAllowed):
        traveller_papers_pdf.permits_pdf(session, booking.departure, lead)
    reads = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.traveller.papers_read")
    ).all()
    assert {e.actor_staff_id for e in reads} == {lead.id}


def test_a_departure_without_travellers_gives_an_empty_sheet(session, frozen_clock):
    product = factories.ebc(session)
    departure = factories.departure(session, product, start=clock.local_today())
    ops = factories.staff(session, "Priya", Role.OPS)
    assert "This trip needs no trekking permit" in _text(
        traveller_papers_pdf.permits_pdf(session, departure, ops)
    )
    assert "No travellers on this departure" in _text(
        traveller_papers_pdf.manifest_pdf(session, departure, ops)
    )
