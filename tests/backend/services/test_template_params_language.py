"""A template's parameters in the language of the template chosen (issue 26): a German or French
customer gets the template Meta approved in their language, and what the product writes into it
(a due date, a number of days, a trek and its date) is written in that language too, dates
formatted per locale by Babel; while Meta has approved only the English template, the English
words go in it. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, i18n, texts
from backend.domain.actor import SYSTEM
from backend.domain.whatsapp_messages import Template
from backend.models import Booking, OutboundMessage
from backend.services import bookings, message_templates, reminders
from backend.services.message_templates import Listed
from backend.whatsapp import outbox_rules
from tests import factories


def _booking(session: Session, language: str) -> Booking:
    product = factories.ebc(session)
    departure = factories.departure(
        session, product, start=clock.local_today() + timedelta(days=40)
    )
    booking = factories.confirmed_booking(session, departure, 2)
    booking.contact.language = language
    session.flush()
    return booking


def _approve(session: Session, name: str, params: int, *languages: str) -> None:
    message_templates.sync(
        session,
        [
            Listed(name, code, "UTILITY", "APPROVED", "GREEN", f"{code} {{{{1}}}}", params)
            for code in languages
        ],
    )


def _wire(session: Session, purpose: str) -> Template:
    """What the sender puts on the wire for the customer's message (their window is closed)."""
    row = session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == purpose)).one()
    message = outbox_rules.wire_message(session, row, window_open=False)
    assert isinstance(message, Template)
    return message


def test_a_german_customer_gets_the_due_date_in_german(session, frozen_clock):
    booking = _booking(session, "de")
    _approve(session, "balance_reminder", 4, "en", "de")
    reminders.send_balance_reminder(session, booking, 7, SYSTEM)
    sent = _wire(session, "balance_reminder")
    assert sent.language == "de"
    reference, _balance, due, link = sent.parameters
    assert reference == booking.reference and link.startswith("http")
    assert format_date(booking.balance_due_date, "MMM", locale="de") in due
    with i18n.speaking("de"):
        assert due == texts.long_date(booking.balance_due_date)
    with i18n.speaking("en"):
        assert due != texts.long_date(booking.balance_due_date)


def test_only_the_english_template_approved_gets_the_english_words(session, frozen_clock):
    booking = _booking(session, "de")
    _approve(session, "balance_reminder", 4, "en")  # German not approved (yet)
    reminders.send_balance_reminder(session, booking, 7, SYSTEM)
    sent = _wire(session, "balance_reminder")
    assert sent.language == "en"
    with i18n.speaking("en"):
        assert sent.parameters[2] == texts.long_date(booking.balance_due_date)
    with i18n.speaking("de"):
        assert sent.parameters[2] != texts.long_date(booking.balance_due_date)


@pytest.mark.parametrize(("language", "days_word"), [("fr", "jours"), ("de", "Tage")])
def test_days_to_go_and_the_date_in_the_customers_language(
    session, frozen_clock, language, days_word
):
    booking = _booking(session, language)
    _approve(session, "pre_departure_checklist", 5, "en", language)
    reminders.send_pre_departure(session, booking, SYSTEM)
    sent = _wire(session, "pre_departure")
    assert sent.language == language
    _trek, days, _balance, due, _link = sent.parameters
    assert days_word in days and "days" not in days
    assert format_date(booking.balance_due_date, "MMM", locale=language) in due


def test_a_french_customer_whose_hold_expired_reads_the_trek_date_in_french(session, frozen_clock):
    product = factories.ebc(session)
    departure = factories.departure(
        session, product, start=clock.local_today() + timedelta(days=40)
    )
    booking = bookings.hold_new_booking(
        session,
        contact=factories.contact(session),
        departure_id=departure.id,
        party_size=1,
        actor=SYSTEM,
    )
    booking.contact.language = "fr"
    _approve(session, "hold_expired", 2, "en", "fr")
    frozen_clock.advance(hours=25)
    assert bookings.expire_hold(session, booking, SYSTEM)
    sent = _wire(session, "hold_expired")
    assert sent.language == "fr"
    assert sent.parameters[0] == booking.reference
    with i18n.speaking("fr"):
        assert sent.parameters[1] == f"EBC ({texts.day_month(departure.start_date)})"
    assert format_date(departure.start_date, "MMMM", locale="fr") in sent.parameters[1]
