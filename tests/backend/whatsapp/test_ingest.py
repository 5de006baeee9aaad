"""Webhook ingest with a group commit: webhooks that arrive together share one write, each
request gets its own result, nothing is answered before it is committed, and a failing batch
neither loses nor wrongly acknowledges anyone's webhook."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx
import pytest
from sqlalchemy import func, select

from backend.db import transaction
from backend.domain.enums import OutboxStatus
from backend.models import InboundMessage, MessageStatusEvent, OutboundMessage
from backend.services import outbox
from backend.whatsapp import inbox
from backend.whatsapp.ingest import IngestWriter
from tests.backend.whatsapp import payloads as p
from tests.processes import start_backend


def _parsed(*messages, statuses=()):  # type: ignore[no-untyped-def]
    return inbox.parse_webhook(p.webhook(list(messages), list(statuses)), p.PHONE_NUMBER_ID)


def _wamids(url: str) -> list[str]:
    with transaction(url) as s:
        return list(s.scalars(select(InboundMessage.wamid).order_by(InboundMessage.id)))


def test_several_webhooks_in_one_write_each_get_their_own_counts_in_order(session):
    inbox.store_webhook(
        session,
        p.webhook([p.text_message("61412000009", "old", wamid="wamid.OLD")]),
        p.PHONE_NUMBER_ID,
    )
    first = _parsed(
        p.text_message("61412000001", "a", wamid="wamid.A"),
        p.text_message("61412000001", "a again", wamid="wamid.A"),  # twice in one body
        statuses=[p.status("wamid.OUT1", "sent")],
    )
    second = _parsed(
        p.text_message("61412000002", "b", wamid="wamid.B"),
        p.text_message("61412000001", "a from a retry", wamid="wamid.A"),  # Meta's repeat
        p.text_message("61412000009", "old", wamid="wamid.OLD"),  # stored before
        statuses=[p.status("wamid.OUT1", "sent"), p.status("wamid.OUT1", "delivered")],
    )
    third = _parsed(p.text_message("61412000001", "c", wamid="wamid.C"))

    results = inbox.store_parsed(session, [first, second, third])
    session.commit()

    counts = [
        (r.messages_new, r.messages_duplicate, r.statuses_new, r.statuses_duplicate)
        for r in results
    ]
    assert counts == [(1, 1, 1, 0), (1, 2, 1, 1), (1, 0, 0, 0)]
    assert results[1].new_status_wamids == ["wamid.OUT1"]
    # Ids follow arrival: each sender's messages are handed to the assistant in this order.
    assert list(session.scalars(select(InboundMessage.wamid).order_by(InboundMessage.id))) == [
        "wamid.OLD",
        "wamid.A",
        "wamid.B",
        "wamid.C",
    ]
    assert session.scalar(select(func.count()).select_from(MessageStatusEvent)) == 2


def test_concurrent_webhooks_share_a_write_and_are_committed_when_answered(db_url):
    async def go() -> list[inbox.StoreResult]:
        writer = IngestWriter()
        try:
            results = await asyncio.gather(
                *(
                    writer.store(_parsed(p.text_message(f"6141200000{i}", "hi", f"wamid.G{i}")))
                    for i in range(8)
                ),
                writer.store(_parsed(p.text_message("61412000001", "hi", "wamid.G0"))),
            )
            # Answered means committed: another connection sees every row already.
            assert _wamids(db_url) == [f"wamid.G{i}" for i in range(8)]
            assert writer.batches == 1  # all nine were waiting together: one write
            return results
        finally:
            await writer.aclose()

    results = asyncio.run(go())
    assert [(r.messages_new, r.messages_duplicate) for r in results] == [(1, 0)] * 8 + [(0, 1)]


def test_statuses_in_a_batch_are_applied_in_its_transaction(db_url):
    with transaction(db_url) as s:
        (row,) = outbox.enqueue_text(s, to_phone="+61412000001", body="hello", purpose="reply")
        row.provider_message_id = "wamid.OUT1"
        row.status = OutboxStatus.SENT

    async def go() -> None:
        writer = IngestWriter()
        try:
            await asyncio.gather(
                writer.store(_parsed(p.text_message("61412000001", "thanks"))),
                writer.store(_parsed(statuses=[p.status("wamid.OUT1", "delivered")])),
                writer.store(_parsed(statuses=[p.status("wamid.OUT1", "read")])),
            )
            assert writer.batches == 1
        finally:
            await writer.aclose()

    asyncio.run(go())
    with transaction(db_url) as s:
        assert s.scalar(select(OutboundMessage.status)) == OutboxStatus.READ
        assert s.scalar(select(func.count()).where(MessageStatusEvent.applied.is_(False))) == 0


def test_a_batch_that_fails_is_written_again_one_by_one_and_only_the_bad_one_fails(pg_db_url):
    poison = _parsed(p.text_message("61412000002", "bad", "wamid.BAD"))
    poison.messages[0]["message_type"] = "x" * 40  # longer than the column: PostgreSQL refuses

    async def go() -> list[object]:
        writer = IngestWriter()
        try:
            outcome = await asyncio.gather(
                writer.store(_parsed(p.text_message("61412000001", "one", "wamid.ONE"))),
                writer.store(poison),
                writer.store(_parsed(p.text_message("61412000003", "two", "wamid.TWO"))),
                return_exceptions=True,
            )
            assert writer.batches == 2  # the batch rolled back; the good two alone
            return outcome
        finally:
            await writer.aclose()

    one, bad, two = asyncio.run(go())
    assert isinstance(one, inbox.StoreResult) and one.messages_new == 1
    assert isinstance(two, inbox.StoreResult) and two.messages_new == 1
    assert isinstance(bad, Exception)
    assert _wamids(pg_db_url) == ["wamid.ONE", "wamid.TWO"]


def test_nobody_is_answered_when_the_write_fails():
    async def broken(_webhooks):  # type: ignore[no-untyped-def]
        raise ConnectionError("the database went away")

    async def go() -> list[object]:
        writer = IngestWriter(broken)
        try:
            return await asyncio.gather(
                writer.store(_parsed(p.text_message("61412000001", "one"))),
                writer.store(_parsed(p.text_message("61412000002", "two"))),
                return_exceptions=True,
            )
        finally:
            await writer.aclose()

    assert all(isinstance(o, ConnectionError) for o in asyncio.run(go()))


@pytest.fixture(scope="module")
def two_process_backend(pg_migrated, tmp_path_factory):
    server, port = start_backend(
        pg_migrated,
        tmp_path_factory.mktemp("logs"),
        workers=False,
        extra_env={"BACKEND_PROCESSES": "2"},
    )
    try:
        server.wait_ready(90)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_two_backend_processes_store_a_concurrent_duplicate_once(two_process_backend, pg_db_url):
    raw, headers = p.signed(p.webhook([p.text_message("61412000001", "dup", "wamid.DUP")]))
    others = [
        p.signed(p.webhook([p.text_message("61412000002", f"n{i}", f"wamid.N{i}")]))
        for i in range(20)
    ]
    barrier = Barrier(40)

    def post(i: int) -> dict[str, int]:
        body, head = (raw, headers) if i % 2 else others[i // 2]
        with httpx.Client(timeout=30) as client:  # a connection each: both processes serve
            barrier.wait()
            answer = client.post(
                f"{two_process_backend}/webhooks/whatsapp", content=body, headers=head
            )
        assert answer.status_code == 200, answer.text
        return answer.json()

    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = list(pool.map(post, range(40)))
    assert sum(a["stored"] for a in answers) == 21
    assert sum(a["duplicates"] for a in answers) == 19
    assert sorted(_wamids(pg_db_url)) == sorted(["wamid.DUP"] + [f"wamid.N{i}" for i in range(20)])
