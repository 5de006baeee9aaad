"""A departure's papers as PDFs: the permit worksheet (for the permit counter) and the checkpoint
manifest (for the lead guide). Both are reads of the travellers' papers, logged on each
booking's timeline by `backend.services.travellers` (who, what, when; never the values).

Who may have the manifest is the one rule here (`may_get_manifest`): OPS and ADMIN for any
departure, a guide only for a departure whose trip they lead (an accepted lead-guide
assignment); nobody else. The manifest carries what a checkpoint and an emergency need (names,
nationality, passport numbers, emergency contacts, insurers' assistance numbers, medical
notes and diet) and never a photo. The worksheet has the rows and columns of
`travellers.permit_rows`, so the CSV and the PDF never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain import travellers as rules
from backend.domain.countries import COUNTRIES
from backend.domain.enums import AssignmentRole, AssignmentStatus, Role
from backend.domain.permits import PERMITS
from backend.models import Assignment, Departure, Staff, Trip
from backend.services import travellers

# Debian's DejaVu (fonts-dejavu-core) prints any name; without it the core font prints what
# Latin-1 can, and the rest as "?" (as the pre-trek guide does).
FONTS = Path("/usr/share/fonts/truetype/dejavu")
# Off only in tests, which read the text straight out of the file.
COMPRESS = True
MANIFEST = "manifest"
# A column grows to its longest line up to this (mm), then wraps.
WIDEST_MM = 55


@dataclass(frozen=True)
class ManifestRow:
    booking: str
    position: int
    name: str
    nationality: str
    passport: str
    emergency: str  # name (relationship), phone
    insurance: str  # insurer, policy, 24-hour assistance phone
    medical: str
    diet: str
    cover: str  # helicopter cover in words ("" when covered up to the trek's highest point)


# -- Who may have the manifest ------------------------------------------------------------------


def may_get_manifest(session: Session, departure: Departure, member: Staff) -> bool:
    """OPS and ADMIN for any departure; a guide for a departure whose trip they lead."""
    if travellers.may_read(member):
        return True
    if not member.has_role(Role.GUIDE):
        return False
    lead = session.scalar(
        select(Assignment.id)
        .join(Trip, Trip.id == Assignment.trip_id)
        .where(
            Trip.departure_id == departure.id,
            Assignment.staff_id == member.id,
            Assignment.role == AssignmentRole.LEAD_GUIDE,
            Assignment.status.in_([AssignmentStatus.ACCEPTED, AssignmentStatus.COMPLETED]),
        )
    )
    return lead is not None


def manifest_rows(session: Session, departure: Departure, reader: Staff) -> list[ManifestRow]:
    """A row per traveller of the departure's live bookings; the read is recorded on each
    booking's timeline (what: "manifest"). NotAllowed for anyone `may_get_manifest` refuses."""
    if not may_get_manifest(session, departure, reader):
        raise travellers.NotAllowed(
            "The checkpoint manifest is for operations and the trip's lead guide"
        )
    highest = departure.product.max_altitude_m
    rows: list[ManifestRow] = []
    for booking in travellers.live_bookings(session, departure):
        found = travellers.ensure(session, booking)
        travellers.log_read(session, booking, reader, MANIFEST, [t.position for t in found])
        for traveller in found:
            values = travellers.values_of(traveller)
            rows.append(
                ManifestRow(
                    booking=booking.reference,
                    position=traveller.position,
                    name=traveller.full_name or f"Traveller {traveller.position} (no name yet)",
                    nationality=_country(values.get("nationality")),
                    passport=_text(values.get("passport_number")),
                    emergency=_joined(
                        _with_relationship(
                            values.get("emergency_name"), values.get("emergency_relationship")
                        ),
                        values.get("emergency_phone"),
                    ),
                    insurance=_joined(
                        values.get("insurer"),
                        _labelled("policy", values.get("policy_number")),
                        _labelled("24 h", values.get("assistance_phone")),
                    ),
                    medical=_text(values.get("medical")),
                    diet=_text(values.get("diet")),
                    cover=_cover(values, highest),
                )
            )
    return rows


# -- The PDFs ------------------------------------------------------------------------------------


def manifest_pdf(session: Session, departure: Departure, reader: Staff) -> bytes:
    rows = manifest_rows(session, departure, reader)
    pdf = _Sheet(f"{departure.product.name}: checkpoint manifest")
    _title(pdf, departure, "Checkpoint manifest")
    pdf.line_of(
        f"{len(rows)} traveller{'s' if len(rows) != 1 else ''} · for the lead guide · "
        f"emergency line {get_settings().emergency_phone}"
    )
    header = (
        "#",
        "Name (as in the passport)",
        "Nationality",
        "Passport",
        "Emergency contact",
        "Insurance (24-hour assistance)",
        "Medical notes",
        "Diet",
    )
    table = [
        (
            str(n),
            f"{r.name}\n{r.booking} · {r.position}",
            r.nationality,
            r.passport,
            r.emergency,
            r.insurance + (f"\n{r.cover}" if r.cover else ""),
            r.medical,
            r.diet,
        )
        for n, r in enumerate(rows, start=1)
    ]
    pdf.table_of(header, table)
    if not rows:
        pdf.line_of("No travellers on this departure.")
    return pdf.done()


