"""The outbox sender against the fake Graph API over HTTP, with the backend service receiving
the fake's signed status webhooks (PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from backend import clock
from backend.config import Settings
from backend.db import transaction
from backend.domain.enums import OutboxStatus
from backend.models import OutboundMessage
from backend.services import contacts, outbox
from backend.whatsapp import inbox
from backend.whatsapp.client import GraphClient
from backend.whatsapp.sender import OutboxSender

CUSTOMER = "+61412300001"


def run_sender(passes: int = 1, **settings_env: str) -> OutboxSender:
    settings = Settings()
    for key, value in settings_env.items():
        object.__setattr__(settings, key, type(getattr(settings, key))(value))

    async def go() -> OutboxSender:
        client = GraphClient(
            settings.whatsapp_api_base_url,
            settings.whatsapp_phone_number_id,
            settings.whatsapp_access_token,
        )
        sender = OutboxSender(client, settings)
        for _ in range(passes):
            await sender.run_once()
        await client.aclose()
        return sender

    return asyncio.run(go())


def open_window(fake_url: str, phone: str) -> None:
    """The customer writes: the fake starts its window, our side records the arrival."""
    httpx.post(f"{fake_url}/_fake/inbound", json={"from": phone, "text": "hi"}).raise_for_status()
    with transaction() as s:
        for row in inbox.claim(s, 10):
            inbox.record_arrival(s, row)
            inbox.mark_done(row)


def received(fake_url: str, phone: str = CUSTOMER) -> list[dict]:
    return httpx.get(f"{fake_url}/_fake/messages", params={"to": phone}).json()["messages"]


def rows() -> list[OutboundMessage]:
    with transaction() as s:
        return list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def enqueue(
    body: str = "hello",
    purpose: str = "reply",
    params: list[str] | None = None,
    phone: str = CUSTOMER,
):
    with transaction() as s:
        outbox.enqueue_text(s, to_phone=phone, body=body, purpose=purpose, template_params=params)


def test_inside_the_window_text_goes_and_statuses_come_back(fake):
    open_window(fake, CUSTOMER)
    enqueue("Your booking is confirmed")
    run_sender()
    (message,) = received(fake)
    assert (message["type"], message["text"]) == ("text", "Your booking is confirmed")
    row = wait_for(lambda: next((r for r in rows() if r.status == OutboxStatus.READ), None))
    assert row.provider_message_id == message["id"] and row.delivered_at is not None


def test_outside_the_window_the_template_goes(fake):
    enqueue(
        "🎉 SPOT AVAILABLE!",
        purpose="waitlist_offer",
        params=["Annapurna Circuit", "March 20", "$1,800", "2", "https://t.example/book/x"],
    )
    run_sender()
    (message,) = received(fake)
    assert message["type"] == "template" and message["template"] == "waitlist_spot_available"
    assert message["template_params"] == [
        "Annapurna Circuit",
        "March 20",
        "$1,800",
        "2",
        "https://t.example/book/x",
    ]


def test_a_late_131047_falls_back_to_the_template_once(fake):
    httpx.post(f"{fake}/_fake/config", json={"duplicate_statuses": True}).raise_for_status()
    with transaction() as s:  # we believe the window is open; Meta does not
        contacts.touch_inbound(contacts.get_or_create_contact(s, CUSTOMER))
    enqueue(
        "Your trip has started!",
        purpose="trip_started",
        params=["EBC", "Rajesh Kumar", "+9779801000003", "https://tours.example/track/abc"],
    )
    run_sender()
    failed = wait_for(lambda: next((r for r in rows() if r.status == OutboxStatus.FAILED), None))
    assert failed.error_code == 131047
    time.sleep(0.5)  # the duplicate failed status arrives too
    run_sender()
    messages = received(fake)
    assert [m["type"] for m in messages] == ["text", "template"]
    assert messages[1]["template"] == "trip_started"
    assert len([r for r in rows() if r.fallback_of_id == failed.id]) == 1


def test_a_131047_answered_at_once_falls_back_too(fake):
    httpx.post(f"{fake}/_fake/config", json={"window_mode": "sync"}).raise_for_status()
    with transaction() as s:
        contacts.touch_inbound(contacts.get_or_create_contact(s, CUSTOMER))
    enqueue("hello again")
    run_sender(passes=2)
    assert [m["type"] for m in received(fake)] == ["template"]
    assert rows()[0].status == OutboxStatus.FAILED


def test_the_template_sent_for_a_refused_message_keeps_its_place(fake):
    # Meta refuses the first message at once (its window closed before ours did): its template
    # goes before the recipient's next message, not after it.
    httpx.post(f"{fake}/_fake/config", json={"window_mode": "sync"}).raise_for_status()
    with transaction() as s:
        contacts.touch_inbound(contacts.get_or_create_contact(s, CUSTOMER))
    enqueue(
        "Your trip has started!",
        purpose="trip_started",
        params=["EBC", "Rajesh Kumar", "+9779801000003", "https://tours.example/track/abc"],
    )
    enqueue(
        "🎉 SPOT AVAILABLE!",
        purpose="waitlist_offer",
        params=["Annapurna Circuit", "March 20", "$1,800", "2", "https://t.example/book/x"],
    )
    run_sender()  # the first is refused: its template is queued
    with transaction() as s:  # by now the product knows the window is closed
        contacts.find_contact(s, CUSTOMER).last_inbound_at = clock.now() - timedelta(days=2)
    run_sender(passes=3)  # the second goes as its template at once: after the first's
    assert [m["template"] for m in received(fake)] == ["trip_started", "waitlist_spot_available"]


@pytest.mark.parametrize("code", [130429, 131056, 131000])
def test_rate_limits_and_server_errors_are_retried(fake, code):
    open_window(fake, CUSTOMER)
    httpx.post(f"{fake}/_fake/config", json={"fail_next": [code]}).raise_for_status()
    enqueue("try me")
    run_sender()
    (row,) = rows()
    assert (
        row.status == OutboxStatus.QUEUED
        and row.error_code == code
        and row.next_attempt_at > clock.now()
    )
    with clock.frozen(clock.now() + (row.next_attempt_at - clock.now()) * 2):
        run_sender()
    assert rows()[0].status in (OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ)
    assert len(received(fake)) == 1


@pytest.mark.parametrize("code", [131026, 132000])
def test_permanent_errors_are_not_retried(fake, code):
    open_window(fake, CUSTOMER)
    httpx.post(f"{fake}/_fake/config", json={"fail_next": [code]}).raise_for_status()
    enqueue("never arrives")
    run_sender(passes=2)
    (row,) = rows()
    assert row.status == OutboxStatus.FAILED and row.error_code == code
    assert received(fake) == []


def test_one_recipient_is_paced_and_kept_in_order(fake):
    open_window(fake, CUSTOMER)
    for i in range(8):
        enqueue(f"message {i}")
    run_sender(passes=8, recipient_burst="3", recipient_interval_seconds="6")
    texts = [m["text"] for m in received(fake)]
    assert texts == ["message 0", "message 1", "message 2"]
    waiting = [r for r in rows() if r.status == OutboxStatus.QUEUED]
    assert len(waiting) == 5 and waiting[0].next_attempt_at > clock.now()


def test_transport_errors_are_retried(pg_db_url, monkeypatch):
    from tests.processes import free_port

    monkeypatch.setenv("WHATSAPP_API_BASE_URL", f"http://127.0.0.1:{free_port()}/v23.0")
    with transaction() as s:
        contacts.touch_inbound(contacts.get_or_create_contact(s, CUSTOMER))
    enqueue("nobody listening")
    run_sender()
    (row,) = rows()
    assert row.status == OutboxStatus.QUEUED and "ConnectError" in row.error_detail
