"""E-mail end to end on PostgreSQL: queued in the transaction that causes it, sent over real
SMTP to the local server (aiosmtpd), once, with the pre-trek guide attached; retried while
the server is down; failed for good (and operations told) when the server refuses it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock, links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, EmailStatus
from backend.mail.sender import INTERRUPTED, MailSender
from backend.models import Booking, OutboundEmail, OutboundMessage, TimelineEvent
from backend.payments.provider import payment_event
from backend.services import (
    assignments,
    bookings,
    catalog,
    contacts,
    emails,
    mail_outbox,
    payments,
    staff,
    trips,
)
from devkit import local_smtp
from tests.conftest import load_demo_world
from tests.processes import free_port


@pytest.fixture
def world(pg_db_url, story_clock):
    load_demo_world(pg_db_url)
    return pg_db_url


@pytest.fixture
def smtp_port(monkeypatch) -> int:
    port = free_port()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    return port


def _hold_and_pay(db: str, *, email: str | None = "anna@example.com") -> str:
    """A customer holds 3 seats on EBC and pays the deposit through the payment webhook's
    service (as `POST /webhooks/payments` does). The booking's key."""
    with transaction(db) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        contact = contacts.get_or_create_contact(s, "+61499700001", name="Anna Berg")
        contact.email = email
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=3, actor=SYSTEM
        )
        key, reference, deposit = booking.ref_key, booking.reference, booking.deposit_minor
    _pay(db, reference, deposit, event_id="evt_deposit_1")
    return key


def _pay(db: str, reference: str, amount: int, *, event_id: str) -> None:
    with transaction(db) as s:
        payments.apply_provider_event(
            s,
            provider="local",
            event=payment_event(reference, amount, "USD", "DEPOSIT", event_id=event_id),
            actor=SYSTEM,
        )


def _emails(db: str) -> list[OutboundEmail]:
    with transaction(db) as s:
        rows = list(s.scalars(select(OutboundEmail).order_by(OutboundEmail.id)))
        for row in rows:
            s.expunge(row)
        return rows


def test_the_confirmation_arrives_once_with_its_pdf_even_when_the_server_was_down_at_first(
    world, smtp_port, tmp_path, story_clock
):
    key = _hold_and_pay(world)
    [queued] = _emails(world)
    assert (queued.status, queued.recipient, queued.purpose) == (
        "queued",
        "anna@example.com",
        "booking_confirmation",
    )
    sender = MailSender()
    # The SMTP server is down: the attempt fails, the e-mail waits with a back-off.
    assert asyncio.run(sender.run_once()) == 1
    [waiting] = _emails(world)
    assert waiting.status == EmailStatus.QUEUED and waiting.attempts == 1
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > clock.now()
    assert "Connect" in (waiting.last_error or "") or "refused" in (waiting.last_error or "")
    assert asyncio.run(sender.run_once()) == 0  # not due yet
    # The server comes up; once the back-off has passed the e-mail goes out, once.
    server = local_smtp.start(smtp_port, tmp_path)
    try:
        story_clock.advance(minutes=1)
        assert asyncio.run(sender.run_once()) == 1
        assert asyncio.run(sender.run_once()) == 0
        story_clock.advance(hours=2)
        assert asyncio.run(sender.run_once()) == 0
    finally:
        server.stop()
    [mail] = local_smtp.captured(tmp_path)
    [sent] = _emails(world)
    assert sent.status == EmailStatus.SENT and sent.attempts == 2
    assert mail.to == "anna@example.com" and mail.message_id == sent.message_id
    assert "Booking confirmed: Everest Base Camp Trek" in mail.subject
    text = mail.text
    for fact in ("Paid:      $2,052", "Balance:   $4,788, due Feb 28, 2025", "Day 8:", "Kathmandu"):
        assert fact in text.replace(str(story_clock.calendar.season), "2025"), fact
    # The balance's pay link is a signed link for this booking's balance.
    pay_url = next(line for line in text.splitlines() if "/pay/" in line).split()[-1]
    claims = links.read("pay", pay_url.rsplit("/", 1)[1])
    assert (claims.reference_key, claims.kind) == (key, "balance")
    [(filename, content_type, size)] = mail.attachments
    assert filename.startswith("pre-trek-guide-ebc-") and content_type == "application/pdf"
    assert mail.attachment(filename).startswith(b"%PDF") and size > 2000
    with transaction(world) as s:
        actions = [e.action for e in s.scalars(select(TimelineEvent).order_by(TimelineEvent.id))]
    assert actions.count("tms.email.queued") == 1 and actions.count("tms.email.sent") == 1


