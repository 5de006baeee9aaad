"""The auditable timeline: write an event, read by object, by conversation or by time range.

Staff read it through `reader=`: a reader sees only the events of the areas their roles may
see (`backend.domain.access`), filtered in SQL so that a page of 50 is 50 visible events.
Without a reader (the product's own code) every event is returned.

`describe` gives each event the sentence staff read ("Sarah quoted $6,840 for 3 travellers"),
declared with its code in `backend.domain.timeline_actions`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import Session, object_session

from backend import clock
from backend.domain import access, timeline_actions
from backend.domain.access import ABOUT_OBJECT, Area
from backend.domain.actor import Actor
from backend.domain.enums import Role
from backend.models import Staff, TimelineEvent


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


def for_object(
    session: Session, object_type: str, object_id: str, *, reader: Staff | None = None
) -> list[TimelineEvent]:
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.object_type == str(object_type), TimelineEvent.object_id == object_id)
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    )
    return list(session.scalars(_for_reader(query, reader)))


def for_conversation(
    session: Session, conversation_id: str, *, reader: Staff | None = None
) -> list[TimelineEvent]:
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.conversation_id == conversation_id)
        .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
    )
    return list(session.scalars(_for_reader(query, reader)))


def latest(session: Session, *, reader: Staff | None, limit: int = 50) -> list[TimelineEvent]:
    """The `limit` latest events the reader may see, newest first."""
    query = select(TimelineEvent).order_by(TimelineEvent.id.desc()).limit(limit)
    return list(session.scalars(_for_reader(query, reader)))


def after(
    session: Session, last_id: int, *, roles: Iterable[Role | str], limit: int = 200
) -> list[TimelineEvent]:
    """Events with an id above `last_id` that someone holding `roles` may see, oldest first
    (the live stream: it knows the reader's roles, re-read at every batch)."""
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.id > last_id, visible_clause(roles))
        .order_by(TimelineEvent.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def between(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    object_type: str | None = None,
    limit: int = 1000,
    reader: Staff | None = None,
) -> list[TimelineEvent]:
    """Events with start <= occurred_at < end, oldest first."""
    query = select(TimelineEvent).where(
        TimelineEvent.occurred_at >= start, TimelineEvent.occurred_at < end
    )
    if object_type:
        query = query.where(TimelineEvent.object_type == str(object_type))
    query = query.order_by(TimelineEvent.occurred_at, TimelineEvent.id).limit(limit)
    return list(session.scalars(_for_reader(query, reader)))


def recent_by_action(
    session: Session, action: str, *, limit: int = 50, reader: Staff | None = None
) -> list[TimelineEvent]:
    """The latest events of one kind, newest first (e.g. questions nobody could answer)."""
    query = (
        select(TimelineEvent)
        .where(TimelineEvent.action == action)
        .order_by(TimelineEvent.occurred_at.desc(), TimelineEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(_for_reader(query, reader)))


# -- what staff read -------------------------------------------------------------------------
def describe(session: Session, events: Sequence[TimelineEvent]) -> dict[int, str]:
    """Each event's sentence, by event id. The staff members the events name (who acted, by
    id or by phone, and a content field holding a staff id) are read in one query."""
    ids: set[str] = set()
    phones: set[str] = set()
    for event in events:
        if event.actor_staff_id:
            ids.add(event.actor_staff_id)
        if event.actor_phone:
            phones.add(event.actor_phone)
        ids.update(_staff_ids_in(event))
    by_id: dict[str, str] = {}
    by_phone: dict[str, str] = {}
    if ids or phones:
        for staff_id, phone, name in session.execute(
            select(Staff.id, Staff.phone, Staff.name).where(
                or_(Staff.id.in_(ids), Staff.phone.in_(phones))
            )
        ):
            by_id[staff_id], by_phone[phone] = name, name
    said: dict[int, str] = {}
    for event in events:
        named = by_id.get(event.actor_staff_id or "") or by_phone.get(event.actor_phone or "")
        actor = timeline_actions.actor_words(event.source, event.actor_phone, named)
        content = dict(_content(event))
        for key in _staff_fields(event):
            content[key] = by_id.get(str(content.get(key)))  # no name: a plainer sentence
        said[event.id] = timeline_actions.sentence(event.action, content, actor)
    return said


def _content(event: TimelineEvent) -> dict[str, Any]:
    return event.content if isinstance(event.content, dict) else {}


def _staff_fields(event: TimelineEvent) -> tuple[str, ...]:
    entry = timeline_actions.action_for(event.action)
    return entry.staff_fields if entry is not None else ()


def _staff_ids_in(event: TimelineEvent) -> set[str]:
    content = _content(event)
    return {str(content[key]) for key in _staff_fields(event) if content.get(key)}


# -- who may read what -------------------------------------------------------------------------
def area_of(event: TimelineEvent, staff_phones: frozenset[str]) -> Area | None:
    """The event's area (None: an unknown kind, ADMIN only)."""
    content = event.content if isinstance(event.content, dict) else {}
    purpose = content.get("purpose")
    to = content.get("to")
    return access.area_of(
        event.object_type,
        event.action,
        purpose=purpose if isinstance(purpose, str) else None,
        staff_party=event.actor_phone in staff_phones
        or (isinstance(to, str) and to in staff_phones),
    )


def visible_to(
    reader: Staff, events: Sequence[TimelineEvent], session: Session | None = None
) -> list[TimelineEvent]:
    """The events `reader` may see, in the order given. The same rule as `visible_clause`."""
    if reader.has_role(Role.ADMIN):
        return list(events)
    session = session or object_session(reader)
    assert session is not None, "visible_to needs the reader's session (or one given)"
    phones = frozenset(session.scalars(select(Staff.phone)))
    roles = reader.roles
    return [e for e in events if access.may_see(roles, area_of(e, phones))]


def _for_reader(query: Select[Any], reader: Staff | None) -> Select[Any]:
    return query if reader is None else query.where(visible_clause(reader.roles))


def _staff_party() -> ColumnElement[bool]:
    """The event is a conversation with a staff member: they sent it, or it was sent to them.
    (COALESCE: a NULL would make `NOT staff_party` NULL, and hide a customer's message.)"""
    return or_(
        func.coalesce(TimelineEvent.actor_phone, "").in_(select(Staff.phone)),
        func.coalesce(TimelineEvent.content["to"].as_string(), "").in_(select(Staff.phone)),
    )


def _area_clause(area: Area, seen: frozenset[Area]) -> ColumnElement[bool]:
    """Whether an event filed under `area` is visible, given the areas the reader sees (a
    customer-conversation event with a staff party is a staff message: `access.area_of`)."""
    if area is Area.MESSAGES:
        if Area.MESSAGES in seen and Area.STAFF_MESSAGES in seen:
            return true()
        if Area.MESSAGES in seen:
            return ~_staff_party()
        if Area.STAFF_MESSAGES in seen:
            return _staff_party()
        return false()
    return true() if area in seen else false()


def visible_clause(roles: Iterable[Role | str]) -> ColumnElement[bool]:
    """A WHERE clause on TimelineEvent: the events someone holding `roles` may see. Built from
    `backend.domain.access`, as `visible_to` is; unknown kinds match nothing (ADMIN only)."""
    held = [Role(r) for r in roles]
    if Role.ADMIN in held:
        return true()
    seen = access.areas_for(held)
    action = TimelineEvent.action
    purpose = TimelineEvent.content["purpose"].as_string()
    parts: list[ColumnElement[bool]] = []
    for key, area in access.EVENT_AREAS.items():
        matches = action.startswith(key, autoescape=True) if key.endswith(".") else action == key
        if area is not ABOUT_OBJECT:
            parts.append(and_(matches, _area_clause(area, seen)))
            continue
        by_purpose = [
            and_(purpose == name, _area_clause(a, seen)) for name, a in access.PURPOSE_AREAS.items()
        ]
        by_object = [
            and_(TimelineEvent.object_type == str(kind), _area_clause(a, seen))
            for kind, a in access.OBJECT_AREAS.items()
        ]
        no_purpose = or_(purpose.is_(None), purpose.not_in(list(access.PURPOSE_AREAS)))
        parts.append(and_(matches, or_(*by_purpose, and_(no_purpose, or_(*by_object)))))
    return or_(*parts) if parts else false()
