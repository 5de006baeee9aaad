"""Several Rasa processes behind one backend: each sender sticks to one replica (its turns stay
on one process, in order), senders spread over the replicas, and a replica that cannot be
reached passes its senders to the next one without anyone else moving."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from backend.whatsapp.inbox_worker import RasaClient, RasaUnavailable, replica_order

REPLICAS = ["http://rasa-1:5005", "http://rasa-2:5005", "http://rasa-3:5005"]
SENDERS = [f"+6141250{n:04d}" for n in range(300)]


def _client(handler) -> RasaClient:  # type: ignore[no-untyped-def]
    return RasaClient(",".join(REPLICAS), transport=httpx.MockTransport(handler))


def _echo_host(seen: list[tuple[str, str]], down: set[str] = frozenset()):  # type: ignore[no-untyped-def,assignment]
    def handler(request: httpx.Request) -> httpx.Response:
        host = f"http://{request.url.host}:{request.url.port}"
        if host in down:
            raise httpx.ConnectError("connection refused", request=request)
        if request.method == "GET":
            return httpx.Response(200, text="Hello from Rasa")  # ready: `GET /`, `GET /status`
        sender = httpx.Response(200, content=request.content).json()["sender"]
        seen.append((sender, host))
        return httpx.Response(200, json=[{"recipient_id": sender, "text": host}])

    return handler


def test_a_sender_always_goes_to_the_same_replica_and_senders_spread() -> None:
    seen: list[tuple[str, str]] = []
    client = _client(_echo_host(seen))

    async def run() -> None:
        for _ in range(2):
            for sender in SENDERS:
                await client.send(sender, "hi", {})
        await client.aclose()

    asyncio.run(run())
    hosts_of: dict[str, set[str]] = {}
    for sender, host in seen:
        hosts_of.setdefault(sender, set()).add(host)
    assert all(len(hosts) == 1 for hosts in hosts_of.values())
    load = Counter(next(iter(hosts)) for hosts in hosts_of.values())
    assert set(load) == set(REPLICAS)
    assert all(60 <= n <= 140 for n in load.values()), load  # about 100 each


def test_an_unreachable_replica_passes_only_its_own_senders_to_the_next() -> None:
    down = REPLICAS[0]
    seen: list[tuple[str, str]] = []
    client = _client(_echo_host(seen, {down}))

    async def run() -> list[list[dict[str, str]]]:
        answers = [await client.send(sender, "hi", {}) for sender in SENDERS]
        await client.aclose()
        return answers

    answers = asyncio.run(run())
    assert all(answer for answer in answers)  # everyone was answered
    for sender, host in seen:
        first, second = replica_order(sender, REPLICAS)[:2]
        assert host == (second if first == down else first)


def test_a_replica_that_took_the_message_and_timed_out_is_not_asked_again_elsewhere() -> None:
    """It may have processed the turn: the inbox retries it later instead of a second replica
    answering it now."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, text="Hello from Rasa")
        asked.append(str(request.url.host))
        raise httpx.ReadTimeout("no answer in time", request=request)

    client = _client(handler)
    with pytest.raises(RasaUnavailable):
        asyncio.run(client.send(SENDERS[0], "hi", {}))
    assert len(asked) == 1


def test_no_replica_reachable_is_reported_as_rasa_unavailable() -> None:
    client = _client(_echo_host([], set(REPLICAS)))
    with pytest.raises(RasaUnavailable, match="no Rasa replica"):
        asyncio.run(client.send(SENDERS[0], "hi", {}))


def test_removing_a_replica_moves_only_the_senders_it_had() -> None:
    before = {s: replica_order(s, REPLICAS)[0] for s in SENDERS}
    after = {s: replica_order(s, REPLICAS[:2])[0] for s in SENDERS}
    moved = [s for s in SENDERS if before[s] != after[s]]
    assert moved and all(before[s] == REPLICAS[2] for s in moved)
