"""Leases with tokens: a batch that outlives its lease does not send twice, only the holder of
a row records its outcome, and a failure while recording is retried and reported."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from backend import clock
from backend.config import Settings
from backend.db import transaction
from backend.domain.enums import InboxStatus, OutboxStatus, Role
from backend.models import InboundMessage, OutboundMessage
from backend.services import contacts, outbox
from backend.whatsapp import inbox, sender
from backend.whatsapp.client import GraphClient
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient, RasaUnavailable
from backend.whatsapp.sender import OutboxSender, lease_length
from tests import factories
from tests.backend.whatsapp import payloads as p
from tests.backend.whatsapp.test_sender import open_window

CUSTOMERS = [f"+6141240000{n}" for n in range(1, 4)]


def _queue_texts(fake_url: str, n: int = 3) -> list[int]:
    for phone in CUSTOMERS[:n]:
        open_window(fake_url, phone)  # the customers wrote: free-form text may go
    with transaction() as s:
        ids = []
        for phone in CUSTOMERS[:n]:
            contact = contacts.get_or_create_contact(s, phone)
            ids += [
                r.id
                for r in outbox.enqueue_text(
                    s, to_phone=phone, contact_id=contact.id, body="hello", purpose="reply"
                )
            ]
        return ids


def _sender() -> OutboxSender:
    settings = Settings()
    client = GraphClient(
        settings.whatsapp_api_base_url,
        settings.whatsapp_phone_number_id,
        settings.whatsapp_access_token,
    )
    return OutboxSender(client, settings)


def received(fake_url: str) -> list[dict]:  # type: ignore[type-arg]
    return httpx.get(f"{fake_url}/_fake/messages").json()["messages"]


def test_a_batch_that_outlived_its_lease_does_not_send_twice(fake):
    ids = _queue_texts(fake)
    late, prompt = _sender(), _sender()

    async def go() -> None:
        try:
            batch, _ = await asyncio.to_thread(late._claim_and_prepare)
            assert [item.row_id for item in batch.items] == ids
            # The first sender stalls past its lease; the second claims the rows and sends.
            with clock.frozen(clock.now() + lease_length() + timedelta(seconds=1)):
                assert await prompt.run_once() == len(ids)
                await late._send_and_record(batch)
        finally:
            await late.client.aclose()
            await prompt.client.aclose()

    asyncio.run(go())
    assert len(received(fake)) == len(ids)  # each once, by the sender that held the lease
    with transaction() as s:
        rows = s.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(ids))).all()
        assert all(r.provider_message_id and r.lease_token is None for r in rows)


def test_a_sender_stopped_mid_batch_has_recorded_what_it_sent(fake, monkeypatch):
    """A paced batch takes seconds on the wire; outcomes are recorded as they come back, so a
    process that dies mid-batch leaves only the last moment's sends to go out again."""
    phones = [f"+614124100{n:02d}" for n in range(20)]
    for phone in phones:
        open_window(fake, phone)
    with transaction() as s:
        for phone in phones:
            contact = contacts.get_or_create_contact(s, phone)
            outbox.enqueue_text(
                s, to_phone=phone, contact_id=contact.id, body="hello", purpose="reply"
            )
    monkeypatch.setenv("WHATSAPP_RATE_PER_SECOND", "20")
    paced = _sender()

    async def go() -> None:
        try:
            batch, _ = await asyncio.to_thread(paced._claim_and_prepare)
            assert len(batch.items) == len(phones)
            sending = asyncio.create_task(paced._send_and_record(batch))
            while len(await asyncio.to_thread(received, fake)) < len(phones) // 2:
                await asyncio.sleep(0.02)
            sending.cancel()  # the process dies halfway through the batch
            await asyncio.sleep(0.5)  # a recording already under way commits or not
        finally:
            await paced.client.aclose()

    asyncio.run(go())
    on_the_wire = len(received(fake))
    with transaction() as s:
        recorded = s.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.recipient_phone.in_(phones),
                OutboundMessage.provider_message_id.is_not(None),  # sent, maybe delivered since
            )
        )
    assert len(phones) // 2 <= on_the_wire < len(phones)
    assert on_the_wire - recorded <= 3  # 20/s: at most the last ~0.15 s goes out again


