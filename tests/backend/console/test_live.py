"""The console's live stream (`GET /console/events`): what changed after the last event the
browser saw, for signed-in sales and operations staff only, and nothing lost across a backend
restart (the browser reconnects with Last-Event-ID)."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import func, select

from backend.db import transaction
from backend.demo_data import load
from backend.domain.actor import SYSTEM
from backend.models import Staff, TimelineEvent
from backend.services import catalog, contacts, leads, staff_auth
from tests.processes import free_port, start_backend

SARAH, RAJESH = "+9779801000001", "+9779801000003"


def _cookie(db: str, phone: str) -> str:
    with transaction(db) as s:
        member = s.scalar(select(Staff).where(Staff.phone == phone))
        return staff_auth.open_session(s, member, how="test").cookie


def _latest(db: str) -> int:
    with transaction(db) as s:
        return int(s.scalar(select(func.max(TimelineEvent.id))) or 0)


def _new_lead(db: str, phone: str) -> str:
    with transaction(db) as s:
        contact = contacts.get_or_create_contact(s, phone, name="Live Test")
        return leads.create_lead(
            s, contact=contact, product=catalog.get_product(s, "EBC"), actor=SYSTEM
        ).id


def _changes(url: str, cookie: str, last_id: int, *, until_object: str) -> list[dict]:
    """Read the stream from `last_id` until an event about `until_object` arrives."""
    seen: list[dict] = []
    with (
        httpx.Client(timeout=30, cookies={"tms_console": cookie}) as client,
        client.stream(
            "GET", f"{url}/console/events", headers={"Last-Event-ID": str(last_id)}
        ) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        event: dict = {}
        for line in stream.iter_lines():
            if line.startswith("id: "):
                event["id"] = int(line[4:])
            elif line.startswith("event: "):
                event["event"] = line[7:]
            elif line.startswith("data: "):
                event["data"] = json.loads(line[6:])
            elif line == "" and event:
                seen.append(event)
                if event.get("data", {}).get("id") == until_object:
                    return seen
                event = {}
    raise AssertionError(f"the stream ended without {until_object}: {seen}")


def test_the_stream_sends_what_changed_after_the_last_event_seen(console, pg_db_url):
    cookie = _cookie(pg_db_url, SARAH)
    before = _latest(pg_db_url)
    lead_id = _new_lead(pg_db_url, "+61499555001")
    seen = _changes(console.url, cookie, before, until_object=lead_id)
    assert all(e["id"] > before for e in seen)
    created = [e for e in seen if e["data"]["id"] == lead_id]
    assert created[0]["event"] == "change" and created[0]["data"]["type"] == "LEAD"
    # What changed, never its content.
    assert set(created[0]["data"]) == {"type", "id", "action", "conversation"}


def test_the_stream_is_for_signed_in_sales_and_operations(console, pg_db_url):
    signed_out = httpx.get(f"{console.url}/console/events", timeout=30)
    assert signed_out.status_code == 204  # EventSource stops retrying
    guide = httpx.get(
        f"{console.url}/console/events",
        cookies={"tms_console": _cookie(pg_db_url, RAJESH)},
        timeout=30,
    )
    assert guide.status_code == 204


def test_a_backend_restart_loses_no_event(pg_migrated, pg_db_url, story_clock, tmp_path):
    with transaction(pg_db_url) as s:
        load(s)
    port = free_port()
    server, _ = start_backend(pg_migrated, tmp_path, workers=False, port=port)
    server.wait_ready(60)
    cookie = _cookie(pg_db_url, SARAH)
    seen_last = _latest(pg_db_url)
    server.stop()
    # While the backend is down, the product goes on (another instance, the scheduler...).
    lead_id = _new_lead(pg_db_url, "+61499555002")
    again, _ = start_backend(pg_migrated, tmp_path, workers=False, port=port)
    try:
        again.wait_ready(60)
        seen = _changes(f"http://127.0.0.1:{port}", cookie, seen_last, until_object=lead_id)
        assert [e for e in seen if e["data"]["id"] == lead_id]
    finally:
        again.stop()
