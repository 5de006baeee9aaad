"""Templates as Meta holds them, over HTTP: `tms templates sync` reads the fake Graph API's
message_templates, the backend service applies its template webhooks, and the sender obeys
what they say (PostgreSQL, the fake and the backend as separate processes)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from backend.config import Settings
from backend.db import transaction
from backend.domain.enums import OutboxStatus, Role
from backend.models import MessageTemplate, OutboundMessage, TimelineEvent
from backend.services import contacts, message_templates, outbox
from backend.whatsapp import template_sync
from tests import factories
from tests.backend.whatsapp.test_sender import open_window, received, run_sender, wait_for

CUSTOMER = "+4915112345678"
GERMAN_UPDATE = "Neuigkeiten zu Ihrer Reise:\n\n{{1}}\n\n(von Ihrem Reiseveranstalter)"


def change(fake: str, **template) -> dict:
    answer = httpx.post(f"{fake}/_fake/templates", json=template)
    answer.raise_for_status()
    return answer.json()


def send_template(fake: str, name: str, language: str, params: list[str]) -> httpx.Response:
    """A template message straight to the fake, as our client would send it."""
    body = {
        "messaging_product": "whatsapp",
        "to": CUSTOMER.lstrip("+"),
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": p} for p in params]}
            ],
        },
    }
    return httpx.post(
        f"{fake}/v23.0/{Settings().whatsapp_phone_number_id}/messages",
        json=body,
        headers={"Authorization": f"Bearer {Settings().whatsapp_access_token}"},
    )


def record(name: str, language: str = "en") -> MessageTemplate | None:
    with transaction() as s:
        return s.scalar(
            select(MessageTemplate).where(
                MessageTemplate.name == name, MessageTemplate.language == language
            )
        )


def customer(language: str | None = None) -> None:
    with transaction() as s:
        contacts.get_or_create_contact(s, CUSTOMER).language = language


def queue_update(text: str) -> None:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, CUSTOMER)
        outbox.enqueue_text(
            s, to_phone=CUSTOMER, contact_id=contact.id, body=text, purpose="customer_update"
        )


def test_sync_reads_every_template_of_the_account_page_by_page(fake):
    change(fake, name="customer_update", language="de", body=GERMAN_UPDATE, notify=False)
    change(fake, name="customer_update", language="de", status="APPROVED", notify=False)
    report = asyncio.run(template_sync.sync(Settings()))
    assert "customer_update (de)" in report.added and "trip_started (en)" in report.added
    german = record("customer_update", "de")
    assert (german.status, german.category, german.params) == ("APPROVED", "UTILITY", 1)
    assert record("staff_sign_in_code").category == "AUTHENTICATION"
    # The fake serves 25 a page by default; the client asks for 100 and follows `next`.
    listing = httpx.get(
        f"{fake}/v23.0/WABA_FAKE/message_templates",
        params={"limit": 5},
        headers={"Authorization": f"Bearer {Settings().whatsapp_access_token}"},
    ).json()
    assert len(listing["data"]) == 5 and "after" in listing["paging"]["cursors"]
    assert listing["paging"]["next"].startswith(fake)
    again = asyncio.run(template_sync.sync(Settings()))
    assert again.added == [] and again.changed == [] and again.unchanged == len(report.added)


def test_the_fake_sends_only_an_approved_template_in_a_language_that_exists(fake):
    assert send_template(fake, "customer_update", "en", ["hi"]).status_code == 200
    refused = send_template(fake, "customer_update", "de", ["hi"])
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 132001
    change(fake, name="customer_update", language="de", body=GERMAN_UPDATE, status="PENDING")
    assert send_template(fake, "customer_update", "de", ["hi"]).json()["error"]["code"] == 132001
    change(fake, name="customer_update", language="de", status="APPROVED")
    assert send_template(fake, "customer_update", "de", ["hi"]).status_code == 200
    change(fake, name="customer_update", language="en", status="PAUSED")
    assert send_template(fake, "customer_update", "en", ["hi"]).json()["error"]["code"] == 132015
    change(fake, name="customer_update", language="en", status="DISABLED")
    assert send_template(fake, "customer_update", "en", ["hi"]).json()["error"]["code"] == 132016


def test_a_paused_template_is_not_sent_outside_the_window_and_staff_hear_what(fake):
    with transaction() as s:
        olga = factories.staff(s, "Olga", Role.OPS).id
    customer()
    answer = change(fake, name="customer_update", language="en", status="PAUSED")
    assert answer["webhooks"] == [200]  # the backend took Meta's status webhook
    paused = record("customer_update")
    assert paused.status == "PAUSED"
    queue_update("The road to Lukla is closed: your flight moves to Thursday.")
    run_sender()
    assert received(fake) == []  # nothing went to the customer
    with transaction() as s:
        rows = list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))
        not_sent = next(r for r in rows if r.recipient_phone == CUSTOMER)
        assert not_sent.status == OutboxStatus.FAILED
        alerts = [r for r in rows if r.staff_id == olga]
        # Operations heard that Meta paused it, then what could not be sent to whom.
        assert any("paused" in (a.body or "") for a in alerts)
        told = next(a for a in alerts if "Not sent to" in (a.body or ""))
        assert CUSTOMER in told.body and "flight moves to Thursday" in told.body
        events = s.scalars(
            select(TimelineEvent.action).where(TimelineEvent.action.like("tms.template.%"))
        ).all()
        assert "tms.template.status.paused" in events and "tms.template.not_sent" in events


def test_inside_the_window_a_paused_templates_text_goes_as_a_normal_message(fake):
    customer()
    change(fake, name="customer_update", language="en", status="PAUSED")
    wait_for(lambda: (record("customer_update") or MessageTemplate()).status == "PAUSED")
    open_window(fake, CUSTOMER)
    queue_update("Your permits are ready.")
    run_sender()
    (message,) = received(fake, CUSTOMER)
    assert (message["type"], message["text"]) == ("text", "Your permits are ready.")


def test_meta_refusing_a_paused_template_teaches_the_record(fake):
    """Paused at Meta before any webhook reached us: Meta's 132015 says so."""
    with transaction() as s:
        factories.staff(s, "Olga", Role.OPS)
    customer()
    asyncio.run(template_sync.sync(Settings()))  # the records say APPROVED
    change(fake, name="customer_update", language="en", status="PAUSED", notify=False)
    queue_update("Your guide is Rajesh.")
    run_sender()
    assert received(fake) == []
    assert record("customer_update").status == "PAUSED"
    with transaction() as s:
        row = s.scalar(select(OutboundMessage).where(OutboundMessage.recipient_phone == CUSTOMER))
        assert row.status == OutboxStatus.FAILED and row.error_code == 132015


