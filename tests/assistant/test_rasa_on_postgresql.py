"""Real Rasa servers on one PostgreSQL tracker database, as a scaled-out deployment runs them:
the bounded tracker store (endpoints.yml) with a small window, and, when Redis answers, two
Rasa processes sharing Redis's lock store (scripts/rasa.sh writes it in from REDIS_URL).

- A long conversation keeps what an early turn set: the turn that offered the full
  departure's options is long out of the loaded window when the customer replies "2", and
  the reply still means option 2 (the slots come from the state the window carries).
- Two Rasa processes serve one customer whose messages arrive at both at once: every message
  is answered, every event is stored, and no two turns of the customer overlap.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import text

from addons.stores.lock_store import LOCK_STORE_CLASS
from backend import texts
from backend.assistant_protocol import RASA_CHANNEL_PATH
from backend.db import transaction
from backend.services import catalog
from backend.stack import free_port, rasa_part
from backend.whatsapp.inbox_worker import merge_replies, rasa_channel_headers
from tests.assistant.backing_services import (
    REDIS_URL,
    TrackerDatabase,
    fresh_tracker_database,
    redis_problem,
)
from tests.processes import Part, start, start_action_server

pytestmark = pytest.mark.rasa

WINDOW = 4  # the smallest window the store allows, so a short test crosses it often
FAQ = [
    "what's the cancellation policy?",
    "can I pay by bank transfer?",
    "do I need a visa for Nepal?",
    "do we need any permits?",
    "do I need travel insurance?",
    "how do you deal with altitude sickness?",
]


@dataclass
class Replicas:
    urls: list[str]
    servers: list[Part]
    tracker: TrackerDatabase
    var_dirs: list[Path]
    redis: str | None  # why Redis is not used, or None when it is

    def logs(self) -> str:
        return "\n".join(s.tail(lines=100_000) for s in self.servers)


@pytest.fixture(scope="module")
def replicas(trained_model, pg_migrated, tmp_path_factory) -> Iterator[Replicas]:
    """An action server and Rasa processes on one tracker database: two sharing Redis's lock
    store when Redis answers, else one (as the project runs without Redis)."""
    logs = tmp_path_factory.mktemp("replica-logs")
    tracker = fresh_tracker_database("tracker_replicas")
    redis = redis_problem(REDIS_URL)
    actions, action_port = start_action_server(pg_migrated, logs)
    servers, urls, var_dirs = [], [], []
    for n in range(1 if redis else 2):
        port = free_port()
        var_dir = logs / f"var-{n}"
        env = {
            "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{action_port}/webhook",
            "TRACKER_DIALECT": "postgresql",
            "TRACKER_STORE_URL": tracker.rasa_url,
            "TRACKER_WINDOW_TURNS": str(WINDOW),
            "REDIS_URL": "" if redis else REDIS_URL,
            "TMS_VAR_DIR": str(var_dir),
        }
        servers.append(start(rasa_part(trained_model, port, env, name=f"rasa-{n}"), logs))
        urls.append(f"http://127.0.0.1:{port}")
        var_dirs.append(var_dir)
    try:
        actions.wait_ready(90)
        for server in servers:
            server.wait_ready(400)
        yield Replicas(urls, servers, tracker, var_dirs, redis)
    finally:
        for server in servers:
            server.stop()
        actions.stop()


def say(rasa: str, sender: str, message: str) -> list[str]:
    answer = httpx.post(
        f"{rasa}{RASA_CHANNEL_PATH}",
        headers=rasa_channel_headers(),
        timeout=120,
        json={"sender": sender, "message": message},
    )
    answer.raise_for_status()
    return [m["text"] for m in merge_replies(answer.json())]


def stored_events(tracker: TrackerDatabase, sender: str) -> list[dict]:
    engine = tracker.engine()
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).all()
    engine.dispose()
    return [{"id": row.id, **json.loads(row.data)} for row in rows]


def window_of(tracker: TrackerDatabase, sender: str) -> tuple[int, list[dict]]:
    engine = tracker.engine()
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT start_id, prefix FROM tms_tracker_windows WHERE sender_id = :s"),
            {"s": sender},
        ).one()
    engine.dispose()
    return row.start_id, json.loads(row.prefix)


def test_a_long_conversation_keeps_its_slots_through_the_window(replicas, demo_world_pg):
    customer = "+61499310001"
    rasa = replicas.urls[0]
    with transaction(demo_world_pg) as s:
        full, _open = catalog.departures_of(s, catalog.get_product(s, "ANN"))
    day = f"{full.start_date:%B} {full.start_date.day}"
    sent = [f"Interested in Annapurna Circuit {day}"]
    options = say(rasa, customer, sent[0])
    assert "FULLY BOOKED" in options[0]
    for question in [*FAQ, *FAQ[:2]]:  # more turns than the window holds
        sent.append(question)
        assert say(rasa, customer, question), question

    events = stored_events(replicas.tracker, customer)
    start_id, carried = window_of(replicas.tracker, customer)
    offered = next(e["id"] for e in events if e.get("text") == sent[0])
    loaded = [e for e in events if e["id"] >= start_id]
    # The turn that set the slots is no longer loaded: they reach the next turn as carried state.
    assert start_id > offered
    carried_slots = {e["name"]: e["value"] for e in carried if e["event"] == "slot"}
    assert carried_slots["pending_question"] == "full_options"
    assert carried_slots["full_departure_id"] == str(full.id)
    # A turn loads its window (at most WINDOW turns), not the conversation.
    assert sum(e["event"] == "user" for e in loaded) == WINDOW
    assert len(loaded) < len(events) / 2

    sent.append("2")
    assert say(rasa, customer, "2") == [texts.ask_party_size()]  # option 2 of the full departure
    sent.append("we are a family of four")
    joined = say(rasa, customer, sent[-1])
    assert joined[0].startswith("✓ Added to waitlist")

    # Every event is stored, once, in order: each message is one user event.
    users = [e["text"] for e in stored_events(replicas.tracker, customer) if e["event"] == "user"]
    assert users == sent


def test_two_rasa_processes_serve_one_customer_in_turn(replicas, demo_world_pg):
    if replicas.redis:
        pytest.skip(f"two Rasa processes need Redis's lock store: {replicas.redis}")
    for var_dir in replicas.var_dirs:  # scripts/rasa.sh gave each process Redis's lock store
        endpoints = yaml.safe_load((var_dir / "endpoints.redis.yml").read_text())
        assert endpoints["lock_store"]["type"] == LOCK_STORE_CLASS
    customer = "+61499310002"
    lines = [*FAQ, "hi", "thanks!", *FAQ[:4]]

    async def both_at_once() -> list[list[dict]]:
        async with httpx.AsyncClient(timeout=180, headers=rasa_channel_headers()) as client:

            async def send(rasa: str, line: str) -> list[dict]:
                answer = await client.post(
                    f"{rasa}{RASA_CHANNEL_PATH}", json={"sender": customer, "message": line}
                )
                answer.raise_for_status()
                return answer.json()

            replies = []
            for first, second in zip(lines[::2], lines[1::2], strict=True):
                # The customer's two messages reach the two processes at the same moment.
                replies += await asyncio.gather(
                    send(replicas.urls[0], first), send(replicas.urls[1], second)
                )
            return replies

    started = time.monotonic()
    replies = asyncio.run(both_at_once())
    assert all(replies), "every message is answered"

    events = stored_events(replicas.tracker, customer)
    users = [e for e in events if e["event"] == "user"]
    assert sorted(e["text"] for e in users) == sorted(lines), "every message is stored, once"
    # Turns, in the order they were stored: each starts with its message and ends with the
    # action listen, and starts after the one before ended (one process at a time).
    starts = [i for i, e in enumerate(events) if e["event"] == "user"]
    turns = [events[a:b] for a, b in zip(starts, [*starts[1:], len(events)], strict=True)]
    assert all(t[-1]["event"] == "action" and t[-1]["name"] == "action_listen" for t in turns)
    for before, turn in itertools.pairwise(turns):
        assert turn[0]["timestamp"] >= before[-1]["timestamp"], "two turns overlapped"
    assert "stored by someone else" not in replicas.logs()
    assert time.monotonic() - started < 600
