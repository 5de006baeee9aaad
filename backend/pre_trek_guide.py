"""The pre-trek guide, a PDF generated from the product's own data (itinerary, inclusions,
packing list) and the departure (dates, meeting point): attached to the booking confirmation
and to the guide's assignment details.

It is written in the language copy is written in now (`i18n.speaking`; the customer's, set by
`emails.attachment_files`): its fixed words are the `pages` catalogue's (babel-pages.cfg),
the checklist the chat's, and the trek's own texts those the team wrote in that language,
else the English (`backend.texts.treks.trek_texts`)."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path

from fpdf import FPDF

from backend import i18n, texts
from backend.config import get_settings
from backend.i18n import pages_gettext as _
from backend.i18n import pages_ngettext as ngettext
from backend.models import Booking, Departure
from backend.texts.format import day_month
from backend.texts.treks import trek_texts

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
        footer = _("%(operator)s · page %(page)s") % {
            "operator": get_settings().operator_name,
            "page": self.page_no(),
        }
        self.cell(0, 5, self.text_of(footer))

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
    trek = trek_texts(product)
    title = _("%(trek)s: pre-trek guide") % {"trek": trek.name}
    pdf = _Guide()
    pdf.set_title(title)
    pdf.set_author(settings.operator_name)
    pdf.set_lang(i18n.current())
    pdf.add_page()
    pdf.heading(settings.operator_name, 11)
    pdf.heading(title, 18)
    pdf.para(texts.date_range(departure.start_date, departure.end_date))
    if booking is not None:
        pdf.para(
            ngettext(
                "Booking %(reference)s · %(count)s person",
                "Booking %(reference)s · %(count)s people",
                booking.party_size,
            )
            % {"reference": booking.reference, "count": booking.party_size}
        )
    pdf.heading(_("Meeting point"))
    pdf.para(
        _(
            "%(place)s, %(day)s at %(time)s. Your guide checks in on WhatsApp when the trip "
            "starts and you get a live tracking link."
        )
        % {
            "place": departure.meeting_point,
            "day": day_month(departure.start_date),
            "time": _meeting_time(departure),
        }
    )
    if trek.itinerary:
        pdf.heading(_("Itinerary"))
        for item in trek.itinerary:
            pdf.set_font(pdf.family, "B", 10.5)
            pdf.multi_cell(
                0,
                5.6,
                pdf.text_of(f"{_('Day %(days)s') % {'days': item.days}}: {item.title}"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
            if item.detail:
                pdf.para(item.detail, 9.5)
    if trek.inclusions:
        pdf.heading(_("Included"))
        pdf.bullets(list(trek.inclusions))
    pdf.heading(_("Before you leave"))
    pdf.bullets(list(texts.PRE_DEPARTURE_CHECKLIST))
    if trek.packing_list:
        pdf.heading(_("What to bring"))
        pdf.bullets(list(trek.packing_list))
    pdf.heading(_("Contacts"))
    pdf.para(
        _("WhatsApp: %(phone)s (reply any time)") % {"phone": settings.whatsapp_business_phone}
        + "\n"
        + _("Emergency: %(phone)s") % {"phone": settings.emergency_phone}
    )
    return bytes(pdf.output())


def _meeting_time(departure: Departure) -> str:
    """`7:00 AM`, `07:00 Uhr`: as the language spoken now writes a time (`rendering` does the
    same for the pages; a sibling layer, so not imported)."""
    hour, minute = (int(x) for x in departure.meeting_time.split(":"))
    at = datetime.combine(departure.start_date, time(hour, minute), tzinfo=get_settings().tz)
    return texts.local_time(at)


def guide_filename(departure: Departure) -> str:
    return f"pre-trek-guide-{departure.product.code.lower()}-{departure.start_date:%Y-%m-%d}.pdf"
