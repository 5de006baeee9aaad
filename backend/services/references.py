"""Allocating reference numbers inside the caller's transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend import clock
from backend.db import is_sqlite
from backend.domain import references
from backend.models import ReferenceCounter


def next_sequence(session: Session, prefix: str) -> int:
    """The next number for `prefix`; the counter row stays locked until the transaction ends,
    so two transactions can never get the same number."""
    insert = sqlite_insert if is_sqlite(session) else pg_insert
    session.execute(
        insert(ReferenceCounter)
        .values(prefix=prefix, last_value=0)
        .on_conflict_do_nothing(index_elements=["prefix"])
    )
    value = session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.prefix == prefix)
        .values(last_value=ReferenceCounter.last_value + 1)
        .returning(ReferenceCounter.last_value)
    ).scalar_one()
    return int(value)


def allocate(session: Session, code: str, on: date | None = None) -> tuple[str, int]:
    """(prefix, sequence) for a new lead, booking or trip of `code` (product code or TRP)."""
    prefix = references.counter_prefix(code, on or clock.local_today())
    return prefix, next_sequence(session, prefix)


def current_value(session: Session, prefix: str) -> int:
    return (
        session.scalar(select(ReferenceCounter.last_value).where(ReferenceCounter.prefix == prefix))
        or 0
    )