def test_only_the_holder_records_an_outcome(fake):
    ids = _queue_texts(fake, 1)
    first, second = _sender(), _sender()
    with transaction() as s:
        assert sender.claim(s, 10) == ids
        stale_token = s.get(OutboundMessage, ids[0]).lease_token
    with clock.frozen(clock.now() + lease_length() + timedelta(seconds=1)), transaction() as s:
        assert sender.claim(s, 10) == ids  # the lease ran out: someone else holds it now
    first._record(stale_token, [(ids[0], "wamid.STALE")])
    with transaction() as s:
        row = s.get(OutboundMessage, ids[0])
        assert row.status == OutboxStatus.QUEUED and row.provider_message_id is None
    asyncio.run(second.client.aclose())
    asyncio.run(first.client.aclose())


def test_renewal_keeps_a_long_batch_from_being_claimed(fake):
    ids = _queue_texts(fake, 1)
    with transaction() as s:
        sender.claim(s, 10)
        token = s.get(OutboundMessage, ids[0]).lease_token
    _sender()._extend_lease(token, clock.now() + lease_length() * 2)
    with clock.frozen(clock.now() + lease_length() + timedelta(seconds=5)), transaction() as s:
        assert sender.claim(s, 10) == []  # still held: renewed


def test_a_failure_while_recording_is_retried_and_reported(fake, monkeypatch, caplog):
    ids = _queue_texts(fake, 1)
    real_record = OutboxSender._record
    calls = {"n": 0}

    def flaky(self: OutboxSender, token: str, outcomes: list) -> None:  # type: ignore[type-arg]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("the database went away")
        real_record(self, token, outcomes)

    monkeypatch.setattr(OutboxSender, "_record", flaky)
    monkeypatch.setattr(sender.asyncio, "sleep", _no_sleep)
    one = _sender()

    async def go() -> None:
        try:
            await one.run_once()
        finally:
            await one.client.aclose()

    with caplog.at_level(logging.ERROR):
        asyncio.run(go())
    assert one.record_failures == 1 and "recording batch" in caplog.text
    assert len(received(fake)) == 1
    with transaction() as s:
        row = s.get(OutboundMessage, ids[0])
        assert row.provider_message_id and row.status != OutboxStatus.FAILED  # recorded, once


async def _no_sleep(_seconds: float) -> None:
    return None


class _SilentRasa(RasaClient):
    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9")

    async def send(self, sender: str, text: str, metadata: dict) -> list:  # type: ignore[type-arg]
        return []


@pytest.mark.parametrize("action_server_up", [True, False])
def test_an_empty_answer_is_an_answer_unless_the_action_server_is_down(
    session, frozen_clock, monkeypatch, action_server_up
):
    sales = factories.staff(session, "Sarah Gurung", Role.SALES)
    inbox.store_webhook(
        session, p.webhook([p.text_message("61412000001", "ok")]), p.PHONE_NUMBER_ID
    )
    session.commit()
    worker = InboxWorker(_SilentRasa(), Settings())

    async def up() -> bool:
        return action_server_up

    monkeypatch.setattr(worker, "action_server_up", up)
    asyncio.run(worker.run_once())
    session.expire_all()
    row = session.scalar(select(InboundMessage))
    forwarded = session.scalars(
        select(OutboundMessage).where(OutboundMessage.purpose == "rep_alert")
    ).all()
    if action_server_up:
        # Silence from a healthy assistant is an answer, and a person is shown the message.
        assert row.status == InboxStatus.DONE
        assert [m.staff_id for m in forwarded] == [sales.id]
        assert "could not handle" in forwarded[0].body and '"ok"' in forwarded[0].body
    else:
        assert row.status == InboxStatus.PENDING and "action server is down" in row.last_error
        assert forwarded == []


