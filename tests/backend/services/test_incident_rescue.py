"""When something goes wrong on the mountain: the guests an incident concerns with their
insurer and emergency details (OPS and ADMIN only, each read on the booking's timeline), and
the insurer-first checklist: it opens for a CRITICAL incident about an evacuation, altitude
sickness or an injury only, its steps are events on the incident's timeline with who and when,
and the evacuation before the insurer is refused unless someone says why."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from backend import clock
from backend.domain import rescue
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import AssignmentRole, Role, Source
from backend.models import InboundMessage, TimelineEvent
from backend.services import (
    assignments,
    incident_dossier_pdf,
    incident_rescue,
    incidents,
    media,
    media_files,
    timeline,
    travellers,
    trips,
)
from tests import factories
from tests.backend.services.test_travellers import _details, _world
from tests.processes import ROOT

SHOTS = Path(os.environ.get("TMS_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")


def _trip_with_guests(session):
    """A departure of two bookings (Emma and Jo Clarke; Ann Lee, no helicopter cover), its
    trip led by Rajesh, and a stranger on another departure."""
    booking, ops = _world(session, 2)
    travellers.save(session, booking, 1, _details(booking, "Emma Clarke", "AA1111111"), SYSTEM)
    travellers.save(session, booking, 2, {"full_name": "Jo Clarke"}, SYSTEM)
    second = factories.confirmed_booking(session, booking.departure, 1)
    ann = _details(second, "Ann Lee", "BB3333333") | {
        "insurer": "Allianz Travel",
        "policy_number": "AZ-5521",
        "assistance_phone": "+4989909090",
        "covers_helicopter": False,
        "emergency_name": "Ben Lee",
        "emergency_relationship": "husband",
        "emergency_phone": "+61412345678",
        "medical": "penicillin allergy",
    }
    travellers.save(session, second, 1, ann, SYSTEM)
    elsewhere = factories.departure(
        session, booking.departure.product, start=clock.local_today() + timedelta(days=90)
    )
    stranger = factories.confirmed_booking(session, elsewhere, 1)
    travellers.save(session, stranger, 1, _details(stranger, "Zed Stranger", "ZZ9999999"), SYSTEM)
    trip = trips.ensure_trip(session, booking.departure, SYSTEM)
    guide = factories.staff(session, "Rajesh", Role.GUIDE)
    return trip, booking, second, ops, guide


def _as(member) -> Actor:
    return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


def _report(session, trip, guide, text):
    return incidents.report_incident(
        session, trip, guide, text, Actor(Source.WHATSAPP, phone=guide.phone), notify=False
    )


@pytest.mark.parametrize(
    "text",
    [
        "Guest fell into a crevasse, need helicopter evacuation now",
        "Client unconscious, suspected HACE at Lobuche",
        "Guest injured badly, fractured leg near Dingboche",
        "HAPE symptoms, can't breathe, need heli",
    ],
)
def test_a_critical_incident_about_an_evacuation_altitude_or_injury_opens_the_checklist(
    session, frozen_clock, text
):
    trip, _, _, _, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, text)
    assert incident.severity == "CRITICAL"
    state = incident_rescue.checklist(session, incident)
    assert state.open and state.words and state.opened_at is not None
    assert state.next_step == rescue.INSURER_CALLED
    opened = [
        e
        for e in timeline.for_object(session, "INCIDENT", incident.id)
        if e.action == incident_rescue.OPENED
    ]
    assert len(opened) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Bus broke down near Dhunche, nobody injured",  # the words, but HIGH
        "Vehicle breakdown, waiting for a mechanic",  # HIGH, no rescue words
        "Guest lost her sunglasses",  # LOW
        "Avalanche closed the trail, everybody safe",  # CRITICAL, no rescue words
    ],
)
def test_anything_else_opens_no_checklist(session, frozen_clock, text):
    trip, _, _, ops, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, text)
    state = incident_rescue.checklist(session, incident)
    assert not state.open
    with pytest.raises(incident_rescue.RescueRefused, match="no insurer-first checklist"):
        incident_rescue.record_step(
            session, incident, rescue.INSURER_CALLED, {"case": "X-1"}, _as(ops)
        )


def test_a_guides_later_update_about_a_helicopter_opens_it(session, frozen_clock):
    trip, _, _, _, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, "Guest collapsed at Lobuche")
    assert incident.severity == "CRITICAL" and not incident_rescue.checklist(session, incident).open
    incidents.guide_update(
        session, incident, "still bad, we need a helicopter", Actor(Source.WHATSAPP)
    )
    state = incident_rescue.checklist(session, incident)
    assert state.open and "helicopter" in state.words


def test_the_steps_are_on_the_timeline_with_who_and_when_in_order(session, frozen_clock):
    trip, _, _, ops, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, "Emma fell and broke her ankle, needs evacuation")
    priya = _as(ops)
    steps = [
        (rescue.INSURER_CALLED, {"case": "WN-CASE-4471", "insurer": "World Nomads"}),
        (rescue.EVACUATION_ARRANGED, {"provider": "Simrik Air", "at": "15:30"}),
        (rescue.HOSPITAL, {"hospital": "CIWEC Hospital, Kathmandu"}),
        (rescue.FAMILY_INFORMED, {"contact": "Tom Clarke (brother)"}),
    ]
    for n, (step, given) in enumerate(steps):
        frozen_clock.advance(minutes=7)
        done = incident_rescue.record_step(session, incident, step, given, priya)
        assert done.by == "Priya" and done.at == clock.now()
        assert incident_rescue.checklist(session, incident).next_step == (
            steps[n + 1][0] if n + 1 < len(steps) else None
        )
    state = incident_rescue.checklist(session, incident)
    assert state.case_number == "WN-CASE-4471"
    evacuation = state.latest(rescue.EVACUATION_ARRANGED)
    assert evacuation.content["provider"] == "Simrik Air" and "3:30 PM" in evacuation.content["at"]
    events = [
        e
        for e in timeline.for_object(session, "INCIDENT", incident.id)
        if e.action.startswith("tms.incident.rescue.")
    ]
    assert [e.action for e in events] == [
        "tms.incident.rescue.opened",
        "tms.incident.rescue.insurer_called",
        "tms.incident.rescue.evacuation_arranged",
        "tms.incident.rescue.hospital",
        "tms.incident.rescue.family_informed",
    ]
    assert all(e.actor_staff_id == ops.id for e in events[1:])
    times = [clock.as_utc(e.occurred_at) for e in events[1:]]
    assert times == sorted(times) and len(set(times)) == 4
    said = timeline.describe(session, events)
    assert said[events[1].id] == "Priya called the insurer World Nomads: case number WN-CASE-4471"
    assert said[events[2].id].startswith("Priya arranged the evacuation with Simrik Air for ")


def test_the_evacuation_before_the_insurer_is_refused_unless_a_reason_is_given(
    session, frozen_clock
):
    trip, _, _, ops, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, "Guest injured, helicopter evacuation needed")
    heli = {"provider": "Simrik Air", "at": "15:30"}
    with pytest.raises(incident_rescue.RescueRefused, match="Call the insurer's 24-hour"):
        incident_rescue.record_step(session, incident, rescue.EVACUATION_ARRANGED, heli, _as(ops))
    with pytest.raises(incident_rescue.RescueRefused):  # a reason too short to be one
        incident_rescue.record_step(
            session, incident, rescue.EVACUATION_ARRANGED, heli | {"override": "urgent"}, _as(ops)
        )
    assert incident_rescue.checklist(session, incident).latest(rescue.EVACUATION_ARRANGED) is None
    why = "insurer's line unanswered for 20 min, guest losing consciousness"
    done = incident_rescue.record_step(
        session, incident, rescue.EVACUATION_ARRANGED, heli | {"override": why}, _as(ops)
    )
    assert done.content["override"] == why
    event = session.get(TimelineEvent, done.event_id)
    assert why in timeline.describe(session, [event])[event.id]
    # What a step needs is asked for; nothing is recorded without it.
    with pytest.raises(incident_rescue.StepInvalid, match="case number"):
        incident_rescue.record_step(session, incident, rescue.INSURER_CALLED, {}, _as(ops))
    with pytest.raises(incident_rescue.StepInvalid, match="not a time"):
        incident_rescue.record_step(
            session,
            incident,
            rescue.EVACUATION_ARRANGED,
            {"provider": "Simrik Air", "at": "soon"},
            _as(ops),
        )


def test_the_guests_emergency_details_for_ops_each_read_on_the_bookings_timeline(
    session, frozen_clock
):
    trip, booking, second, ops, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, "Guest fell on the moraine, injured, evacuation")
    guests = incident_rescue.guests_for_incident(session, incident, ops)
    assert [(g.booking, g.position) for g in guests] == [
        (booking.reference, 1),
        (booking.reference, 2),
        (second.reference, 1),
    ]
    ann = guests[2]
    assert (ann.insurer, ann.policy_number, ann.assistance_phone) == (
        "Allianz Travel",
        "AZ-5521",
        "+4989909090",
    )
    assert (ann.emergency_name, ann.emergency_relationship, ann.emergency_phone) == (
        "Ben Lee",
        "husband",
        "+61412345678",
    )
    assert ann.medical == "penicillin allergy" and ann.cover == "no helicopter cover"
    assert "Zed Stranger" not in {g.name for g in guests}
    reads = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.traveller.papers_read")
    ).all()
    assert sorted((e.object_id, e.actor_staff_id) for e in reads) == sorted(
        [(booking.id, ops.id), (second.id, ops.id)]
    )
    assert all(e.content["what"].startswith("incident ") for e in reads)
    assert all(trip.reference in e.content["what"] for e in reads)


def test_a_guest_the_report_names_comes_first_and_alone(session, frozen_clock):
    trip, _, _, ops, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, "Ann slipped and fell, suspected fracture")
    guests = incident_rescue.guests_for_incident(session, incident, ops)
    assert [(g.name, g.named) for g in guests] == [("Ann Lee", True)]
    assert incident_rescue.concerned(session, incident).others == 2
    everyone = incident_rescue.guests_for_incident(session, incident, ops, everyone=True)
    assert [g.name for g in everyone] == ["Ann Lee", "Emma Clarke", "Jo Clarke"]


def test_sales_and_guides_see_no_papers_on_an_incident(session, frozen_clock):
    trip, _, _, _, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, "Guest injured, helicopter evacuation needed")
    sarah = factories.staff(session, "Sarah", Role.SALES)
    for member in (sarah, guide):
        with pytest.raises(travellers.NotAllowed):
            incident_rescue.guests_for_incident(session, incident, member)
    reads = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.traveller.papers_read")
    ).all()
    assert reads == []
    admin = factories.staff(session, "Anil", Role.ADMIN)
    assert incident_rescue.guests_for_incident(session, incident, admin)


# -- The dossier --------------------------------------------------------------------------------


def _from_the_field(session, trip, guide, incident, tmp_path):
    """Rajesh leads the trip: a photo (a real JPEG in the media folder) and a location reach
    the incident as the WhatsApp media do."""
    offer = assignments.assign_staff(session, trip, guide, AssignmentRole.LEAD_GUIDE, 0, SYSTEM)
    assignments.respond_to_assignment(session, offer, True, SYSTEM, notify=False)
    contact = factories.contact(session, guide.phone, "Rajesh")
    sent = [
        ("image", {"id": "media-1", "mime_type": "image/jpeg", "caption": "Her ankle, swollen"}),
        ("location", {"latitude": 27.9479, "longitude": 86.8106, "name": "Lobuche"}),
    ]
    for n, (kind, content) in enumerate(sent):
        row = InboundMessage(
            wamid=f"wamid.field-{n}",
            from_phone=guide.phone,
            message_type=kind,
            payload={kind: content},
            stored_at=clock.now(),
        )
        session.add(row)
        session.flush()
        filed = media.receive(session, row, contact)
        assert filed.incident is not None and filed.incident.id == incident.id
        if kind == "image":
            photo = Image.new("RGB", (640, 480), (40, 90, 160))
            out = io.BytesIO()
            photo.save(out, "JPEG")
            key = f"2024/12/{filed.attachment.id}.jpg"
            media_files.put(key, out.getvalue())
            filed.attachment.status, filed.attachment.storage_key = media.STORED, key
            filed.attachment.size_bytes = len(out.getvalue())
    session.flush()


def _pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "dossier.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _render(data: bytes, tmp_path) -> None:
    """The dossier's pages as images (60 dpi) in var/screenshots/: incident-dossier.png, -2."""
    if shutil.which("pdftoppm") is None:
        return
    path = tmp_path / "dossier.pdf"
    path.write_bytes(data)
    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(tmp_path / "page")], check=True)
    for n, page in enumerate(sorted(tmp_path.glob("page-*.png")), start=1):
        shutil.copy(
            page, SHOTS / ("incident-dossier.png" if n == 1 else f"incident-dossier-{n}.png")
        )


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_the_dossier_holds_the_case_each_step_the_guests_insurers_and_the_field_reports(
    session, frozen_clock, tmp_path, monkeypatch
):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path / "media"))
    trip, booking, second, ops, guide = _trip_with_guests(session)
    incident = _report(session, trip, guide, "Guest fell near Lobuche, injured, needs evacuation")
    _from_the_field(session, trip, guide, incident, tmp_path)
    incidents.guide_update(
        session,
        incident,
        "Pain is bad, helicopter please",
        Actor(Source.WHATSAPP, phone=guide.phone),
    )
    for step, given in [
        (rescue.INSURER_CALLED, {"case": "WN-CASE-4471", "insurer": "World Nomads"}),
        (rescue.EVACUATION_ARRANGED, {"provider": "Simrik Air", "at": "15:30"}),
        (rescue.HOSPITAL, {"hospital": "CIWEC Hospital, Kathmandu"}),
        (rescue.FAMILY_INFORMED, {"contact": "Tom Clarke (brother)"}),
    ]:
        frozen_clock.advance(minutes=9)
        incident_rescue.record_step(session, incident, step, given, _as(ops))
    data = incident_dossier_pdf.dossier_pdf(session, incident, ops)
    _render(data, tmp_path)
    text = " ".join(_pdf_text(data, tmp_path).split())
    for seen in (
        "Incident dossier: Everest Base Camp Trek",
        trip.reference,
        "Insurer's case number: WN-CASE-4471 (World Nomads)",
        "Guest fell near Lobuche, injured, needs evacuation",
        "Pain is bad, helicopter please",
        "Insurer called, case number recorded",
        "Evacuation arranged",
        "Simrik Air",
        "CIWEC Hospital, Kathmandu",
        "Family informed",
        "Tom Clarke (brother)",
        "Priya",
        "Emma Clarke",
        "Ann Lee",
        "Allianz Travel",
        "AZ-5521",
        "+4989909090",
        "WN-778812",
        "no helicopter cover",
        "27.94790, 86.81060",
        "Her ankle, swollen",
    ):
        assert seen in text, seen
    for absent in ("Zed Stranger", "ZZ9999999", "AA1111111", "penicillin"):
        assert absent not in text, absent  # another trip; no passport, no medical notes
    assert re.search(rb"/Subtype\s*/Image", data)  # the guide's photo is in it
    reads = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.traveller.papers_read")
    ).all()
    assert sorted(e.object_id for e in reads) == sorted([booking.id, second.id])
    assert all(e.content["what"].startswith("incident dossier ") for e in reads)
    exported = [
        e
        for e in timeline.for_object(session, "INCIDENT", incident.id)
        if e.action == incident_dossier_pdf.EXPORTED
    ]
    assert [(e.actor_staff_id, e.content["case"]) for e in exported] == [(ops.id, "WN-CASE-4471")]
    with pytest.raises(travellers.NotAllowed):
        incident_dossier_pdf.dossier_pdf(
            session, incident, factories.staff(session, "Sarah", Role.SALES)
        )
