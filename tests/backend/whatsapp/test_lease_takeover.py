"""A dead process's claims pass to another within about 15 s (the lease), and a living one keeps
what it works on however long Rasa takes (its heartbeat renews the lease), through the real
inbox worker on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from backend import clock
from backend.config import Settings
from backend.db import transaction
from backend.domain.enums import InboxStatus
from backend.models import InboundMessage, OutboundMessage
from backend.whatsapp import inbox, inbox_worker, sender
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient
from tests.backend.whatsapp import payloads as p

TAKEOVER_BOUND_SECONDS = 15


def _answering_rasa(
    gate: Callable[[], bool] = lambda: True, down: Callable[[], bool] = lambda: False
):  # type: ignore[no-untyped-def]
    """A Rasa that answers "Namaste!" once `gate()` holds; refuses connections while `down()`."""
    posts: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if down():
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "GET":
            return httpx.Response(200, text="Hello from Rasa")
        posts.append(request.url.path)
        while not gate():
            await asyncio.sleep(0.01)
        return httpx.Response(200, json=[{"recipient_id": "x", "text": "Namaste!"}])

    return handler, posts


def _store(wamid: str) -> None:
    with transaction() as s:
        inbox.store_webhook(
            s, p.webhook([p.text_message("61412600001", "hello", wamid)]), p.PHONE_NUMBER_ID
        )


def _row(wamid: str) -> InboundMessage:
    with transaction() as s:
        row = s.scalar(select(InboundMessage).where(InboundMessage.wamid == wamid))
        s.expunge(row)
        return row


def _replies() -> list[str]:
    with transaction() as s:
        return [m.body for m in s.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]


def test_the_leases_are_short_enough_for_a_takeover_within_fifteen_seconds() -> None:
    assert inbox.lease_length().total_seconds() <= TAKEOVER_BOUND_SECONDS
    assert sender.lease_length().total_seconds() <= TAKEOVER_BOUND_SECONDS


def test_a_dead_workers_message_is_taken_over_after_its_lease(
    pg_db_url: str, frozen_clock: clock.FrozenClock
) -> None:
    _store("wamid.DEAD")
    handler, posts = _answering_rasa()

    async def go() -> None:
        client = RasaClient("http://rasa.test", transport=httpx.MockTransport(handler))
        dead, other = InboxWorker(client, Settings()), InboxWorker(client, Settings())
        try:
            (_claimed,), _token = await asyncio.to_thread(dead._claim)  # …and the process dies
            lease = inbox.lease_length().total_seconds()
            frozen_clock.advance(seconds=lease - 1)
            assert await other.run_once() == 0  # still the dead worker's: it might be alive
            frozen_clock.advance(seconds=1.5)
            assert await other.run_once() == 1  # the lease ran out: taken over, and answered
        finally:
            await client.aclose()

    asyncio.run(go())
    row = _row("wamid.DEAD")
    assert (row.status, row.attempts) == (InboxStatus.DONE, 2)
    assert posts == [inbox_worker.RASA_CHANNEL_PATH] and _replies() == ["Namaste!"]


@pytest.mark.parametrize("rasa_state", ["slow", "not ready"])
def test_a_living_worker_keeps_its_message_past_the_lease(
    pg_db_url: str, monkeypatch: pytest.MonkeyPatch, rasa_state: str
) -> None:
    """Rasa takes longer than the lease (a slow turn, or a restart the worker waits out): the
    worker's heartbeat renews the lease, and another worker polling all along takes nothing."""
    lease = 1.5
    monkeypatch.setenv("INBOX_LEASE_SECONDS", str(lease))
    monkeypatch.setattr(inbox_worker, "READY_POLL_SECONDS", 0.05)
    _store("wamid.LONG")
    released = {"now": False}
    if rasa_state == "slow":
        handler, posts = _answering_rasa(gate=lambda: released["now"])
    else:
        handler, posts = _answering_rasa(down=lambda: not released["now"])

    async def go() -> None:
        client = RasaClient("http://rasa.test", transport=httpx.MockTransport(handler))
        holder, other = InboxWorker(client, Settings()), InboxWorker(client, Settings())
        try:
            working = asyncio.create_task(holder.run_once())
            while (await asyncio.to_thread(_row, "wamid.LONG")).status != InboxStatus.PROCESSING:
                await asyncio.sleep(0.01)  # the holder has claimed it (the other must not first)
            started = time.monotonic()
            # Another worker looks for work for well over two leases: it must find none.
            while time.monotonic() - started < 2.5 * lease:
                assert await asyncio.to_thread(other._claim) == ([], "")
                assert not working.done()
            released["now"] = True
            assert await working == 1
        finally:
            await client.aclose()

    asyncio.run(go())
    row = _row("wamid.LONG")
    assert (row.status, row.attempts, row.last_error) == (InboxStatus.DONE, 1, None)
    assert len(posts) == 1 and _replies() == ["Namaste!"]
