"""What the inbox and the outbox share: claiming rows in each party's order under a lease
with a token, and the back-off between attempts.

A claim hands out, for up to `limit` parties (senders or recipients), the oldest row that is
due, when no earlier row of that party is unfinished and no other worker holds one of theirs,
so each party's messages are handled in order. `FOR UPDATE SKIP LOCKED` lets several workers
claim at once on PostgreSQL. The claim writes a fresh token on every row it takes: whoever
records an outcome later must still hold that token (`held_rows`), so a worker whose lease
ran out cannot overwrite what the next holder did.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, exists, or_, select, text
from sqlalchemy.orm import Session, aliased

from backend.models import InboundMessage, MediaAttachment, OutboundEmail, OutboundMessage

Row = TypeVar("Row", InboundMessage, OutboundMessage, OutboundEmail, MediaAttachment)


def new_lease_token() -> str:
    return uuid.uuid4().hex


def backoff(attempts: int, *, floor: float = 1.0, ceiling: float = 300.0) -> timedelta:
    """`floor`, then 2, 4, 8 … seconds after the attempts so far, at most `ceiling`."""
    return timedelta(seconds=max(floor, min(2.0 ** max(attempts, 1), ceiling)))


def claim_in_order(
    session: Session,
    model: type[Row],
    party: str,
    *,
    due: ColumnElement[bool],
    unfinished: Sequence[str],
    held_by_other: Callable[[Any], ColumnElement[bool]] | None,
    limit: int,
    position: Callable[[Any], ColumnElement[int]] | None = None,
) -> list[Row]:
    """The next due row of up to `limit` parties, oldest first, locked for this transaction.

    `due`: a row that may be handed out now; `unfinished`: the statuses that keep a party's
    later rows waiting behind an earlier one; `held_by_other(alias)`: a row of the party that
    another worker holds right now (the party waits for it); `position(alias)`: a row's place
    in its party's order (its id unless given: a row queued in place of an earlier one takes
    that one's place)."""
    column: Any = getattr(model, party)
    earlier = aliased(model)
    place = position or (lambda alias: alias.id)
    conditions = [
        due,
        ~exists().where(
            getattr(earlier, party) == column,
            earlier.status.in_(list(unfinished)),
            place(earlier) < place(model),
        ),
    ]
    if held_by_other is not None:
        busy = aliased(model)
        conditions.append(~exists().where(getattr(busy, party) == column, held_by_other(busy)))
    query = (
        select(model)
        .where(and_(*conditions))
        .order_by(place(model), model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if session.get_bind().dialect.name != "postgresql":
        return list(session.scalars(query))
    # A burst queued faster than autovacuum refreshes the statistics (a broadcast, a flood of
    # webhooks) looks like an empty queue to the planner, which then checks "an earlier row of
    # this party" with a nested loop over the whole queue for every row: quadratic, 1.6 s per
    # claim at 4,000 queued. Without nested loops the checks are one hash of the unfinished
    # rows: linear in the queue whatever the statistics say (2.5 ms at 4,000).
    session.execute(text("SET LOCAL enable_nestloop = off"))
    try:
        return list(session.scalars(query))
    finally:
        session.execute(text("SET LOCAL enable_nestloop = on"))


def lease(rows: Sequence[Row], now: datetime, duration: timedelta) -> str:
    """Lease `rows` to the caller until `now + duration`; returns the lease's token."""
    token = new_lease_token()
    for row in rows:
        row.lease_token = token
        row.next_attempt_at = now + duration
    return token


def held_rows(session: Session, model: type[Row], ids: Sequence[int], token: str) -> dict[int, Row]:
    """The rows of `ids` still held under `token`, locked: only these may be recorded."""
    if not ids:
        return {}
    query = (
        select(model).where(model.id.in_(list(ids)), model.lease_token == token).with_for_update()
    )
    return {int(row.id): row for row in session.scalars(query)}


def due_or_lapsed(model: type[Any], now: datetime, *, waiting: str, working: str | None) -> Any:
    """Rows waiting whose time has come, and rows whose worker's lease ran out (it died)."""
    waiting_due = and_(
        model.status == waiting, or_(model.next_attempt_at.is_(None), model.next_attempt_at <= now)
    )
    if working is None:
        return waiting_due
    return or_(waiting_due, and_(model.status == working, model.next_attempt_at <= now))


def failed_rows(
    session: Session,
    model: type[Row],
    *,
    failed: str,
    when: Any,
    ids: Sequence[int] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    extra: ColumnElement[bool] | None = None,
) -> list[Row]:
    """The FAILED rows chosen for a retry (by id, by `when` from `since` until `until`, or all
    when nothing narrows it), oldest first, locked."""
    query = select(model).where(model.status == failed)
    if extra is not None:
        query = query.where(extra)
    if ids:
        query = query.where(model.id.in_(list(ids)))
    if since is not None:
        query = query.where(when >= since)
    if until is not None:
        query = query.where(when < until)
    return list(session.scalars(query.order_by(model.id).with_for_update()))
