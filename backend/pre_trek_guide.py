"""The pre-trek guide, a PDF generated from the product's own data (itinerary, inclusions,
packing list) and the departure (dates, meeting point): attached to the booking confirmation
and to the guide's assignment details."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from backend import texts
from backend.config import get_settings
from backend.models import Booking, Departure

# Debian's DejaVu (fonts-dejavu-core) prints any text; without it the core font prints what
# Latin-1 can, and the rest as "?".
_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


class _Guide(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.family = "Helvetica"
        if (_DEJAVU / "DejaVuSans.ttf").exists() and (_DEJAVU / "DejaVuSans-Bold.ttf").exists():
            self.add_font("DejaVu", "", str(_DEJAVU / "DejaVuSans.ttf"))
            self.add_font("DejaVu", "B", str(_DEJAVU / "DejaVuSans-Bold.ttf"))
            self.family = "DejaVu"
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 18, 18)

    def text_of(self, value: str) -> str:
        if self.family == "DejaVu":
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(self.family, "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, self.text_of(f"{get_settings().operator_name} · page {self.page_no()}"))

    def heading(self, value: str, size: int = 13) -> None:
        self.ln(3)
        self.set_font(self.family, "B", size)
        self.set_text_color(11, 110, 79)
        self.multi_cell(0, 7, self.text_of(value), new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(29, 37, 48)

    def para(self, value: str, size: float = 10.5) -> None:
        self.set_font(self.family, "", size)
        self.multi_cell(0, 5.6, self.text_of(value), new_x="LMARGIN", new_y="NEXT")

    def bullets(self, items: list[str]) -> None:
        for item in items:
            self.para(f"•  {item}")


def pre_trek_guide(departure: Departure, booking: Booking | None = None) -> bytes:
    settings = get_settings()
    product = departure.product
    pdf = _Guide()
    pdf.set_title(f"{product.name}: pre-trek guide")
    pdf.set_author(settings.operator_name)
    pdf.add_page()
    pdf.heading(settings.operator_name, 11)
    pdf.heading(f"{product.name}: pre-trek guide", 18)
    pdf.para(texts.date_range(departure.start_date, departure.end_date))
    if booking is not None:
        pdf.para(f"Booking {booking.reference} · {booking.party_size} people")
    pdf.heading("Meeting point")
    pdf.para(
        f"{departure.meeting_point}, {departure.start_date:%B} {departure.start_date.day} at "
        f"{texts.clock_label(departure.meeting_time)}. Your guide checks in on WhatsApp when the "
        "trip starts and you get a live tracking link."
    )
    if product.itinerary:
        pdf.heading("Itinerary")
        for item in product.itinerary:
            pdf.set_font(pdf.family, "B", 10.5)
            pdf.multi_cell(
                0,
                5.6,
                pdf.text_of(f"Day {item.get('days')}: {item.get('title')}"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            if item.get("detail"):
                pdf.para(str(item["detail"]), 9.5)
    if product.inclusions:
        pdf.heading("Included")
        pdf.bullets([str(x) for x in product.inclusions])
    pdf.heading("Before you leave")
    pdf.bullets(list(texts.PRE_DEPARTURE_CHECKLIST))
    if product.packing_list:
        pdf.heading("What to bring")
        pdf.bullets([str(x) for x in product.packing_list])
    pdf.heading("Contacts")
    pdf.para(
        f"WhatsApp: {settings.whatsapp_business_phone} (reply any time)\n"
        f"Emergency: {settings.emergency_phone}"
    )
    return bytes(pdf.output())


def guide_filename(departure: Departure) -> str:
    return f"pre-trek-guide-{departure.product.code.lower()}-{departure.start_date:%Y-%m-%d}.pdf"
