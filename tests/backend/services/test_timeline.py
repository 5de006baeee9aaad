"""The timeline is append-only in the database, and can be read by object, conversation, time."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DatabaseError

from backend import clock
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import ObjectType, Role, Source
from backend.models import Staff, TimelineEvent
from backend.services import contacts, timeline
from backend.services import staff as staff_service
from tests import factories
from tests.backend import event_kinds


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


# -- who reads what: every role × every event kind (tests/backend/event_kinds.py) ---------------
def _readers(session) -> dict[Role, Staff]:
    """One member per role, and the guide whose phone the staff-party kinds use."""
    staff_service.add_staff(
        session, name="Field guide", phone=event_kinds.STAFF_PHONE, roles=[Role.GUIDE], actor=SYSTEM
    )
    return {
        role: staff_service.add_staff(
            session, name=f"{role} reader", phone=f"+97798077700{n:02d}", roles=[role], actor=SYSTEM
        )[0]
        for n, role in enumerate(Role, start=10)
    }


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reads_the_event_kinds_the_table_gives_it(session, role):
    readers = _readers(session)
    recorded = event_kinds.record_all(session, "kinds")
    session.commit()
    reader = readers[role]
    expected = {i for i, kind in recorded.items() if event_kinds.may_read(kind, role)}
    everything = list(session.scalars(select(TimelineEvent).where(TimelineEvent.id.in_(recorded))))

    def wrong(seen: set[int]) -> list[str]:
        return sorted(
            f"{'shown' if i in seen else 'hidden'}: {recorded[i].label}"
            for i in set(recorded)
            if (i in seen) != (i in expected)
        )

    # In Python (events already loaded) and in SQL (pages and limits): the same answer.
    assert wrong({e.id for e in timeline.visible_to(reader, everything)}) == []
    latest = timeline.latest(session, reader=reader, limit=1000)
    assert wrong({e.id for e in latest if e.id in recorded}) == []
    since = min(recorded) - 1
    after = timeline.after(session, since, roles=reader.roles, limit=1000)
    assert wrong({e.id for e in after}) == []
    by_object = {
        e.id
        for i, kind in recorded.items()
        for e in timeline.for_object(
            session, kind.object_type, f"kinds-{i - min(recorded)}", reader=reader
        )
    }
    assert wrong(by_object) == []


def test_a_page_of_fifty_is_fifty_visible_events(session):
    readers = _readers(session)
    for n in range(60):
        _event(session, object_id=f"lead-{n}")
        _event(
            session,
            object_type=ObjectType.INCIDENT,
            object_id=f"inc-{n}",
            action="tms.incident.updated",
        )
    session.commit()
    page = timeline.latest(session, reader=readers[Role.SALES], limit=50)
    assert len(page) == 50 and {e.object_type for e in page} == {"LEAD"}
    assert len(timeline.latest(session, reader=readers[Role.OPS], limit=50)) == 50
