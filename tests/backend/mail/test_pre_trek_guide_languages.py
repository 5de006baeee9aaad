"""The pre-trek guide (PDF) in its reader's language, on SQLite and PostgreSQL: a German
customer's confirmation carries it in German (its fixed words, the dates, the checklist and
the trek's texts the team wrote in German, the English where they wrote none); an English
customer's reads as before; a guide's copy stays English. Read back with pdftotext."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from backend import i18n
from backend.db import transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import Source
from backend.models import OutboundEmail
from backend.payments.provider import payment_event
from backend.services import bookings, catalog, contacts, emails, payments, staff, trek_texts
from tests.conftest import load_demo_world

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")

GERMAN = trek_texts.Draft(
    name="Everest-Basislager-Trek",
    itinerary=[("Ankunft in Kathmandu", "Abholung am Flughafen, Begrüßungsessen")],
    inclusions=["Alle Genehmigungen und Gebühren"],
    packing_list=["Daunenschlafsack (-15 °C)"],
)


@pytest.fixture
def world(db_url: str, story_clock) -> Iterator[str]:
    load_demo_world(db_url)
    with transaction() as s:
        anil = staff.by_phone(s, "+9779801000009")
        assert anil is not None
        admin = Actor(Source.ADMIN, phone=anil.phone, staff_id=anil.id)
        trek_texts.save(s, "EBC", "de", GERMAN, admin)
    yield db_url


def _guide_for(language: str | None, phone: str) -> str:
    """A customer reading `language` holds 2 seats on EBC and pays the deposit; the text of
    the PDF their confirmation carries."""
    with transaction() as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        contact = contacts.get_or_create_contact(s, phone, name="Jonas Weber")
        contact.email = "jonas@example.com"
        contact.language = language
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=2, actor=SYSTEM
        )
        reference, deposit = booking.reference, booking.deposit_minor
    with transaction() as s:
        payments.apply_provider_event(
            s,
            provider="local",
            event=payment_event(reference, deposit, "USD", "DEPOSIT", event_id=f"evt_{phone}"),
            actor=SYSTEM,
        )
    # Sent later, from another turn in whatever language: the PDF follows the customer.
    with transaction() as s, i18n.speaking("fr"):
        row = s.scalars(
            select(OutboundEmail).where(OutboundEmail.purpose == "booking_confirmation")
        ).one()
        [(name, pdf)] = emails.attachment_files(s, row)
    assert name.startswith("pre-trek-guide-ebc-") and pdf.startswith(b"%PDF")
    return _text_of(pdf)


def _text_of(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return " ".join(done.stdout.decode("utf-8").split())  # lines wrapped as the page has them


def test_a_german_customer_gets_the_guide_in_german(world):
    text = _guide_for("de", "+4915112345678")
    for german in (
        "Everest-Basislager-Trek: Reiseleitfaden vor dem Trek",
        "Buchung EBC-",
        "· 2 Personen",
        "Treffpunkt",
        "Ihr Guide meldet sich zu Beginn der Reise auf WhatsApp",
        " Uhr",  # the meeting time as German writes it
        "Reiseverlauf",
        "Tag 1: Ankunft in Kathmandu",
        "Abholung am Flughafen, Begrüßungsessen",
        "Tag 2: Phakding to Namche Bazaar",  # no German written for day 2: the English
        "Inbegriffen",
        "Alle Genehmigungen und Gebühren",
        "Vor der Abreise",
        "Gültiger Reisepass (bitte prüfen!)",
        "Was Sie mitbringen sollten",
        "Daunenschlafsack (-15 °C)",
        "Kontakte",
        "Notfall:",
        "Seite 1",
    ):
        assert german in text, german
    for english in ("pre-trek guide", "Meeting point", "Itinerary", "What to bring", "Included"):
        assert english not in text, english


def test_an_english_customer_gets_the_guide_as_before(world):
    text = _guide_for(None, "+61412000777")
    for english in (
        "Everest Base Camp Trek: pre-trek guide",
        "· 2 people",
        "Meeting point",
        "Itinerary",
        "Day 1:",
        "Included",
        "All permits & fees",
        "Before you leave",
        "Valid passport (check!)",
        "What to bring",
        "Emergency:",
        "page 1",
    ):
        assert english in text, english
    assert "Reiseverlauf" not in text and "Basislager" not in text
