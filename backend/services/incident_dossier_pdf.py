"""The incident dossier: one PDF for the insurer's claim, read from the incident's append-only
timeline (nothing in it is kept anywhere else): the incident (its text, severity and times),
the insurer's case number, each step of the insurer-first checklist with its time and who did
it, the guests concerned with their insurer details, every report from the field in order
(the guide's words, photos embedded, locations) and the whole timeline in sentences.

It opens travellers' papers, so it is OPS's and ADMIN's only (`travellers.may_read`); the
export is on each booking's timeline (`tms.traveller.papers_read`, what: "incident dossier
...") and on the incident's (`tms.incident.dossier_exported`). Of the guests it carries the
insurer, the policy, the assistance line and the helicopter cover: no passport, no medical
notes, no emergency contact (the hospital's report is the claim's medical evidence).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain import rescue
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, Source
from backend.domain.errors import DomainError
from backend.models import Incident, MediaAttachment, Staff, TimelineEvent
from backend.services import incident_rescue, media, media_files, timeline, travellers
from backend.services.traveller_papers_pdf import FONTS

# Off only in tests that read the text straight out of the file.
COMPRESS = True
EXPORTED = "tms.incident.dossier_exported"
# A photo is printed at most this big (mm), its proportions kept.
PHOTO_WIDTH_MM, PHOTO_HEIGHT_MM = 110.0, 75.0
# Pillow refuses to decode more than this (a decompression bomb): a phone photo is well under.
MAX_PHOTO_PIXELS = 60_000_000
FIELD_ACTIONS = ("tms.incident.created", "tms.incident.field_update", "tms.incident.media.attached")


def dossier_pdf(session: Session, incident: Incident, reader: Staff) -> bytes:
    """The dossier (OPS, ADMIN: NotAllowed for anyone else, nothing opened or recorded)."""
    if not travellers.may_read(reader):
        raise travellers.NotAllowed("The incident dossier is for operations and administrators")
    guests = incident_rescue.guests_for_incident(
        session, incident, reader, what=f"incident dossier {incident_rescue.reference(incident)}"
    )
    state = incident_rescue.checklist(session, incident)
    events = timeline.for_object(session, ObjectType.INCIDENT, incident.id)
    said = timeline.describe(session, events)
    attachments = {a.id: a for a in media.attachments_of_incident(session, incident)}
    trip = incident.trip
    product = trip.departure.product
    pdf = _Dossier(f"Incident dossier: {product.name} {trip.reference}")

    pdf.heading(f"Incident dossier: {product.name}", 15)
    pdf.line_of(
        f"Trip {trip.reference} · "
        f"{texts.date_range(trip.departure.start_date, trip.departure.end_date)} · "
        f"incident {incident.id}"
    )
    cases = [
        f"{d.content.get('case')}"
        + (f" ({d.content['insurer']})" if d.content.get("insurer") else "")
        for d in state.records.get(rescue.INSURER_CALLED, [])
    ]
    pdf.ln(2)
    pdf.set_font(pdf.family, "B", 12)
    pdf.multi_cell(
        0,
        6,
        pdf.text_of(
            "Insurer's case number: " + ("; ".join(cases) if cases else "none recorded yet")
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )

    pdf.heading("The incident", 12)
    reporter = (
        session.get(Staff, incident.reported_by_staff_id) if incident.reported_by_staff_id else None
    )
    facts = [
        ("Severity", f"{incident.severity} · {incident.status.replace('_', ' ').lower()}"),
        ("Reported", _when(incident.reported_at)),
        ("Reported by", f"{reporter.name} ({reporter.phone})" if reporter else "field staff"),
        ("What they said", incident.description),
        ("Acknowledged", _when(incident.acknowledged_at)),
        ("Resolved", _when(incident.resolved_at)),
    ]
    if incident.response_minutes is not None:
        facts.append(
            ("Response time", f"{incident.response_minutes} minutes, reported to resolved")
        )
    if incident.location:
        facts.append(("Where", incident.location))
    if incident.latitude is not None and incident.longitude is not None:
        facts.append(("Last position", f"{incident.latitude:.5f}, {incident.longitude:.5f}"))
    if incident.resolution:
        facts.append(("Resolution", incident.resolution))
    pdf.table_of(("", ""), facts, widths=(38, 144), header=False)

    pdf.heading("The insurer-first checklist", 12)
    if not state.open:
        pdf.line_of("Not opened: the incident is not a critical evacuation, altitude or injury.")
    else:
        rows: list[Sequence[str]] = []
        if state.opened_at is not None:
            rows.append(
                (
                    "Opened",
                    _when(state.opened_at),
                    "",
                    "the incident mentions " + ", ".join(state.words),
                )
            )
        for step in rescue.STEPS:
            records = state.records.get(step.code, [])
            if not records:
                rows.append((step.label, "not done", "", ""))
            for n, done in enumerate(records):
                label = step.label if n == 0 else f"{step.label} (corrected)"
                rows.append((label, _when(done.at), done.by, _details(done.content)))
        pdf.table_of(("Step", "When", "Who", "Details"), rows, widths=(46, 36, 28, 72))

    pdf.heading("The guests concerned", 12)
    concerned = incident_rescue.concerned(session, incident)
    pdf.line_of(
        "Named in the reports." if concerned.named else "Every guest of the trip (no guest named)."
    )
    pdf.table_of(
        ("Traveller", "Insurer", "Policy", "24-hour assistance", "Helicopter cover"),
        [
            (
                f"{g.name}\n{g.booking} · {g.position}",
                g.insurer or "not given",
                g.policy_number or "not given",
                g.assistance_phone or "not given",
                g.cover or "not given",
            )
            for g in guests
        ],
        widths=(48, 38, 30, 36, 30),
    )

    pdf.heading("From the field", 12)
    field = [e for e in events if e.action in FIELD_ACTIONS]
    if not field:
        pdf.line_of("Nothing from the field.")
    for event in field:
        _field_report(pdf, event, said.get(event.id, ""), attachments)

    pdf.heading("The incident's timeline", 12)
    pdf.table_of(
        ("When", "What happened"),
        [(_when(e.occurred_at), said.get(e.id, e.action)) for e in events],
        widths=(36, 146),
    )
    data = pdf.done()
    timeline.record(
        session,
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
        event_type="EXPORT",
        action=EXPORTED,
        actor=Actor(Source.ADMIN, phone=reader.phone, staff_id=reader.id),
        content={"guests": len(guests), "case": state.case_number},
    )
    return data


def filename(incident: Incident) -> str:
    """`incident-ebc-241215-3f2a9c1e.pdf`."""
    return f"incident-{incident.trip.reference.lower()}-{incident.id[:8]}.pdf"


def _field_report(
    pdf: _Dossier, event: TimelineEvent, sentence: str, attachments: dict[str, MediaAttachment]
) -> None:
    pdf.set_font(pdf.family, "B", 9)
    pdf.multi_cell(0, 5, pdf.text_of(_when(event.occurred_at)), new_x="LMARGIN", new_y="NEXT")
    pdf.line_of(sentence)
    attachment = attachments.get(str((event.content or {}).get("attachment") or ""))
    if attachment is None:
        pdf.ln(1)
        return
    if attachment.latitude is not None and attachment.longitude is not None:
        where = f"Location: {attachment.latitude:.5f}, {attachment.longitude:.5f}"
        pdf.line_of(where + (f" · {attachment.place}" if attachment.place else ""))
    elif attachment.kind == "image":
        _photo(pdf, attachment)
    elif attachment.status == media.STORED:
        pdf.line_of(f"A {attachment.kind} ({attachment.mime_type}): kept in the media folder")
    pdf.ln(1)


def _photo(pdf: _Dossier, attachment: MediaAttachment) -> None:
    if attachment.status != media.STORED or not attachment.storage_key:
        pdf.line_of("The photo could not be downloaded from WhatsApp.")
        return
    try:
        data = media_files.get(attachment.storage_key)
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if width * height > MAX_PHOTO_PIXELS:
                raise DomainError("too large")
            image = opened.convert("RGB")
    except Exception:  # a missing file, or bytes that are not a photo: say so, print the rest
        pdf.line_of("The photo's file is missing or is not an image.")
        return
    scale = min(PHOTO_WIDTH_MM / width, PHOTO_HEIGHT_MM / height)
    w, h = width * scale, height * scale
    if pdf.will_page_break(h + 2):
        pdf.add_page()
    pdf.image(image, x=pdf.l_margin, w=w, h=h)


def _details(content: dict[str, Any]) -> str:
    parts = []
    for name in ("case", "insurer", "provider", "at", "hospital", "contact", "note"):
        if content.get(name):
            parts.append(f"{rescue.WORDS[name].capitalize()}: {content[name]}")
    if content.get("override"):
        parts.append(f"Arranged before the insurer was called, because: {content['override']}")
    return "\n".join(parts)


def _when(value: datetime | None) -> str:
    return texts.local_datetime(clock.as_utc(value)) if value is not None else "not yet"


class _Dossier(FPDF):
    """Portrait A4, DejaVu when installed, the footer on each page."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="portrait", format="A4")
        self.family = "Helvetica"
        if (FONTS / "DejaVuSans.ttf").exists() and (FONTS / "DejaVuSans-Bold.ttf").exists():
            self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
            self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
            self.family = "DejaVu"
        self.set_compression(COMPRESS)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(14, 12, 14)
        self.set_title(title)
        self.set_author(get_settings().operator_name)
        self.printed = clock.now()
        self.add_page()

    def text_of(self, value: str) -> str:
        if self.family == "DejaVu":
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(self.family, "", 7)
        self.set_text_color(110, 110, 110)
        self.cell(
            0,
            4,
            self.text_of(
                f"{get_settings().operator_name} · incident dossier · confidential · printed "
                f"{texts.local_datetime(self.printed)} · page {self.page_no()}"
            ),
        )

    def heading(self, value: str, size: float) -> None:
        self.ln(2)
        self.set_font(self.family, "B", size)
        self.set_text_color(11, 110, 79)
        self.multi_cell(0, size * 0.5, self.text_of(value), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(29, 37, 48)

    def line_of(self, value: str) -> None:
        self.set_font(self.family, "", 9)
        self.multi_cell(0, 4.6, self.text_of(value), new_x="LMARGIN", new_y="NEXT")

    def table_of(
        self,
        heads: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float],
        header: bool = True,
    ) -> None:
        self.ln(1)
        self.set_font(self.family, "", 8)
        self.set_draw_color(170, 178, 186)
        with self.table(
            col_widths=tuple(widths),
            text_align="LEFT",
            v_align="TOP",
            line_height=3.8,
            padding=1.2,
            first_row_as_headings=header,
            headings_style=FontFace(emphasis="BOLD", fill_color=(226, 236, 231)),
            repeat_headings=1,
        ) as table:
            if header:
                row = table.row()
                for label in heads:
                    row.cell(self.text_of(label))
            for cells in rows:
                row = table.row()
                for value in cells:
                    row.cell(self.text_of(value))

    def done(self) -> bytes:
        return bytes(self.output())
