"""The timeline is append-only in the database, and can be read by object, conversation, time."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DatabaseError

from backend import clock
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, Source
from backend.models import TimelineEvent
from backend.services import contacts, timeline
from tests import factories


def _event(session, **kw):
    defaults = dict(
        object_type=ObjectType.LEAD,
        object_id="lead-1",
        event_type="MESSAGE",
        action="tms.lead.message",
        actor=Actor(Source.WHATSAPP, phone="+9779801000001"),
    )
    defaults.update(kw)
    return timeline.record(session, **defaults)


def test_update_is_refused_by_the_database(session):
    event = _event(
        session, content={"text": "Initial enquiry for EBC Trek", "direction": "inbound"}
    )
    session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(
            update(TimelineEvent).where(TimelineEvent.id == event.id).values(event_type="X")
        )
        session.flush()
    session.rollback()
    assert session.get(TimelineEvent, event.id).event_type == "MESSAGE"


def test_delete_is_refused_by_the_database(session):
    event = _event(session)
    session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        session.execute(delete(TimelineEvent))
    session.rollback()
    assert session.get(TimelineEvent, event.id) is not None


def test_raw_sql_update_is_refused_too(session):
    _event(session)
    session.commit()
    with pytest.raises(DatabaseError):
        session.execute(text("UPDATE timeline_events SET content = '{}'"))
    session.rollback()


def test_the_workflow_json_shape(session):
    event = _event(
        session, content={"text": "Initial enquiry for EBC Trek", "direction": "inbound"}
    )
    session.commit()
    shape = event.as_dict()
    assert shape["objectType"] == "LEAD" and shape["eventType"] == "MESSAGE"
    assert shape["source"] == "WHATSAPP" and shape["actorPhone"] == "+9779801000001"
    assert shape["content"] == {"text": "Initial enquiry for EBC Trek", "direction": "inbound"}


def test_query_by_object_conversation_and_time(session):
    contact = factories.contact(session)
    conversation, opened = contacts.get_or_open_conversation(session, contact)
    assert opened
    start = datetime(2025, 3, 15, 4, 0, tzinfo=UTC)
    with clock.frozen(start) as c:
        first = _event(session, object_id="trip-1", object_type=ObjectType.TRIP)
        c.advance(minutes=5)
        second = _event(
            session,
            object_id="trip-1",
            object_type=ObjectType.TRIP,
            actor=Actor(Source.WHATSAPP, conversation_id=conversation.id),
        )
        c.advance(hours=2)
        third = _event(session, object_id="trip-2", object_type=ObjectType.TRIP)
    session.commit()
    assert [e.id for e in timeline.for_object(session, "TRIP", "trip-1")] == [first.id, second.id]
    assert second.id in [e.id for e in timeline.for_conversation(session, conversation.id)]
    window = timeline.between(session, start, start + timedelta(hours=1), object_type="TRIP")
    assert [e.id for e in window] == [first.id, second.id]
    assert third.id not in [e.id for e in window]


def test_times_come_back_timezone_aware_utc(session):
    at = datetime(2025, 3, 15, 6, 0, tzinfo=UTC)
    event = _event(session, occurred_at=at)
    session.commit()
    session.expire_all()
    loaded = session.get(TimelineEvent, event.id)
    assert loaded.occurred_at == at and loaded.occurred_at.tzinfo is not None
