"""A customer's language: detected from what they write when it is clear, kept once chosen."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import TimelineEvent
from backend.services import contacts, languages

PHONE = "+4915112345678"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Wir möchten im Oktober zum Everest Base Camp, sind zu zweit", "de"),
        ("Bonjour, combien coûte le trek des Annapurnas pour deux personnes ?", "fr"),
        ("Bonjour, quel est le tarif pour le camp de base de l'Everest ?", "fr"),
        ("Hola, queremos ir al campo base del Everest en octubre", "es"),
        ("Hi, we are two and would like to do the Everest trek in October", "en"),
    ],
)
def test_a_clear_message_sets_the_customers_language(db_url: str, text: str, code: str) -> None:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, PHONE)
        assert languages.notice(s, contact, text, SYSTEM) == code
        assert languages.language_of(contact) == code


@pytest.mark.parametrize("text", ["ok", "hola!", "EBC?", "danke", "how much is EBC"])
def test_a_short_message_changes_nothing(db_url: str, text: str) -> None:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, PHONE)
        contact.language = "fr"
        assert languages.notice(s, contact, text, SYSTEM) == "fr"


def test_a_chosen_language_is_kept_whatever_they_write(db_url: str) -> None:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, PHONE)
        languages.choose(s, contact, "en", SYSTEM)
        said = "Wir möchten im Oktober zum Everest Base Camp, sind zu zweit"
        assert languages.notice(s, contact, said, SYSTEM) == "en"
    with transaction() as s:
        actions = list(s.scalars(select(TimelineEvent.action).order_by(TimelineEvent.id)))
    assert actions.count("tms.contact.language_chosen") == 1
    assert "tms.contact.language_detected" not in actions


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Buongiorno, vorrei prenotare il trekking al campo base dell'Everest", "it"),
        ("Olá, gostaríamos de fazer o circuito do Annapurna em outubro", "pt"),
        ("こんにちは、エベレストのトレッキングについて教えてください", "ja"),
    ],
)
def test_a_language_not_spoken_is_recognised(text: str, code: str) -> None:
    assert languages.foreign_language(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "annapurna ka kitna price hai?",
        "namaste ji, EBC trek october me hai kya",
        "pls cancel EBC-2503123, my father is sick",
        "Wir möchten im Oktober zum Everest Base Camp",
        "grazie",
    ],
)
def test_english_spoken_languages_and_mixed_messages_are_not_foreign(text: str) -> None:
    assert languages.foreign_language(text) is None
