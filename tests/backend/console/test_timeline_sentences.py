"""Staff read the timeline as sentences (backend/domain/timeline_actions.py), on the timeline
page and on the lead and booking pages, with the raw code still there in small print."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import Source
from backend.models import Booking, Staff
from backend.services import catalog, contacts, leads

SARAH = "+9779801000001"


def _quoted_and_held_lead(db: str) -> tuple[str, str]:
    """A lead Sarah quoted and held from the console: (its id, the booking's id)."""
    with transaction(db) as s:
        sarah = s.scalar(select(Staff).where(Staff.phone == SARAH))
        as_sarah = Actor(Source.ADMIN, phone=sarah.phone, staff_id=sarah.id)
        contact = contacts.get_or_create_contact(s, "+61499123777", name="Maya Lindqvist")
        product = catalog.get_product(s, "EBC")
        lead = leads.create_lead(s, contact=contact, product=product, party_size=3, actor=SYSTEM)
        departure = catalog.departures_of(s, product)[0]
        leads.quote_lead(s, lead, departure, 3, as_sarah)
        booking = leads.place_hold(s, lead, as_sarah).booking
        return lead.id, booking.id


def test_the_timeline_shows_what_happened_in_words_and_keeps_the_code(console, pg_db_url):
    lead_id, booking_id = _quoted_and_held_lead(pg_db_url)
    browser = console.sign_in(SARAH)
    page = browser.get("/console/timeline", params={"object_type": "LEAD", "object_id": lead_id})
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert re.search(r"Sarah Gurung quoted \$[\d,]+ for 3 travellers on the \S+ departure", text)
    assert "Sarah Gurung turned the lead into booking " in text
    # The code stays for whoever audits it.
    assert "<code>tms.lead.status.quoted</code>" in page.text

    lead_page = html.unescape(browser.get(f"/console/leads/{lead_id}").text)
    assert (
        "Sarah Gurung quoted $" in lead_page and "<code>tms.lead.status.quoted</code>" in lead_page
    )

    with transaction(pg_db_url) as s:
        reference = s.get(Booking, booking_id).reference
    booking_page = html.unescape(browser.get(f"/console/bookings/{booking_id}").text)
    assert f"Sarah Gurung made booking {reference}: EBC on " in booking_page
    assert "<code>tms.booking.created</code>" in booking_page
