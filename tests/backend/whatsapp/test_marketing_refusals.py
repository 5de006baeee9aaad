"""Meta's marketing refusals (issue 26): 131050 (the user stopped marketing from us) and 131049
(Meta's per-user marketing limit) are not retried as a network error would be; marketing to
that user is suppressed (131050, until they opt in again) or paused (131049, 24 hours, then
longer); utility messages about their booking still go; all of it on their timeline."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from backend.config import Settings
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import OutboxStatus
from backend.models import OutboundMessage, TimelineEvent
from backend.services import consent, contacts, outbox
from backend.whatsapp import errors, inbox, statuses
from backend.whatsapp.sender import OutboxSender
from tests.backend.whatsapp import payloads as p
from tests.backend.whatsapp.test_sender import received, rows, run_sender, wait_for

CUSTOMER = "+61412300077"


class NoClient:
    """The sender's outcomes are recorded here without sending anything."""


def _sender() -> OutboxSender:
    return OutboxSender(NoClient(), Settings())  # type: ignore[arg-type]


def _queue(session, purpose: str, contact) -> list[OutboundMessage]:
    return outbox.enqueue_text(
        session,
        to_phone=contact.phone,
        contact_id=contact.id,
        body=f"a {purpose} message",
        purpose=purpose,
    )


def _actions(session, contact) -> list[str]:
    return list(
        session.scalars(
            select(TimelineEvent.action)
            .where(TimelineEvent.object_id == contact.id)
            .order_by(TimelineEvent.id)
        )
    )


def test_131050_is_not_retried_and_stops_marketing_but_not_utility(session):
    contact = contacts.get_or_create_contact(session, CUSTOMER, name="Ola")
    (row,) = _queue(session, "marketing", contact)
    row.attempts = 1
    _sender()._record_error(session, row, errors.MarketingStopped("stopped", code=131050))
    assert (row.status, row.error_code, row.next_attempt_at) == (OutboxStatus.FAILED, 131050, None)
    assert consent.categories(session, contact)["marketing"] == consent.OPTED_OUT
    assert _queue(session, "marketing", contact) == []  # suppressed, and said so
    assert len(_queue(session, "balance_reminder", contact)) == 1  # their booking's still go
    assert len(_queue(session, "customer_update", contact)) == 1
    actions = _actions(session, contact)
    assert "tms.contact.marketing_stopped" in actions
    withheld = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.contact.message_withheld")
    ).one()
    assert withheld.content["reason"] == "the customer stopped marketing messages"
    # Until they opt in again (agreeing to hear about future departures).
    assert consent.opt_in_marketing(session, contact, SYSTEM) is True
    assert len(_queue(session, "marketing", contact)) == 1
    assert _actions(session, contact)[-1] == "tms.contact.marketing_opted_in"


def test_131049_pauses_marketing_for_a_while_not_for_good(session, frozen_clock):
    contact = contacts.get_or_create_contact(session, CUSTOMER)
    (row,) = _queue(session, "marketing", contact)
    row.attempts = 1
    _sender()._record_error(session, row, errors.MarketingLimitHit("limit", code=131049))
    # Not retried as a network error would be (that one is scheduled again, with a backoff).
    assert (row.status, row.next_attempt_at) == (OutboxStatus.FAILED, None)
    assert _queue(session, "marketing", contact) == []
    assert len(_queue(session, "pre_departure", contact)) == 1
    assert consent.categories(session, contact)["marketing"] == consent.PAUSED
    frozen_clock.advance(hours=25)
    assert len(_queue(session, "marketing", contact)) == 1  # the pause is over
    # Meta refuses again: a longer pause (48 hours).
    (again,) = session.scalars(
        select(OutboundMessage).where(OutboundMessage.status == OutboxStatus.QUEUED)
    ).all()[-1:]
    _sender()._record_error(session, again, errors.MarketingLimitHit("limit", code=131049))
    frozen_clock.advance(hours=25)
    assert _queue(session, "marketing", contact) == []
    frozen_clock.advance(hours=24)
    assert len(_queue(session, "marketing", contact)) == 1
    paused = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.contact.marketing_paused")
    ).all()
    assert len(paused) == 2 and all(e.content["code"] == 131049 for e in paused)


