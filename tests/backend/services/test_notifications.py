"""A notice to a customer is written in their language, whoever sends it (a rep's click, the
scheduler); a rep's own words go as written, and a template's parameters stay English."""

from __future__ import annotations

from sqlalchemy import select

from backend import texts
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus
from backend.models import Booking, OutboundMessage
from backend.services import bookings, notifications
from tests.conftest import load_demo_world


def _a_confirmed_booking(session) -> Booking:
    booking = session.scalars(
        select(Booking).where(Booking.status == BookingStatus.CONFIRMED).order_by(Booking.id)
    ).first()
    assert booking is not None
    return booking


def _last_to(session, booking: Booking) -> OutboundMessage:
    row = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.contact_id == booking.contact_id)
        .order_by(OutboundMessage.id.desc())
    ).first()
    assert row is not None
    return row


def test_a_staff_cancellation_is_told_in_the_customers_language(db_url, story_clock):
    load_demo_world(db_url)
    with transaction() as s:
        booking = _a_confirmed_booking(s)
        booking.contact.language = "de"
        bookings.cancel_by_staff(s, booking, SYSTEM, reason="test", notify_customer=True)
        sent = [
            row.body or ""
            for row in s.scalars(
                select(OutboundMessage).where(OutboundMessage.contact_id == booking.contact_id)
            )
        ]
    assert any(f"Die Buchung {booking.reference} ist storniert" in body for body in sent)
    assert not any("We're sorry to see you go" in body for body in sent)


def test_an_english_customer_reads_english(db_url, story_clock):
    load_demo_world(db_url)
    with transaction() as s:
        booking = _a_confirmed_booking(s)
        booking.contact.language = None
        bookings.cancel_by_staff(s, booking, SYSTEM, reason="test", notify_customer=True)
        bodies = [
            row.body or ""
            for row in s.scalars(
                select(OutboundMessage).where(OutboundMessage.contact_id == booking.contact_id)
            )
        ]
    assert any(f"Booking {booking.reference} is cancelled" in body for body in bodies)


def test_a_reps_own_words_go_as_written(db_url, story_clock):
    load_demo_world(db_url)
    with transaction() as s:
        booking = _a_confirmed_booking(s)
        booking.contact.language = "fr"
        notifications.to_contact(s, booking.contact, "Prices", purpose="staff_message")
        assert _last_to(s, booking).body == "Prices"


def test_each_guest_of_a_departure_reads_their_own_language(db_url, story_clock):
    load_demo_world(db_url)
    with transaction() as s:
        confirmed = s.scalars(
            select(Booking).where(Booking.status == BookingStatus.CONFIRMED).order_by(Booking.id)
        ).all()
        by_contact = {b.contact_id: b for b in confirmed}
        german, english = list(by_contact.values())[:2]
        german.contact.language, english.contact.language = "de", "en"
        notifications.to_guests(
            s, [german, english], lambda booking: texts.cancelled(booking), purpose="test"
        )
        assert "ist storniert" in (_last_to(s, german).body or "")
        assert "is cancelled" in (_last_to(s, english).body or "")
