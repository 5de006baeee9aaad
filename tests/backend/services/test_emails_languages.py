"""The e-mails in their reader's language, on PostgreSQL: a Spanish customer's booking
confirmation is Spanish (subject, body, dates, `<html lang>`), an English one reads as it
always has, and a guide's trip details stay English even when the turn that caused them was
spoken in German."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backend import i18n
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole
from backend.models import OutboundEmail
from backend.payments.provider import payment_event
from backend.services import assignments, bookings, catalog, contacts, payments, staff, trips
from tests.conftest import load_demo_world


@pytest.fixture
def world(pg_db_url, story_clock):
    load_demo_world(pg_db_url)
    return pg_db_url


def _confirmed(db: str, language: str | None, *, name: str | None = "Lucía Fernández") -> None:
    """A customer holds 2 seats on EBC and pays the deposit (as the payment webhook does)."""
    with transaction(db) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        contact = contacts.get_or_create_contact(s, "+34612345678", name=name)
        contact.email = "lucia@example.com"
        contact.language = language
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=2, actor=SYSTEM
        )
        reference, deposit = booking.reference, booking.deposit_minor
    with transaction(db) as s:
        payments.apply_provider_event(
            s,
            provider="local",
            event=payment_event(reference, deposit, "USD", "DEPOSIT", event_id="evt_es_1"),
            actor=SYSTEM,
        )


def _emails(db: str) -> list[OutboundEmail]:
    with transaction(db) as s:
        rows = list(s.scalars(select(OutboundEmail).order_by(OutboundEmail.id)))
        for row in rows:
            s.expunge(row)
        return rows


def test_a_spanish_customer_gets_the_confirmation_in_spanish(world):
    _confirmed(world, "es")
    [mail] = _emails(world)
    assert mail.subject.startswith("Reserva confirmada: Everest Base Camp Trek, ")
    assert re.search(r"\d+–\d+ de marzo de \d{4} \(EBC-\d+\)$", mail.subject), mail.subject
    text = mail.body_text
    for spanish in (
        "Hola, Lucía:",
        "Su reserva está confirmada.",
        "Fechas:",
        "Pagado:    $1,368",
        "Saldo:     $3,192, vence el ",
        "Pagar el saldo: ",
        "Itinerario",
        "Día 8:",
        "a las 06:00",
        "Escríbanos por WhatsApp cuando quiera",
    ):
        assert spanish in text, spanish
    for english in ("Hello", "Your booking", "Itinerary", "Day 8", "due ", " AM"):
        assert english not in text, english
    assert mail.body_html is not None
    assert '<html lang="es">' in mail.body_html and "<strong>confirmada</strong>" in mail.body_html


def test_an_english_customer_gets_the_confirmation_as_before(world):
    _confirmed(world, None, name=None)
    [mail] = _emails(world)
    assert mail.subject.startswith("Booking confirmed: Everest Base Camp Trek, March ")
    text = mail.body_text
    assert text.startswith("Hello there,\n\nYour booking is confirmed.")
    assert "Paid:      $1,368\n" in text and "Balance:   $3,192, due Feb " in text
    assert re.search(r"Meeting:   .+, March \d+ at \d+:\d\d [AP]M\n", text)
    assert "\nItinerary\n  Day 1:" in text
    assert mail.body_html is not None and '<html lang="en">' in mail.body_html


def test_a_guides_trip_details_stay_english_whatever_the_turn_spoke(world):
    with transaction(world) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff.by_phone(s, "+9779801000003")
        offer = assignments.assign_staff(s, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM)
        with i18n.speaking("de"):  # the guide answered in German
            assignments.respond_to_assignment(s, offer, True, SYSTEM)
    [mail] = _emails(world)
    assert mail.purpose == "assignment_details"
    assert mail.subject.startswith("Trip details: EBC March ")
    assert mail.body_text.startswith("Hello Rajesh,") and "Itinerary" in mail.body_text
    assert "Questions? Reply on WhatsApp any time" in (mail.body_html or "")
    assert '<html lang="en">' in (mail.body_html or "") and "März" not in mail.body_text


def test_a_german_confirmation_keeps_its_columns_whatever_the_labels_length(world):
    _confirmed(world, "de")
    [mail] = _emails(world)
    assert mail.subject.startswith("Buchung bestätigt: Everest Base Camp Trek, 15.–28. März ")
    lines = mail.body_text.splitlines()
    rows = [
        line for line in lines if re.match(r"^(Buchung|Trek|Reisedaten|Gesamtpreis|Bezahlt):", line)
    ]
    assert len(rows) == 5
    # Every value starts in the same column, one space at least after the longest label.
    starts = {len(re.match(r"^\S+:\s+", row).group(0)) for row in rows}  # type: ignore[union-attr]
    assert starts == {len("Gesamtpreis: ")}
    assert "Treffpunkt:  Kathmandu Airport, 15. März um 06:00 Uhr" in lines
