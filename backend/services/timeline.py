"""The auditable timeline: write an event, read by object, by conversation or by time range."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import Actor
from backend.models import TimelineEvent


def record(
    session: Session,
    *,
    object_type: str,
    object_id: str,
    event_type: str,
    action: str,
    actor: Actor,
    content: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> TimelineEvent:
    """Append one event. Never updated or deleted afterwards."""
    event = TimelineEvent(
        object_type=str(object_type),
        object_id=str(object_id),
        event_type=event_type,
        action=action,
        source=str(actor.source),
        actor_phone=actor.phone,
        actor_staff_id=actor.staff_id,
        conversation_id=actor.conversation_id,
        content=content or {},
        occurred_at=occurred_at or clock.now(),
    )
    session.add(event)
    return event


def for_object(session: Session, object_type: str, object_id: str) -> list[TimelineEvent]:
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.object_type == str(object_type), TimelineEvent.object_id == object_id)
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    )
    return list(session.scalars(query))


def for_conversation(session: Session, conversation_id: str) -> list[TimelineEvent]:
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.conversation_id == conversation_id)
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    )
    return list(session.scalars(query))


def between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    object_type: str | None = None,
    limit: int = 1000,
) -> list[TimelineEvent]:
    """Events with start <= occurred_at < end, oldest first."""
    query = select(TimelineEvent).where(
        TimelineEvent.occurred_at >= start, TimelineEvent.occurred_at < end
    )
    if object_type:
        query = query.where(TimelineEvent.object_type == str(object_type))
    query = query.order_by(TimelineEvent.occurred_at, TimelineEvent.id).limit(limit)
    return list(session.scalars(query))


def recent_by_action(session: Session, action: str, *, limit: int = 50) -> list[TimelineEvent]:
    """The latest events of one kind, newest first (e.g. questions nobody could answer)."""
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.action == action)
        .order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
