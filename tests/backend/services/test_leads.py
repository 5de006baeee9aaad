"""Workflow 1 steps 1-3 in the services: lead, round-robin rep, quote, hold from the quote."""

import pytest
from sqlalchemy import select

from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import BookingStatus, LeadStatus, Role, Source
from backend.domain.errors import DomainError, NotEnoughSeats, NotFound
from backend.models import Booking
from backend.services import inventory, leads, timeline
from tests import factories


def test_lead_gets_a_reference_and_a_round_robin_rep(session, frozen_clock):
    product = factories.ebc(session)
    sarah = factories.staff(session, "Sarah Gurung", Role.SALES)
    tom = factories.staff(session, "Tom Rai", Role.SALES)
    factories.staff(session, "Rajesh Kumar", Role.GUIDE)
    made = []
    for _ in range(3):
        made.append(
            leads.create_lead(
                session,
                contact=factories.contact(session),
                product=product,
                actor=SYSTEM,
                party_size=3,
                travel_date_text="March 2025",
            )
        )
        frozen_clock.advance(seconds=1)
    assert [lead.reference for lead in made] == ["EBC2412001", "EBC2412002", "EBC2412003"]
    assert [lead.assigned_staff_id for lead in made] == [sarah.id, tom.id, sarah.id]
    assert all(lead.status == LeadStatus.NEW for lead in made)


def test_unavailable_reps_are_skipped(session, frozen_clock):
    product = factories.ebc(session)
    away = factories.staff(session, "Away Rep", Role.SALES)
    away.available = False
    here = factories.staff(session, "Here Rep", Role.SALES)
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=product, actor=SYSTEM
    )
    assert lead.assigned_staff_id == here.id


def test_quote_then_hold_converts_the_lead_into_a_held_booking(session, frozen_clock):
    product = factories.ebc(session)
    dep = factories.departure(session, product)
    rep = factories.staff(session, "Sarah Gurung", Role.SALES)
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=product, actor=SYSTEM, party_size=3
    )
    quote = leads.quote_lead(session, lead, dep, 3, Actor(Source.ADMIN, staff_id=rep.id))
    assert (quote.total.format(), quote.deposit.format()) == ("$6,840", "$2,052")
    assert lead.status == LeadStatus.QUOTED
    booking = leads.hold_from_quote(session, lead, Actor(Source.ADMIN, staff_id=rep.id))
    assert booking.reference == lead.reference[:3] + "-" + lead.reference[3:]
    assert booking.status == BookingStatus.HELD and lead.status == LeadStatus.WON
    assert (booking.total_minor, booking.deposit_minor) == (6_840_00, 2_052_00)
    assert inventory.seat_counts(session, dep).held == 3
    actions = [e.action for e in timeline.for_object(session, "LEAD", lead.id)]
    assert "tms.lead.status.quoted" in actions and "tms.lead.status.won" in actions
    departure_events = [e.action for e in timeline.for_object(session, "DEPARTURE", dep.id)]
    assert "tms.departure.hold.created" in departure_events


def test_hold_without_a_quote_is_refused_and_writes_nothing(session, frozen_clock):
    product = factories.ebc(session)
    factories.departure(session, product)
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=product, actor=SYSTEM
    )
    with pytest.raises(DomainError, match="no quote"):
        leads.hold_from_quote(session, lead, SYSTEM)
    assert lead.status == LeadStatus.NEW
    assert session.scalar(select(Booking)) is None


def test_hold_when_seats_are_gone_leaves_the_lead_quoted(session, frozen_clock):
    product = factories.ebc(session)
    dep = factories.departure(session, product, capacity=4)
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=product, actor=SYSTEM
    )
    leads.quote_lead(session, lead, dep, 3, SYSTEM)
    factories.confirmed_booking(session, dep, 2)
    session.commit()
    with pytest.raises(NotEnoughSeats):
        leads.hold_from_quote(session, lead, SYSTEM)
    session.rollback()
    assert lead.status == LeadStatus.QUOTED


def test_lookup_ignores_case_and_hyphens(session, frozen_clock):
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=factories.ebc(session), actor=SYSTEM
    )
    session.commit()
    assert leads.find_lead(session, lead.reference.lower()).id == lead.id
    with pytest.raises(NotFound):
        leads.find_lead(session, "EBC2412999")


def test_answers_go_onto_the_lead_and_its_timeline(session, frozen_clock):
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=factories.ebc(session), actor=SYSTEM
    )
    leads.add_details(
        session, lead, {"fitness": "regular hikers", "dates": "flexible, mid-March"}, SYSTEM
    )
    assert lead.details["fitness"] == "regular hikers"
    assert (
        timeline.for_object(session, "LEAD", lead.id)[-1].content["dates"] == "flexible, mid-March"
    )
