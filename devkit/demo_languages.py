"""The demo's travellers who write in their own language (issue 25): Jonas, from Munich,
enquires in German, is quoted and holds seats in German; Lucía, from Madrid, asks two practical
questions in Spanish and reads the operator's answers in Spanish; a traveller who writes in
Italian is answered in English that the team has the message, and the rep is told which
language. Every date is the story's.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

# devkit.demo.Director plays the people (importing it here would be a cycle).
Director = Any

JONAS = "+4915112340001"
LUCIA = "+34612340002"
GIULIA = "+393471234003"
NAMES = {
    JONAS: "Jonas Becker (customer, German)",
    LUCIA: "Lucía Fernández (customer, Spanish)",
    GIULIA: "Giulia Rossi (customer, Italian)",
}


def in_their_languages(d: Director, heading: Any, story: Any, sarah: str) -> None:
    from backend.db import transaction
    from backend.models import Booking, Contact, Lead
    from backend.services import catalog

    heading(
        "Travellers in their own languages: German, Spanish, and one the assistant does not speak"
    )
    d.cast = {JONAS, LUCIA, GIULIA, sarah}
    d.at(story.today, "15:10")
    d.says(
        JONAS, "Hallo! Wir möchten im März den Everest Base Camp Trek machen, wir sind zu zweit."
    )
    with transaction() as s:
        lead = s.scalars(select(Lead).where(Lead.contact.has(phone=JONAS))).one()
        assert lead.product is not None
        departure = catalog.departures_of(s, lead.product, from_date=story.today)[0]
        lead_id, departure_id = lead.id, departure.id
        language = s.scalar(select(Contact.language).where(Contact.phone == JONAS))
    print(f"    (Jonas's language, as the contact now says: {language})")
    d.at(story.today, "15:20")
    d.staff(
        "Sarah",
        "POST",
        f"/api/leads/{lead_id}/quote",
        "the quote: Sarah writes in English, Jonas reads German",
        {"departure_id": departure_id, "party_size": 2},
    )
    d.at(story.today, "15:30")
    d.taps(JONAS, "Plätze reservieren")
    with transaction() as s:
        held = s.scalar(select(Booking.status).where(Booking.lead_id == lead_id))
    print(f"    (Jonas's booking: {held})")

    d.at(story.today, "16:00")
    d.says(LUCIA, "Hola, ¿necesito visa para viajar a Nepal? Somos de España.")
    d.says(LUCIA, "Y qué tengo que llevar en la mochila para el trekking?")

    d.at(story.today, "16:30")
    d.says(
        GIULIA, "Buongiorno, vorrei sapere se il trekking al campo base è adatto ai principianti"
    )