def permits_pdf(session: Session, departure: Departure, reader: Staff) -> bytes:
    """The permit worksheet (`travellers.permit_rows`: OPS and ADMIN; the export is logged)."""
    header, rows = travellers.permit_rows(session, departure, reader)
    codes = [c for c in (departure.product.permits or []) if c in PERMITS]
    pdf = _Sheet(f"{departure.product.name}: permit worksheet")
    _title(pdf, departure, "Permit worksheet")
    if codes:
        for code in codes:
            permit = PERMITS[code]
            stapled = " · a portrait photo stapled to the form" if permit.photo else ""
            pdf.line_of(f"{permit.code}: {permit.name}{stapled}")
    else:
        pdf.line_of("This trip needs no trekking permit.")
    pdf.line_of(f"{len(rows)} traveller{'s' if len(rows) != 1 else ''}")
    pdf.table_of(header, rows)
    return pdf.done()


def filename(departure: Departure, what: str) -> str:
    """`permits-ebc-2026-03-15.pdf`, `manifest-ebc-2026-03-15.pdf`."""
    return f"{what}-{departure.product.code.lower()}-{departure.start_date:%Y-%m-%d}.pdf"


class _Sheet(FPDF):
    """Landscape A4, a table per page with its heading repeated, the footer on each page."""

    def __init__(self, title: str) -> None:
        super().__init__(orientation="landscape", format="A4")
        self.family = "Helvetica"
        if (FONTS / "DejaVuSans.ttf").exists() and (FONTS / "DejaVuSans-Bold.ttf").exists():
            self.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
            self.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
            self.family = "DejaVu"
        self.set_compression(COMPRESS)
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(12, 12, 12)
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
                f"{get_settings().operator_name} · confidential: travellers' personal data · "
                f"printed {self.printed:%Y-%m-%d %H:%M} UTC · page {self.page_no()}"
            ),
        )

    def heading(self, value: str, size: float) -> None:
        self.set_font(self.family, "B", size)
        self.set_text_color(11, 110, 79)
        self.multi_cell(0, size * 0.5, self.text_of(value), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(29, 37, 48)

    def line_of(self, value: str) -> None:
        self.set_font(self.family, "", 9.5)
        self.multi_cell(0, 5, self.text_of(value), new_x="LMARGIN", new_y="NEXT")

    def table_of(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.ln(2)
        self.set_font(self.family, "", 7.5)
        self.set_draw_color(170, 178, 186)
        with self.table(
            col_widths=self.widths(header, rows),
            text_align="LEFT",
            v_align="TOP",
            line_height=3.6,
            padding=1.2,
            headings_style=FontFace(emphasis="BOLD", fill_color=(226, 236, 231)),
            repeat_headings=1,
        ) as table:
            heading = table.row()
            for label in header:
                heading.cell(self.text_of(label))
            for cells in rows:
                row = table.row()
                for value in cells:
                    row.cell(self.text_of(value))

    def widths(self, header: Sequence[str], rows: Sequence[Sequence[str]]) -> tuple[float, ...]:
        """Each column as wide as its longest line (at most WIDEST_MM), never narrower than
        its longest word (a word is never broken), then stretched or squeezed to the page."""
        pad = 2 * 1.2 + 0.6
        least: list[float] = []
        wanted: list[float] = []
        for i, label in enumerate(header):
            cells = [r[i] for r in rows if i < len(r)]
            self.set_font(self.family, "B", 7.5)
            words = [self.get_string_width(w) for w in label.split()]
            self.set_font(self.family, "", 7.5)
            for cell in cells:
                words += [self.get_string_width(w) for w in cell.split()]
            lines = [self.get_string_width(line) for c in cells for line in c.splitlines()]
            least.append(max(words, default=4) + pad)
            wanted.append(max(least[-1], min(max(lines, default=0) + pad, WIDEST_MM)))
        room = self.epw
        if sum(wanted) <= room:
            grow = room / sum(wanted)
            return tuple(w * grow for w in wanted)
        spare = sum(wanted) - sum(least)
        cut = min(1.0, (sum(wanted) - room) / spare) if spare else 0.0
        return tuple(w - (w - m) * cut for w, m in zip(wanted, least, strict=True))

    def done(self) -> bytes:
        return bytes(self.output())


def _title(pdf: _Sheet, departure: Departure, what: str) -> None:
    product = departure.product
    pdf.heading(f"{what}: {product.name}", 15)
    pdf.line_of(
        f"{texts.date_range(departure.start_date, departure.end_date)} · departure "
        f"{departure.id} · meeting point {departure.meeting_point}"
        + (f" · highest point {product.max_altitude_m:,} m" if product.max_altitude_m else "")
    )


# -- Cells ---------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _country(code: Any) -> str:
    if not code:
        return ""
    name = COUNTRIES.get(str(code))
    return f"{code}\n{name}" if name else str(code)


def _joined(*parts: Any) -> str:
    return "\n".join(str(p) for p in parts if p)


def _labelled(label: str, value: Any) -> str:
    return f"{label} {value}" if value else ""


def _with_relationship(name: Any, relationship: Any) -> str:
    if not name:
        return ""
    return f"{name} ({relationship})" if relationship else str(name)


def _cover(values: dict[str, Any], highest: int | None) -> str:
    if values.get("covers_helicopter") is False:
        return rules.FLAG_WORDS["no_helicopter_cover"].capitalize()
    cover = values.get("cover_altitude_m")
    if values.get("covers_helicopter") and isinstance(cover, int):
        return f"Helicopter cover to {cover:,} m" + (
            " (below the trek's highest point)" if highest and cover < highest else ""
        )
    return ""
