"""The inbox worker sends nothing to a Rasa that is not ready: it waits for it (the message's
lease renewed meanwhile) and sends once, so a Rasa restart costs no attempt; a replica that is
loading passes its senders to the next one and gets them back when ready; after the action
server failed a turn, the next attempt waits for it instead of failing again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from backend import clock
from backend.config import Settings
from backend.db import transaction
from backend.domain.enums import InboxStatus
from backend.models import InboundMessage, OutboundMessage
from backend.whatsapp import inbox, inbox_worker
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient, replica_order
from tests.backend.whatsapp import payloads as p

RASA = "http://rasa.test:5005"
REPLICAS = ["http://rasa-1:5005", "http://rasa-2:5005"]


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inbox_worker, "READY_POLL_SECONDS", 0.01)


class RestartingRasa:
    """A Rasa that is down (refuses connections), then up but loading its model (`GET /`
    answers, `GET /status` says 409 as Rasa's HTTP API does), then ready."""

    def __init__(self) -> None:
        self.phase = "down"
        self.asked: dict[str, int] = {"down": 0, "loading": 0, "ready": 0}
        self.posts: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.posts.append(self.phase)
        if self.phase == "down":
            self.asked["down"] += 1
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "GET":
            self.asked[self.phase] += 1
            if request.url.path == "/status" and self.phase == "loading":
                return httpx.Response(409, json={"message": "No agent loaded."})
            return httpx.Response(200, text="Hello from Rasa: 3.6.21")
        if self.phase == "loading":
            return httpx.Response(500, text="agent not ready")
        sender = httpx.Response(200, content=request.content).json()["sender"]
        return httpx.Response(200, json=[{"recipient_id": sender, "text": "Namaste!"}])


async def _when(
    condition: Callable[[], bool], then: Callable[[], None], until: asyncio.Task
) -> None:  # type: ignore[type-arg]
    """Run `then` once `condition` holds (checked as the worker runs), unless `until` ended."""
    while not condition():
        if until.done():
            return
        await asyncio.sleep(0.005)
    then()


def _store(phone: str, wamid: str) -> None:
    with transaction() as s:
        inbox.store_webhook(
            s, p.webhook([p.text_message(phone, "hello", wamid)]), p.PHONE_NUMBER_ID
        )


def _row(wamid: str) -> InboundMessage:
    with transaction() as s:
        row = s.scalar(select(InboundMessage).where(InboundMessage.wamid == wamid))
        s.expunge(row)
        return row


def test_a_rasa_restarting_costs_no_attempt(
    pg_db_url: str, frozen_clock: clock.FrozenClock
) -> None:
    _store("61412500001", "wamid.RESTART")
    rasa = RestartingRasa()

    async def go() -> None:
        client = RasaClient(RASA, transport=httpx.MockTransport(rasa))
        worker = InboxWorker(client, Settings())
        try:
            working = asyncio.create_task(worker.run_once())
            # Down for a while, then loading for a while, then ready: as a restart goes.
            await _when(
                lambda: rasa.asked["down"] >= 3, lambda: setattr(rasa, "phase", "loading"), working
            )
            await _when(
                lambda: rasa.asked["loading"] >= 6, lambda: setattr(rasa, "phase", "ready"), working
            )
            assert await working == 1
        finally:
            await client.aclose()

    asyncio.run(go())
    row = _row("wamid.RESTART")
    assert (row.status, row.attempts, row.last_error) == (InboxStatus.DONE, 1, None)
    assert rasa.posts == ["ready"]  # sent once, to a Rasa with its model loaded
    with transaction() as s:
        assert [m.body for m in s.scalars(select(OutboundMessage))] == ["Namaste!"]


def test_a_rasa_that_never_comes_back_is_a_failed_attempt_after_the_wait(
    pg_db_url: str, frozen_clock: clock.FrozenClock
) -> None:
    _store("61412500002", "wamid.GONE")
    rasa = RestartingRasa()

    async def go() -> None:
        client = RasaClient(RASA, transport=httpx.MockTransport(rasa))
        try:
            assert await InboxWorker(client, Settings(), ready_wait=0.2).run_once() == 1
        finally:
            await client.aclose()

    asyncio.run(go())
    row = _row("wamid.GONE")
    assert row.status == InboxStatus.PENDING and row.attempts == 1
    assert "no Rasa replica is ready" in row.last_error and "ConnectError" in row.last_error
    assert rasa.posts == []


def test_a_loading_replica_passes_its_senders_on_and_gets_them_back_when_ready(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(inbox_worker, "READY_POLL_SECONDS", 0)  # a replica not ready: ask each time
    phases = {REPLICAS[0]: "loading", REPLICAS[1]: "ready"}
    seen: list[tuple[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        host = f"http://{request.url.host}:{request.url.port}"
        if request.method == "GET":
            loading = phases[host] == "loading" and request.url.path == "/status"
            return httpx.Response(409 if loading else 200, text="")
        assert phases[host] == "ready", "sent to a replica still loading its model"
        sender = httpx.Response(200, content=request.content).json()["sender"]
        seen.append((sender, host))
        return httpx.Response(200, json=[{"recipient_id": sender, "text": "ok"}])

    senders = [f"+6141251{n:04d}" for n in range(40)]
    homes = {s: replica_order(s, REPLICAS)[0] for s in senders}
    assert set(homes.values()) == set(REPLICAS)

    async def go() -> None:
        client = RasaClient(",".join(REPLICAS), transport=httpx.MockTransport(handler))
        try:
            for sender in senders:
                await client.send(sender, "hi", {})
            phases[REPLICAS[0]] = "ready"
            for sender in senders:
                await client.send(sender, "hi", {})
        finally:
            await client.aclose()

    asyncio.run(go())
    assert {host for _, host in seen[: len(senders)]} == {REPLICAS[1]}
    assert all(host == homes[sender] for sender, host in seen[len(senders) :])


def test_after_the_action_server_failed_a_turn_the_retry_waits_for_it(
    pg_db_url: str, frozen_clock: clock.FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store("61412500003", "wamid.ACTIONS")
    action_server = {"up": False, "asked": 0}

    def rasa(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, text="Hello from Rasa")
        # Rasa answers nothing while it cannot reach its actions.
        reply = [{"recipient_id": "+61412500003", "text": "Namaste!"}]
        return httpx.Response(200, json=reply if action_server["up"] else [])

    async def go() -> None:
        client = RasaClient(RASA, transport=httpx.MockTransport(rasa))
        worker = InboxWorker(client, Settings())

        async def up() -> bool:
            action_server["asked"] += 1
            return action_server["up"]

        monkeypatch.setattr(worker, "action_server_up", up)
        try:
            assert await worker.run_once() == 1  # the first attempt finds it down
            frozen_clock.advance(seconds=inbox.backoff(1).total_seconds())
            asked = action_server["asked"]
            working = asyncio.create_task(worker.run_once())
            await _when(
                lambda: action_server["asked"] >= asked + 3,
                lambda: action_server.update(up=True),
                working,
            )
            assert await working == 1
        finally:
            await client.aclose()

    asyncio.run(go())
    row = _row("wamid.ACTIONS")
    # One failed attempt (the turn in flight when it went down), not one per retry.
    assert (row.status, row.attempts) == (InboxStatus.DONE, 2)
    with transaction() as s:
        assert [m.body for m in s.scalars(select(OutboundMessage))] == ["Namaste!"]


def test_a_message_waiting_for_rasa_holds_up_no_other_sender(pg_db_url: str) -> None:
    """While one customer's message waits for a Rasa that is down, another's STOP (which
    needs no Rasa) is answered at once: the worker does not wait for a batch to claim more."""
    with transaction() as s:
        inbox.store_webhook(
            s, p.webhook([p.text_message("61412500020", "hello", "wamid.WAITS")]), p.PHONE_NUMBER_ID
        )
    rasa = RestartingRasa()  # down throughout

    async def go() -> None:
        client = RasaClient(RASA, transport=httpx.MockTransport(rasa))
        worker = InboxWorker(client, Settings(), ready_wait=60)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop, idle_sleep=0.05))
        try:
            await _until(lambda: rasa.asked["down"] >= 2)  # the first message is waiting
            with transaction() as s:
                inbox.store_webhook(
                    s,
                    p.webhook([p.text_message("61412500021", "STOP", "wamid.STOP")]),
                    p.PHONE_NUMBER_ID,
                )
            await _until(lambda: _row("wamid.STOP").status == InboxStatus.DONE)
            assert _row("wamid.WAITS").status != InboxStatus.DONE  # still waiting for Rasa
        finally:
            stop.set()
            await running
            await client.aclose()

    asyncio.run(go())
    with transaction() as s:
        assert [m.recipient_phone for m in s.scalars(select(OutboundMessage))] == ["+61412500021"]


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not in time"
        await asyncio.sleep(0.02)
