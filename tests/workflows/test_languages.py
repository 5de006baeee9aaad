"""Customers in their own language over the real stack (fake Graph API → backend → Rasa →
actions): a German enquiry quoted and held in German, Spanish questions answered from the
Spanish answers, French, "English please", and a language the assistant does not speak."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend import i18n
from backend.db import transaction
from backend.models import Booking, Contact, Lead
from backend.services import catalog, knowledge
from devkit.demo_data import STORY
from tests.workflows.conftest import body

pytestmark = pytest.mark.rasa
JONAS, LUCIA, CAMILLE, GIULIA = "+4915112349001", "+34612349002", "+33612349003", "+393471239004"
SARAH = "+9779801000001"


def _language(pg_db_url: str, phone: str) -> str | None:
    with transaction(pg_db_url) as s:
        return s.scalar(select(Contact.language).where(Contact.phone == phone))


def test_a_german_customer_enquires_is_quoted_and_holds_in_german(stack, pg_db_url):
    stack.clock.at(STORY.today, "10:00")
    (received,) = stack.say(
        JONAS, "Hallo! Wir möchten im März den Everest Base Camp Trek machen, wir sind zu zweit."
    )
    assert _language(pg_db_url, JONAS) == "de"
    assert received["text"].startswith("Vielen Dank für Ihr Interesse")
    with transaction(pg_db_url) as s:
        lead = s.scalars(select(Lead).where(Lead.contact.has(phone=JONAS))).one()
        assert (lead.product.code, lead.party_size) == ("EBC", 2)
        departure = catalog.departures_of(s, lead.product, from_date=STORY.today)[0]
        lead_id, departure_id = lead.id, departure.id
    since = stack.total()
    quoted = stack.api(
        "sales",
        "POST",
        f"/api/leads/{lead_id}/quote",
        json={"departure_id": departure_id, "party_size": 2},
    )
    assert quoted.status_code == 200, quoted.text
    (quote,) = stack.wait_for(JONAS, since=since)
    assert "pro Person" in quote["text"] and quote["buttons"][0] == "Plätze reservieren"
    (held,) = stack.tap(JONAS, "Plätze reservieren")
    assert "Buchungsnummer" in held["text"] or "Buchung" in held["text"], held["text"]
    with transaction(pg_db_url) as s:
        assert s.scalar(select(Booking.status).where(Booking.lead_id == lead_id)) == "HELD"


def test_spanish_questions_get_the_spanish_answers_and_english_please_switches(stack, pg_db_url):
    stack.clock.at(STORY.today, "11:00")
    (visa,) = stack.say(LUCIA, "Hola, ¿necesito visa para viajar a Nepal? Somos de España.")
    assert _language(pg_db_url, LUCIA) == "es"
    with transaction(pg_db_url) as s, i18n.speaking("es"):
        spanish = knowledge.answer_for(s, "visas")
    assert visa["text"] == spanish and spanish != knowledge_in_english(pg_db_url, "visas")
    (switched,) = stack.say(LUCIA, "English please")
    assert switched["text"] == "Of course! I'll write to you in English from now on."
    (packing,) = stack.say(LUCIA, "Y qué tengo que llevar en la mochila para el trekking?")
    assert packing["text"] == knowledge_in_english(pg_db_url, "packing")  # chosen: English


def knowledge_in_english(pg_db_url: str, topic: str) -> str:
    with transaction(pg_db_url) as s:
        found = knowledge.answer_for(s, topic, None, "en")
        assert found is not None
        return found


def test_a_french_customer_is_answered_in_french(stack, pg_db_url):
    stack.clock.at(STORY.today, "12:00")
    (answer,) = stack.say(CAMILLE, "Bonjour, quel est le tarif pour le camp de base de l'Everest ?")
    assert _language(pg_db_url, CAMILLE) == "fr"
    assert "par personne" in answer["text"], answer["text"]


def test_a_language_the_assistant_does_not_speak_reaches_a_person(stack, pg_db_url):
    stack.clock.at(STORY.today, "13:00")
    since = stack.total()
    (answer,) = stack.say(
        GIULIA, "Buongiorno, vorrei sapere se il trekking al campo base è adatto ai principianti"
    )
    assert answer["text"].startswith("Thank you for your message! I can write in English")
    alerts = stack.wait_for(
        SARAH, since=since, until=lambda found: any("Italian" in body(m) for m in found)
    )
    assert any("vorrei sapere" in body(m) for m in alerts)
