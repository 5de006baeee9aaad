"""One recipient's messages on the wire when a sender stalls or dies: at least once, in order.

The Graph API has no idempotency key, so a message whose sender died between Meta's answer and
recording it goes out again; the copy comes right after the first, and the recipient's next
message only after both. A sender that lost its lease gives its request up before the lease ends,
so its copy cannot land after what the next holder sent."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from backend import clock
from backend.config import Settings
from backend.db import transaction
from backend.domain.enums import OutboxStatus
from backend.models import OutboundMessage
from backend.services import contacts, outbox
from backend.whatsapp.client import GraphClient
from backend.whatsapp.sender import OutboxSender, lease_length

CUSTOMER = "+61412300077"
LEASE_SECONDS = 1.2
_wamids = itertools.count(1)

Handler = Callable[[httpx.Request], Coroutine[Any, Any, httpx.Response]]


@pytest.fixture
def two_replies(pg_db_url: str, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Two replies queued to one customer who wrote just now, under a short lease."""
    monkeypatch.setenv("OUTBOX_LEASE_SECONDS", str(LEASE_SECONDS))
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, CUSTOMER)
        contacts.touch_inbound(contact)
        return [
            row.id
            for body in ("first", "second")
            for row in outbox.enqueue_text(
                s, to_phone=CUSTOMER, contact_id=contact.id, body=body, purpose="reply"
            )
        ]


def meta(wire: list[str], delay: float = 0.0) -> Handler:
    """A Graph API that takes each message onto `wire` after `delay` (a request given up before
    then is not taken, as the fake's server drops a request whose client went away)."""

    async def handle(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(delay)
        wire.append(json.loads(request.content)["text"]["body"])
        return httpx.Response(200, json={"messages": [{"id": f"wamid.ORDER{next(_wamids)}"}]})

    return handle


def sender(handler: Handler) -> OutboxSender:
    settings = Settings()
    client = GraphClient(
        settings.whatsapp_api_base_url,
        settings.whatsapp_phone_number_id,
        settings.whatsapp_access_token,
        transport=httpx.MockTransport(handler),
    )
    return OutboxSender(client, settings)


def rows(ids: list[int]) -> list[OutboundMessage]:
    with transaction() as s:
        return list(
            s.scalars(select(OutboundMessage).where(OutboundMessage.id.in_(ids)).order_by("id"))
        )


async def send_until(prompt: OutboxSender, wire: list[str], count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(wire) < count and time.monotonic() < deadline:
        await prompt.run_once()
        await asyncio.sleep(0.05)


def test_a_stalled_request_is_given_up_before_its_lease_ends_so_nothing_overtakes_it(
    two_replies: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    wire: list[str] = []
    # Meta would take the stalled sender's request long after its lease ran out.
    stalled = sender(meta(wire, delay=3 * LEASE_SECONDS))
    prompt = sender(meta(wire))

    def unreachable(token: str, until: object) -> int:
        raise RuntimeError("the database does not answer this sender")

    monkeypatch.setattr(stalled, "_extend_lease", unreachable)  # its lease is not renewed

    async def go() -> float:
        try:
            started = time.monotonic()
            first = asyncio.create_task(stalled.run_once())
            while not await asyncio.to_thread(lambda: rows(two_replies)[0].lease_token):
                await asyncio.sleep(0.02)  # until the stalled sender has claimed the first
            await send_until(prompt, wire, 2, timeout=10 * LEASE_SECONDS)
            await first
            return time.monotonic() - started
        finally:
            await stalled.client.aclose()
            await prompt.client.aclose()

    took = asyncio.run(go())
    assert wire == ["first", "second"], took
    first, second = rows(two_replies)
    assert first.status == OutboxStatus.SENT and second.status == OutboxStatus.SENT
    assert first.attempts == 2  # the request given up counts: it may have reached Meta


def test_after_a_crash_the_resend_follows_its_lost_copy_and_the_next_message_waits(
    two_replies: list[int],
) -> None:
    wire: list[str] = []
    dying, prompt = sender(meta(wire)), sender(meta(wire))

    async def go() -> None:
        try:
            batch, _ = await asyncio.to_thread(dying._claim_and_prepare)
            (item,) = batch.items  # one row per recipient at a time: the first reply
            await dying._send(batch, item)  # Meta took it; the process dies before recording
            assert await prompt.run_once() == 0  # the second waits behind the held first
            with clock.frozen(clock.now() + lease_length() + timedelta(seconds=1)):
                await send_until(prompt, wire, 3, timeout=5)
        finally:
            await dying.client.aclose()
            await prompt.client.aclose()

    asyncio.run(go())
    assert wire == ["first", "first", "second"]
    first, second = rows(two_replies)
    assert first.attempts == 2 and second.attempts == 1  # every copy on the wire is an attempt
