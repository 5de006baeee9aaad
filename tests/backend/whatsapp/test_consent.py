"""Consent: STOP stops what can wait, START resumes it; essential messages still go out, on
every path (here: the outbox every sender uses, and STOP/START over a signed webhook)."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import OutboundMessage, TimelineEvent
from backend.services import consent, contacts, notifications

CUSTOMER = "+61499777001"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        (" Stop! ", "stop"),
        ("unsubscribe", "stop"),
        ("START", "start"),
        ("start.", "start"),
        ("stop the trek please", None),
        ("don't stop", None),
        ("", None),
        (None, None),
    ],
)
def test_only_the_consent_words_alone_are_commands(text, command):
    assert consent.command_of(text) == command


def test_a_customer_who_said_stop_gets_only_what_is_essential(session):
    contact = contacts.get_or_create_contact(session, CUSTOMER, name="Ola")
    consent.opt_out(session, contact, SYSTEM)
    assert consent.opt_out(session, contact, SYSTEM) is False  # a second STOP is not news
    withheld = notifications.to_contact(
        session, contact, "How was your trek?", purpose="feedback_request"
    )
    kept = notifications.to_contact(
        session, contact, "Your trip is delayed by 2 hours", purpose="customer_update"
    )
    assert withheld == [] and len(kept) == 1
    actions = session.scalars(
        select(TimelineEvent.action).where(TimelineEvent.object_id == contact.id)
    ).all()
    assert "tms.contact.message_withheld" in actions
    consent.opt_in(session, contact, SYSTEM)
    assert (
        len(notifications.to_contact(session, contact, "Rate us", purpose="feedback_request")) == 1
    )


def test_stop_holds_campaigns_back_whatever_the_marketing_category_says(session):
    """A contact merged from two (one said STOP, the other yes to news) keeps STOP's word."""
    contact = contacts.get_or_create_contact(session, CUSTOMER, name="Ola")
    consent.opt_out(session, contact, SYSTEM)
    consent.opt_in_marketing(session, contact, SYSTEM)
    assert consent.withheld_because(contact, "campaign") == "the customer wrote STOP"
    consent.opt_in(session, contact, SYSTEM)
    assert consent.allows(contact, "campaign")


def _to_customer(console_stack, since: int) -> list[str]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{console_stack.fake_url}/_fake/messages", params={"to": CUSTOMER, "since": since}
        ).json()["messages"]
        if found:
            return [m["text"] for m in found]
        time.sleep(0.1)
    raise AssertionError("no reply")


def test_stop_and_start_over_whatsapp(console, pg_db_url):
    since = console.total()
    httpx.post(
        f"{console.fake_url}/_fake/inbound", json={"from": CUSTOMER, "text": "STOP", "name": "Ola"}
    ).raise_for_status()
    (reply,) = _to_customer(console, since)
    assert reply.startswith("You're unsubscribed") and "START" in reply
    since = console.total()
    with transaction(pg_db_url) as s:
        contact = contacts.find_contact(s, CUSTOMER)
        assert contact.opted_out_at is not None
        assert notifications.to_contact(s, contact, "Rate us", purpose="feedback_request") == []
        notifications.to_contact(s, contact, "Road closed: 1 h delay", purpose="customer_update")
    # The safety notice reaches the phone; the survey never does.
    assert _to_customer(console, since) == ["Road closed: 1 h delay"]
    since = console.total()
    httpx.post(
        f"{console.fake_url}/_fake/inbound", json={"from": CUSTOMER, "text": "start", "name": "Ola"}
    ).raise_for_status()
    assert _to_customer(console, since)[0].startswith("Welcome back!")
    deadline = time.monotonic() + 20
    while True:
        with transaction(pg_db_url) as s:
            if contacts.find_contact(s, CUSTOMER).opted_out_at is None:
                break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    with transaction(pg_db_url) as s:
        sent = s.scalars(
            select(OutboundMessage.purpose).where(OutboundMessage.recipient_phone == CUSTOMER)
        ).all()
        assert "feedback_request" not in sent and "customer_update" in sent
