"""A burst queued faster than PostgreSQL's statistics follow (a broadcast, a flood of webhooks)
is claimed by looking each candidate's party up on its index, not by a pass over the whole
queue for every row (which took 1.6 s per claim at 4,000 queued): the checks are hashed once."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import create_engine, event, text

from backend.db import transaction
from backend.models import OutboundMessage
from backend.services import contacts, outbox
from backend.whatsapp import sender

BURST = 600


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found += _nodes(child)
    return found


def test_a_burst_queued_before_the_statistics_catch_up_is_claimed_in_linear_time(pg_db_url):
    engine = create_engine(pg_db_url)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE outbound_messages"))  # the statistics say: empty
    engine.dispose()
    with transaction() as s:
        for n in range(BURST):
            phone = f"+6141300{n:04d}"
            contact = contacts.get_or_create_contact(s, phone)
            outbox.enqueue_text(s, to_phone=phone, contact_id=contact.id, body="news", purpose="x")
        # A second message to the first recipients: it must wait behind their first.
        for n in range(5):
            outbox.enqueue_text(s, to_phone=f"+6141300{n:04d}", body="more", purpose="x")

    statements: list[tuple[str, Any, str]] = []
    with transaction() as s:
        bind = s.connection()

        @event.listens_for(bind, "before_cursor_execute")
        def keep(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if "FOR UPDATE" in statement:
                # The statement and the planner settings it runs with.
                nestloop = cursor.connection.execute("SHOW enable_nestloop").fetchone()[0]
                statements.append((statement, parameters, nestloop))

        ids = sender.claim(s, 100)
        claimed = [(r.recipient_phone, r.body) for r in map(s.get, [OutboundMessage] * 100, ids)]
        cursor = bind.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        statement, parameters, nestloop = statements[0]
        cursor.execute(f"SET LOCAL enable_nestloop = {nestloop}")  # as the claim ran it
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
        raw = cursor.fetchone()[0]
        plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
        s.rollback()

    # The oldest row of 100 different recipients, in queue order.
    assert len({phone for phone, _ in claimed}) == 100
    assert [body for _, body in claimed] == ["news"] * 100
    assert ids == sorted(ids)
    joins = {(n["Node Type"], n.get("Join Type")) for n in _nodes(plan) if "Join Type" in n}
    assert joins == {("Hash Join", "Anti")}, joins  # not a loop over the queue per row
    # The claim leaves the planner as it found it for the rest of the transaction.
    with transaction() as s:
        sender.claim(s, 1)
        assert s.execute(text("SHOW enable_nestloop")).scalar() == "on"
