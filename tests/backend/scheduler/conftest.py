"""A timer service on the test database, paused: tests move the clock and run what is due."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

import pytest_asyncio
from sqlalchemy import select

from backend.db import transaction
from backend.models import OutboundMessage
from backend.scheduler.service import TimerService

T = TypeVar("T")


@pytest_asyncio.fixture
async def timers_service(db_url: str) -> AsyncIterator[TimerService]:
    service = TimerService(url=db_url, event_loop=asyncio.get_running_loop())
    yield service
    service.shutdown()
    await asyncio.sleep(0)


def messages(db_url: str, purpose: str | None = None) -> list[OutboundMessage]:
    with transaction(db_url) as session:
        query = select(OutboundMessage).order_by(OutboundMessage.id)
        if purpose is not None:
            query = query.where(OutboundMessage.purpose == purpose)
        return list(session.scalars(query))


def job_ids(service: TimerService) -> set[str]:
    return set(service.store.run_times())


def reload(db_url: str, model: type[T], object_id: str) -> T:
    """A fresh copy read in its own short transaction. Tests read this way rather than through
    their own session: on SQLite an open transaction holds the write lock that the
    scheduler's transactions need."""
    with transaction(db_url) as session:
        obj = session.get(model, object_id)
        assert obj is not None
        return obj