def test_a_replayed_payment_queues_no_second_confirmation(world):
    key = _hold_and_pay(world)
    with transaction(world) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        reference, deposit = booking.reference, booking.deposit_minor
    _pay(world, reference, deposit, event_id="evt_deposit_1")  # the same event again
    with transaction(world) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        assert emails.booking_confirmation(s, booking, SYSTEM) is None  # asked again: no
    assert len(_emails(world)) == 1


def test_without_an_address_nothing_is_queued_and_the_chat_offers_the_email(world):
    _hold_and_pay(world, email=None)
    assert _emails(world) == []
    with transaction(world) as s:
        bodies = [m.body or "" for m in s.scalars(select(OutboundMessage))]
    confirmed = next(b for b in bodies if "Booking Confirmed!" in b)
    assert "Reply with your e-mail address" in confirmed
    assert "Confirmation email sent" not in confirmed


def test_a_refused_message_fails_for_good_and_operations_hear_once(
    world, smtp_port, tmp_path, monkeypatch
):
    class Refusing(local_smtp.CaptureHandler):
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 mailbox unavailable"

    from aiosmtpd.controller import Controller

    _hold_and_pay(world)
    server = Controller(Refusing(tmp_path), hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        asyncio.run(MailSender().run_once())
    finally:
        server.stop()
    [row] = _emails(world)
    assert row.status == EmailStatus.FAILED and "550" in (row.last_error or "")
    with transaction(world) as s:
        alerts = [
            m.body
            for m in s.scalars(
                select(OutboundMessage).where(OutboundMessage.purpose == "ops_alert")
            )
        ]
        assert sum("E-mails are not going out" in (a or "") for a in alerts) == 1
        # Staff fix the address and send it again.
        assert mail_outbox.retry_failed(s, SYSTEM, ids=[row.id]) == [row.id]
    assert _emails(world)[0].status == EmailStatus.QUEUED


def test_a_sender_that_died_mid_send_never_sends_twice_on_its_own(world, smtp_port, tmp_path):
    _hold_and_pay(world)
    with transaction(world) as s:
        row = s.scalar(select(OutboundEmail))
        row.status = EmailStatus.SENDING  # a worker took it, then died before recording
        row.lease_token = "dead-worker"
        row.next_attempt_at = clock.now() - timedelta(seconds=1)
    server = local_smtp.start(smtp_port, tmp_path)
    try:
        assert asyncio.run(MailSender().run_once()) == 0
    finally:
        server.stop()
    [row] = _emails(world)
    assert row.status == EmailStatus.FAILED and row.last_error == INTERRUPTED
    assert local_smtp.captured(tmp_path) == []


def test_a_guide_who_accepts_gets_the_trip_details_by_email(world, smtp_port, tmp_path):
    with transaction(world) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff.by_phone(s, "+9779801000003")
        offer = assignments.assign_staff(s, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM)
        assignments.respond_to_assignment(s, offer, True, SYSTEM)
        trip_reference = trip.reference
    server = local_smtp.start(smtp_port, tmp_path)
    try:
        assert asyncio.run(MailSender().run_once()) == 1
    finally:
        server.stop()
    [mail] = local_smtp.captured(tmp_path)
    assert mail.to == "rajesh@adventure-treks.example"
    assert f"CHECKIN {trip_reference}" in mail.text and "Lead Guide" in mail.text
    assert "Group:      9 guests" in mail.text and "$800" in mail.text
    assert mail.attachments and mail.attachments[0][1] == "application/pdf"
