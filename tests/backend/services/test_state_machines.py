"""Illegal transitions raise and change nothing; legal ones write their timeline event."""

import pytest
from sqlalchemy import func, select

from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, LeadStatus
from backend.domain.errors import IllegalTransition, StatusAssignedDirectly
from backend.domain.states import BOOKING, LEAD
from backend.models import Lead, TimelineEvent
from backend.services import leads
from backend.services.state import change_state
from tests import factories


def _events(session, object_id):
    return session.scalar(select(func.count()).where(TimelineEvent.object_id == object_id))


def test_legal_transition_writes_its_timeline_event(session):
    contact = factories.contact(session)
    lead = leads.create_lead(session, contact=contact, product=factories.ebc(session), actor=SYSTEM)
    before = _events(session, lead.id)
    change_state(session, lead, LEAD, LeadStatus.CONTACTED, SYSTEM)
    session.commit()
    assert lead.status == LeadStatus.CONTACTED
    event = session.scalars(
        select(TimelineEvent)
        .where(TimelineEvent.object_id == lead.id)
        .order_by(TimelineEvent.id.desc())
    ).first()
    assert _events(session, lead.id) == before + 1
    assert event.event_type == "STATUS_CHANGE"
    assert event.content == {"field": "status", "from": "NEW", "to": "CONTACTED"}
    assert event.action == "tms.lead.status.contacted"


def test_illegal_transition_raises_and_changes_nothing(session):
    dep = factories.departure(session, factories.ebc(session))
    booking = factories.confirmed_booking(session, dep, 2)
    session.commit()
    before = _events(session, booking.id)
    with pytest.raises(IllegalTransition):
        change_state(session, booking, BOOKING, BookingStatus.HELD, SYSTEM)
    assert booking.status == BookingStatus.CONFIRMED
    assert _events(session, booking.id) == before
    session.commit()
    session.expire_all()
    assert session.get(type(booking), booking.id).status == BookingStatus.CONFIRMED


def test_status_cannot_be_assigned_outside_the_state_machine(session):
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=None, actor=SYSTEM
    )
    session.commit()
    with pytest.raises(StatusAssignedDirectly):
        lead.status = LeadStatus.WON
    session.expire_all()
    assert session.get(Lead, lead.id).status == LeadStatus.NEW


def test_a_failure_mid_operation_rolls_back_the_state_and_its_event(session):
    lead = leads.create_lead(
        session, contact=factories.contact(session), product=None, actor=SYSTEM
    )
    session.commit()
    before = _events(session, lead.id)
    change_state(session, lead, LEAD, LeadStatus.CONTACTED, SYSTEM)
    session.flush()
    session.rollback()  # what transaction() does when the operation raises later on
    assert session.get(Lead, lead.id).status == LeadStatus.NEW
    assert _events(session, lead.id) == before