def test_a_network_error_is_still_retried(session):
    contact = contacts.get_or_create_contact(session, CUSTOMER)
    (row,) = _queue(session, "marketing", contact)
    row.attempts = 1
    _sender()._record_error(session, row, errors.TransportError("connection refused"))
    assert row.status == OutboxStatus.QUEUED and row.next_attempt_at is not None
    assert consent.categories(session, contact)["marketing"] == "unknown"


def test_a_failed_status_with_131050_suppresses_marketing(session):
    contact = contacts.get_or_create_contact(session, CUSTOMER)
    (row,) = _queue(session, "marketing", contact)
    row.provider_message_id, row.status = "wamid.MK1", OutboxStatus.SENT
    session.flush()
    body = p.webhook(statuses=[p.status("wamid.MK1", "failed", wa_id=CUSTOMER[1:], code=131050)])
    statuses.apply_pending(
        session, inbox.store_webhook(session, body, p.PHONE_NUMBER_ID).new_status_wamids
    )
    assert row.status == OutboxStatus.FAILED and row.error_code == 131050
    assert consent.categories(session, contact)["marketing"] == consent.OPTED_OUT
    assert _queue(session, "marketing", contact) == []


def test_stop_and_start_are_kept_per_category(session):
    contact = contacts.get_or_create_contact(session, CUSTOMER)
    consent.opt_out(session, contact, SYSTEM)
    assert consent.categories(session, contact) == {
        "utility": "opted_out",
        "marketing": "opted_out",
    }
    assert len(_queue(session, "balance_reminder", contact)) == 1  # essential utility goes
    consent.opt_in(session, contact, SYSTEM)
    assert consent.categories(session, contact) == {"utility": "opted_in", "marketing": "opted_in"}


def test_over_the_fake_graph_api(fake):
    """Meta's answers as the fake gives them: 131050 at once (not retried, no alert to
    operations), and a marketing template failing later with 131049."""
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, CUSTOMER)
        contact_id = contact.id
    httpx.post(f"{fake}/_fake/config", json={"fail_next": [131050]}).raise_for_status()
    with transaction() as s:
        outbox.enqueue_text(
            s, to_phone=CUSTOMER, contact_id=contact_id, body="New dates!", purpose="marketing"
        )
    run_sender()
    (row,) = rows()
    assert (row.status, row.error_code, row.attempts) == (OutboxStatus.FAILED, 131050, 1)
    with transaction() as s:
        assert consent.categories(s, s.get(type(contact), contact_id))["marketing"] == "opted_out"
        assert not s.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "ops_alert")
        ).all()
        outbox.enqueue_text(
            s,
            to_phone=CUSTOMER,
            contact_id=contact_id,
            body="Balance due",
            purpose="customer_update",
            template_params=["Balance due"],
        )
    run_sender()
    assert [m["type"] for m in received(fake, CUSTOMER)] == ["template"]  # the utility went

    # A template Meta bills as marketing, to a user at Meta's marketing limit: a later failure.
    httpx.post(
        f"{fake}/_fake/config",
        json={
            "template_categories": {"customer_update": "marketing"},
            "marketing_refusals": {CUSTOMER[1:]: 131049},
        },
    ).raise_for_status()
    with transaction() as s:
        consent.opt_in_marketing(s, s.get(type(contact), contact_id), SYSTEM)
        outbox.enqueue_text(
            s,
            to_phone=CUSTOMER,
            contact_id=contact_id,
            body="Offer",
            purpose="customer_update",
            template_params=["Offer"],
        )
    run_sender()
    late = wait_for(lambda: [r for r in rows() if r.error_code == 131049])
    assert late[0].status == OutboxStatus.FAILED
    with transaction() as s:
        assert consent.categories(s, s.get(type(contact), contact_id))["marketing"] == "paused"


def test_retrying_failed_messages_leaves_meta_marketing_refusals_alone(session):
    from backend.whatsapp import sender

    contact = contacts.get_or_create_contact(session, CUSTOMER)
    refused, broken = _queue(session, "marketing", contact) + _queue(
        session, "balance_reminder", contact
    )
    _sender()._record_error(session, refused, errors.MarketingStopped("stopped", code=131050))
    _sender()._fail(broken, 131026, "not on WhatsApp")
    assert sender.retry_failed(session, SYSTEM, everything=True) == [broken.id]
    assert refused.status == OutboxStatus.FAILED