def test_an_action_that_could_not_finish_is_retried_not_taken_as_answered():
    def rasa(request: httpx.Request) -> httpx.Response:
        reply = {"recipient_id": "+61412000001", "custom": {"tms_retry": "OperationalError"}}
        return httpx.Response(200, json=[reply])

    async def go() -> None:
        client = RasaClient("http://rasa.test", transport=httpx.MockTransport(rasa))
        try:
            with pytest.raises(RasaUnavailable, match="could not finish"):
                await client.send("+61412000001", "hi", {})
        finally:
            await client.aclose()

    asyncio.run(go())


def test_the_inbox_failure_path_checks_its_lease(session, frozen_clock):
    inbox.store_webhook(session, p.webhook([p.text_message("61412000001", "a")]), p.PHONE_NUMBER_ID)
    session.commit()
    (row,) = inbox.claim(session, 10)
    stale = row.lease_token
    session.commit()
    frozen_clock.advance(seconds=inbox.lease_length().total_seconds() + 1)
    (again,) = inbox.claim(session, 10)
    session.commit()
    worker = InboxWorker(_SilentRasa(), Settings())
    worker._attempt_failed(row.id, stale, "Rasa down")  # the old worker reports late
    worker._complete(row.id, stale, [{"text": "late answer"}])
    session.expire_all()
    current = session.get(InboundMessage, row.id)
    assert current.status == InboxStatus.PROCESSING and current.lease_token == again.lease_token
    assert current.attempts == 2 and current.last_error is None
    assert session.scalar(select(OutboundMessage)) is None  # the late answer was not queued


def test_a_renewal_that_finds_the_rows_taken_stops_the_batch(fake):
    ids = _queue_texts(fake, 2)
    late, prompt = _sender(), _sender()

    async def go() -> None:
        try:
            batch, _ = await asyncio.to_thread(late._claim_and_prepare)
            with clock.frozen(clock.now() + lease_length() + timedelta(seconds=1)):
                await asyncio.to_thread(prompt._claim_and_prepare)  # the rows pass on
                # The late sender's renewal finds none of its rows: it must stop, not extend.
                monkeypatch_sleep = sender.asyncio.sleep
                sender.asyncio.sleep = _no_sleep  # type: ignore[assignment]
                try:
                    await late._renew(batch)
                finally:
                    sender.asyncio.sleep = monkeypatch_sleep  # type: ignore[assignment]
                outcomes = [await late._send(batch, item) for item in batch.items]
            assert [o for _, o in outcomes] == [sender.NOT_SENT] * len(ids)
        finally:
            await late.client.aclose()
            await prompt.client.aclose()

    asyncio.run(go())
    assert received(fake) == []


def test_a_message_rasa_is_slow_to_answer_keeps_its_lease(
    pg_db_url: str, frozen_clock: clock.FrozenClock
) -> None:
    """The worker renews the lease of what it holds: a slow Rasa is not a dead worker, and no
    other process takes the message meanwhile."""
    with transaction() as s:
        inbox.store_webhook(
            s, p.webhook([p.text_message("61412400009", "hello", "wamid.SLOW")]), p.PHONE_NUMBER_ID
        )
    with transaction() as s:
        (row,) = inbox.claim(s, 5)
        token = row.lease_token
    frozen_clock.advance(seconds=inbox.lease_length().total_seconds() * 0.9)
    with transaction() as s:
        assert inbox.extend_lease(s, token) == 1
    frozen_clock.advance(seconds=inbox.lease_length().total_seconds() * 0.5)
    with transaction() as s:
        assert inbox.claim(s, 5) == []  # still held: past the first lease, inside the renewed one
        assert inbox.extend_lease(s, "another-token") == 0
