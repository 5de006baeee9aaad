"""The console's live parts: a Server-Sent Events stream of timeline events.

Every change the product makes lands on the timeline, so the stream is the timeline read
forward from the last event the browser saw (`Last-Event-ID`, or the id the page was rendered
at). Each stream ends after a while and the browser reconnects on its own, so nothing is lost
across a backend restart or a load balancer moving the browser to another instance, and a
shutdown never waits on an open stream. The events carry what changed, never its content:
the page fetches itself again to show it, with the same checks as any page."""

from __future__ import annotations

import asyncio
import json
import time

from sanic import Request, response
from sanic.response import HTTPResponse
from sqlalchemy import func, select

from backend.console.routes import console_bp
from backend.console.web import COOKIE
from backend.db import read_transaction, transaction
from backend.domain.enums import Role
from backend.models import TimelineEvent
from backend.services import staff_auth

STREAM_SECONDS = 25.0
POLL_SECONDS = 0.7
BATCH = 200
LIVE_ROLES = (Role.SALES, Role.OPS)


def _allowed(cookie: str | None) -> bool:
    # A write transaction: looking the session up may extend it.
    with transaction() as session:
        record = staff_auth.current_session(session, cookie)
        return record is not None and record.staff.has_role(*LIVE_ROLES)


def _after(last_id: int) -> list[tuple[int, str, str, str, str | None]]:
    with read_transaction() as session:
        if last_id <= 0:
            latest = session.scalar(select(func.max(TimelineEvent.id))) or 0
            return [(int(latest), "", "", "", None)]
        return [
            tuple(row)  # type: ignore[misc]
            for row in session.execute(
                select(
                    TimelineEvent.id,
                    TimelineEvent.object_type,
                    TimelineEvent.object_id,
                    TimelineEvent.action,
                    TimelineEvent.conversation_id,
                )
                .where(TimelineEvent.id > last_id)
                .order_by(TimelineEvent.id)
                .limit(BATCH)
            )
        ]


def _start_id(request: Request) -> int:
    raw = (request.headers.get("last-event-id") or request.args.get("after") or "0").strip()
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 19 else 0


@console_bp.get("/events")
async def events(request: Request) -> HTTPResponse | None:
    if not await asyncio.to_thread(_allowed, request.cookies.get(COOKIE)):
        # 204 tells EventSource to stop retrying: a signed-out page has nothing to follow.
        return response.empty(status=204)
    last_id = _start_id(request)
    stream = await request.respond(
        content_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
    await stream.send("retry: 1500\n\n")
    deadline = time.monotonic() + STREAM_SECONDS
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        rows = await asyncio.to_thread(_after, last_id)
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
        elif time.monotonic() - quiet_since > 10:
            await stream.send(": still here\n\n")
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_SECONDS)
    await stream.eof()
    return None


events.tms_roles = LIVE_ROLES  # type: ignore[attr-defined]
