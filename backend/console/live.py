"""The console's live parts: a Server-Sent Events stream of timeline events.

Every change the product makes lands on the timeline, so the stream is the timeline read
forward from the last event the browser saw (`Last-Event-ID`, or the id the page was rendered
at). Each stream ends after a while and the browser reconnects on its own, so nothing is lost
across a backend restart or a load balancer moving the browser to another instance, and a
shutdown never waits on an open stream. The events carry what changed, never its content:
the page fetches itself again to show it, with the same checks as any page.

A stream sends only the events the reader's roles may see (`timeline.after`, from the table
in backend/domain/access.py), and looks the session up again before every batch it sends: a
member signed out, ended elsewhere, deactivated or stripped of a role stops getting events at
the next one. One session holds at most `STREAMS_PER_SESSION` streams at a time."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sanic import Request, response
from sanic.response import HTTPResponse
from sqlalchemy import func, select

from backend.console.web import COOKIE, console_bp, console_cookie
from backend.db import read_transaction
from backend.domain.enums import Role
from backend.models import TimelineEvent
from backend.services import staff_auth, timeline

STREAM_SECONDS = 25.0
POLL_SECONDS = 0.7
# While the request is being answered the server does not read from the connection, so a tab
# that went away is noticed only when a write fails (the second after the close). A comment
# line this often frees a closed stream's place within seconds: a rep moving from page to
# page never finds their streams used up by the pages they left.
HEARTBEAT_SECONDS = 2.0
BATCH = 200
LIVE_ROLES = (Role.SALES, Role.OPS)
STREAMS_PER_SESSION = 3

# Open streams per session id. Counted in this process only: with several backend processes
# a session may hold this many streams in each. Enough to stop one session (a stolen cookie,
# a runaway script) from tying up a process's connections; the per-address rate limits at the
# proxy bound the rest.
_open: Counter[str] = Counter()

Row = tuple[int, str, str, str, str | None]


def _allowed(cookie: str | None) -> str | None:
    """The session's id when its member may follow the stream, else None."""
    with read_transaction() as session:
        record = staff_auth.current_session(session, cookie, extend=False)
        ok = record is not None and record.staff.has_role(*LIVE_ROLES)
        return record.id if ok and record is not None else None


def _after(cookie: str | None, last_id: int) -> list[Row] | None:
    """The events after `last_id` the session's member may see now, or None when the session
    is no longer live (signed out, expired, ended, member deactivated or without the roles).

    Read-only (rolled back): a stream left open in a tab never keeps an idle session alive."""
    with read_transaction() as session, session.no_autoflush:
        record = staff_auth.current_session(session, cookie, extend=False)
        if record is None or not record.staff.has_role(*LIVE_ROLES):
            return None
        if last_id <= 0:
            latest = session.scalar(select(func.max(TimelineEvent.id))) or 0
            return [(int(latest), "", "", "", None)]
        return [
            (e.id, e.object_type, e.object_id, e.action, e.conversation_id)
            for e in timeline.after(session, last_id, roles=record.staff.roles, limit=BATCH)
        ]


@contextmanager
def _counted(session_id: str) -> Iterator[bool]:
    """Yields whether this session may open one more stream; counts it while open."""
    if _open[session_id] >= STREAMS_PER_SESSION:
        yield False
        return
    _open[session_id] += 1
    try:
        yield True
    finally:
        _open[session_id] -= 1
        if _open[session_id] <= 0:
            del _open[session_id]


def _start_id(request: Request) -> int:
    raw = (request.headers.get("last-event-id") or request.args.get("after") or "0").strip()
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 19 else 0


@console_bp.get("/events")
async def events(request: Request) -> HTTPResponse | None:
    cookie = console_cookie(request, COOKIE)
    session_id = await asyncio.to_thread(_allowed, cookie)
    if session_id is None:
        # 204 tells EventSource to stop retrying: a signed-out page has nothing to follow.
        return response.empty(status=204)
    with _counted(session_id) as may_open:
        if not may_open:
            return response.text(
                "Too many live streams for this session; close a tab.",
                status=429,
                headers={"Retry-After": str(int(STREAM_SECONDS))},
            )
        await _follow(request, cookie)
        return None


async def _follow(request: Request, cookie: str | None) -> None:
    last_id = _start_id(request)
    stream = await request.respond(
        content_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    await stream.send("retry: 1500\n\n")
    deadline = time.monotonic() + STREAM_SECONDS
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        rows = await asyncio.to_thread(_after, cookie, last_id)
        if rows is None:
            break  # the session ended: the next reconnect gets 204 and stops
        if last_id <= 0:
            last_id = rows[0][0]
            await stream.send(f"id: {last_id}\nevent: hello\ndata: {{}}\n\n")
            continue
        for event_id, object_type, object_id, action, conversation_id in rows:
            data = json.dumps(
                {
                    "type": object_type,
                    "id": object_id,
                    "action": action,
                    "conversation": conversation_id,
                }
            )
            await stream.send(f"id: {event_id}\nevent: change\ndata: {data}\n\n")
            last_id = event_id
        if rows:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > HEARTBEAT_SECONDS:
            await stream.send(": still here\n\n")
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)
    await stream.eof()
    return None


events.tms_roles = LIVE_ROLES  # type: ignore[attr-defined]
