"""The console's live stream (`GET /console/events`): what changed after the last event the
browser saw, for signed-in sales and operations staff only, and nothing lost across a backend
restart (the browser reconnects with Last-Event-ID)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backend.console import live
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.models import Staff, TimelineEvent
from backend.services import catalog, contacts, leads, staff_auth, timeline
from backend.services import staff as staff_service
from devkit.demo_data import load
from tests.backend import event_kinds
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


# -- least privilege: the stream sends each role only what it may read --------------------------
def _member_cookie(db: str, phone: str, roles: list[Role]) -> tuple[str, str]:
    """(cookie, staff id) of a new member holding `roles`, signed in."""
    with transaction(db) as s:
        member, _ = staff_service.add_staff(
            s, name="Reader", phone=phone, roles=roles, actor=SYSTEM
        )
        return staff_auth.open_session(s, member, how="test").cookie, member.id


@pytest.mark.parametrize("role", [Role.SALES, Role.OPS, Role.ADMIN])
def test_the_stream_sends_each_role_only_the_event_kinds_it_may_read(console, pg_db_url, role):
    with transaction(pg_db_url) as s:
        staff_service.add_staff(
            s, name="Field guide", phone=event_kinds.STAFF_PHONE, roles=[Role.GUIDE], actor=SYSTEM
        )
    cookie, _ = _member_cookie(pg_db_url, "+9779807770101", [role])
    before = _latest(pg_db_url)
    with transaction(pg_db_url) as s:
        recorded = event_kinds.record_all(s, "live")
        # Then one every role reads, to know the stream has gone past all of them.
        timeline.record(
            s,
            object_type="BOOKING",
            object_id="live-end",
            event_type="TEST",
            action="tms.booking.created",
            actor=SYSTEM,
        )
    expected = {i for i, kind in recorded.items() if event_kinds.may_read(kind, role)}
    seen = {e["id"] for e in _changes(console.url, cookie, before, until_object="live-end")}
    wrong = sorted(
        f"{'shown' if i in seen else 'hidden'}: {recorded[i].label}"
        for i in recorded
        if (i in seen) != (i in expected)
    )
    assert wrong == []


# -- the session is checked at every event; a few streams per session --------------------------
def _open_stream(url: str, cookie: str, last_id: int) -> tuple[httpx.Client, Any]:
    client = httpx.Client(timeout=30, cookies={"tms_console": cookie})
    stream = client.stream("GET", f"{url}/console/events", headers={"Last-Event-ID": str(last_id)})
    return client, stream


def _read_until_closed(lines: Any, deadline: float) -> list[str]:
    """The object ids the stream sent before it ended (fails if it is open at `deadline`)."""
    ids = []
    for line in lines:
        if line.startswith("data: "):
            ids.append(json.loads(line[6:])["id"])
        assert time.monotonic() < deadline, "the stream went on after the session ended"
    assert time.monotonic() < deadline, "the stream went on after the session ended"
    return ids


@pytest.mark.parametrize("how", ["signed out", "deactivated"])
def test_an_open_stream_stops_when_the_session_ends(console, pg_db_url, how):
    cookie, member_id = _member_cookie(pg_db_url, "+9779807770102", [Role.SALES])
    first = _new_lead(pg_db_url, "+61499555010")
    before = _latest(pg_db_url) - 1
    client, request = _open_stream(console.url, cookie, before)
    with client, request as stream:
        assert stream.status_code == 200
        lines = stream.iter_lines()
        for line in lines:  # the stream is live: the first lead's event arrives
            if line.startswith("data: ") and json.loads(line[6:])["id"] == first:
                break
        with transaction(pg_db_url) as s:
            if how == "signed out":
                staff_auth.end_session(s, staff_auth.current_session(s, cookie))
            else:
                staff_service.deactivate(s, s.get(Staff, member_id), SYSTEM)
        after = _new_lead(pg_db_url, "+61499555011")
        # It ends at the next poll (0.7 s), long before the stream's own 25 s.
        sent = _read_until_closed(lines, time.monotonic() + 10)
    assert after not in sent
    assert (
        httpx.get(
            f"{console.url}/console/events", cookies={"tms_console": cookie}, timeout=30
        ).status_code
        == 204
    )


def test_one_session_holds_at_most_three_streams(console, pg_db_url):
    cookie, _ = _member_cookie(pg_db_url, "+9779807770103", [Role.OPS])
    other, _ = _member_cookie(pg_db_url, "+9779807770104", [Role.OPS])
    last = _latest(pg_db_url)
    opened = [_open_stream(console.url, cookie, last) for _ in range(live.STREAMS_PER_SESSION)]
    streams = [request.__enter__() for _, request in opened]
    try:
        assert [s.status_code for s in streams] == [200] * live.STREAMS_PER_SESSION
        fourth = httpx.get(
            f"{console.url}/console/events", cookies={"tms_console": cookie}, timeout=30
        )
        assert fourth.status_code == 429 and fourth.headers["retry-after"]
        # Another session is not affected.
        client, request = _open_stream(console.url, other, last)
        with client, request as elsewhere:
            assert elsewhere.status_code == 200
    finally:
        for client, request in opened:
            request.__exit__(None, None, None)
            client.close()
    # A closed stream frees its place within a few heartbeats (the server notices the closed
    # connection when a write fails; wait on that, not on a fixed time).
    deadline = time.monotonic() + 3 * live.HEARTBEAT_SECONDS + 5
    while True:
        client, request = _open_stream(console.url, cookie, last)
        with client, request as again:
            if again.status_code == 200:
                break
        assert time.monotonic() < deadline, "a closed stream never gave its place back"
        time.sleep(0.2)