@pytest.mark.parametrize(("german", "expected"), [("APPROVED", "de"), ("PENDING", "en")])
def test_a_german_customer_gets_the_german_template_when_approved(fake, german, expected):
    customer("de")
    change(fake, name="customer_update", language="de", body=GERMAN_UPDATE, status=german)
    asyncio.run(template_sync.sync(Settings()))
    queue_update("Ihr Trek beginnt am Montag.")
    run_sender()
    (message,) = received(fake, CUSTOMER)
    assert message["template"] == "customer_update"
    assert message["template_language"] == expected
    if expected == "de":
        assert message["rendered"].startswith("Neuigkeiten zu Ihrer Reise")


def test_a_utility_template_reclassified_as_marketing_is_reported(fake):
    with transaction() as s:
        olga = factories.staff(s, "Olga", Role.OPS).id
        ada = factories.staff(s, "Ada", Role.ADMIN).id
    asyncio.run(template_sync.sync(Settings()))
    change(fake, name="hold_expired", language="en", category="MARKETING")
    reclassified = wait_for(
        lambda: (r := record("hold_expired")) is not None and r.category == "MARKETING" and r
    )
    assert reclassified.previous_category == "UTILITY"
    with transaction() as s:
        told = {
            r.staff_id
            for r in s.scalars(select(OutboundMessage).where(OutboundMessage.staff_id.is_not(None)))
            if "reclassified it from utility to marketing" in (r.body or "")
        }
        assert told == {olga, ada}
        event = s.scalar(
            select(TimelineEvent).where(TimelineEvent.action == "tms.template.reclassified")
        )
        assert event.content["previous"] == "UTILITY" and event.content["category"] == "MARKETING"


def test_a_quality_change_is_kept_and_on_the_timeline(fake):
    asyncio.run(template_sync.sync(Settings()))
    change(fake, name="trip_started", language="en", quality="YELLOW")
    wait_for(lambda: (record("trip_started") or MessageTemplate()).quality == "YELLOW")
    with transaction() as s:
        assert s.scalar(
            select(TimelineEvent).where(TimelineEvent.action == "tms.template.quality_changed")
        )
    assert {"APPROVED"} == message_templates.SENDABLE  # a yellow template still goes


def test_tms_templates_sync_and_list(fake, capsys):
    from backend import cli

    change(fake, name="trip_started", language="en", status="PAUSED", notify=False)
    assert cli.main(["templates", "sync"]) == 0
    assert "trip_started (en)" in capsys.readouterr().out
    assert cli.main(["templates", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "trip_started\ten\tUTILITY\tPAUSED\tUNKNOWN" in listed
    assert "staff_sign_in_code\ten\tAUTHENTICATION\tAPPROVED\tUNKNOWN" in listed
