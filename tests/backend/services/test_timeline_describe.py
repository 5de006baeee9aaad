"""What staff read of the timeline (`timeline.describe`): each event as a sentence naming who
did it, from the events the services really write, with the staff names read in one query."""

from __future__ import annotations

from sqlalchemy import event as sa_event

from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import ObjectType, Role, Source
from backend.services import leads, timeline
from tests import factories


def _staff_actor(member) -> Actor:
    return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


def test_a_quoted_lead_reads_as_sentences_with_the_reps_name(session, frozen_clock):
    product = factories.ebc(session)
    departure = factories.departure(session, product)
    sarah = factories.staff(session, "Sarah Gurung", Role.SALES)
    contact = factories.contact(session, name="Maya Lindqvist")
    lead = leads.create_lead(session, contact=contact, product=product, party_size=3, actor=SYSTEM)
    leads.quote_lead(session, lead, departure, 3, _staff_actor(sarah))
    session.flush()
    events = timeline.for_object(session, ObjectType.LEAD, lead.id)
    said = timeline.describe(session, events)
    assert [said[e.id] for e in events] == [
        f"New lead {lead.reference} from the system: EBC for 3 travellers",
        "The system assigned the lead to Sarah Gurung",
        "Sarah Gurung quoted $6,840 for 3 travellers on the 2025-03-15 departure",
    ]


def test_a_guide_writing_on_whatsapp_is_named_and_a_customer_is_the_customer(session):
    rajesh = factories.staff(session, "Rajesh Thapa", Role.GUIDE)
    written = [
        timeline.record(
            session,
            object_type=ObjectType.TRIP,
            object_id="trip-1",
            event_type="UPDATE",
            action="tms.trip.field_update",
            actor=Actor(Source.WHATSAPP, phone=phone),
            content={"text": "at Namche"},
        )
        for phone in (rajesh.phone, "+61499123456")
    ]
    session.flush()
    said = timeline.describe(session, written)
    assert said[written[0].id] == "Rajesh Thapa sent an update: “at Namche”"
    assert said[written[1].id] == "The customer sent an update: “at Namche”"


def test_a_staff_id_nobody_has_reads_as_a_plainer_sentence(session):
    assigned = timeline.record(
        session,
        object_type=ObjectType.LEAD,
        object_id="lead-1",
        event_type="ASSIGNED",
        action="tms.lead.assigned",
        actor=SYSTEM,
        content={"from": None, "to": "no-such-staff"},
    )
    session.flush()
    assert timeline.describe(session, [assigned]) == {assigned.id: "The system assigned the lead"}


def test_the_staff_names_of_many_events_are_read_in_one_query(session):
    members = [factories.staff(session, f"Rep {n}", Role.SALES) for n in range(5)]
    product = factories.ebc(session)
    written = [
        timeline.record(
            session,
            object_type=ObjectType.PRODUCT,
            object_id=product.id,
            event_type="CHANGED",
            action="tms.product.changed",
            actor=_staff_actor(member),
            content={"name": {"from": "a", "to": "b"}},
        )
        for member in members
    ]
    session.flush()
    statements: list[str] = []
    bind = session.get_bind()

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(bind, "before_cursor_execute", count)
    try:
        said = timeline.describe(session, written)
    finally:
        sa_event.remove(bind, "before_cursor_execute", count)
    assert len(statements) == 1, statements
    assert [said[e.id] for e in written] == [
        f"Rep {n} changed the product's name" for n in range(5)
    ]
    assert timeline.describe(session, []) == {}
