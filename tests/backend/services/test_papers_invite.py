"""The papers invitation: the customer gets the signed papers link on WhatsApp once per
booking, recorded on the booking's timeline; a second call sends nothing."""

from datetime import timedelta

from sqlalchemy import select

from backend import clock, links
from backend.domain.actor import SYSTEM
from backend.models import OutboundMessage, TimelineEvent
from backend.services import papers_invite
from tests import factories


def _booking(session):
    product = factories.ebc(session)
    dep = factories.departure(session, product, start=clock.local_today() + timedelta(days=60))
    return factories.confirmed_booking(session, dep, 2)


def _sent(session, booking):
    return list(
        session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.object_id == booking.id,
                OutboundMessage.body.contains("/papers/"),
            )
        )
    )


def test_the_customer_gets_the_papers_link_once(session, frozen_clock):
    booking = _booking(session)
    assert papers_invite.invite(session, booking, SYSTEM) is True
    assert papers_invite.invite(session, booking, SYSTEM) is False
    [message] = _sent(session, booking)
    assert message.recipient_phone == booking.contact.phone
    token = message.body.split("/papers/")[1].split()[0]
    assert links.read("papers", token).reference_key == booking.ref_key
    assert "each of the 2 travellers'" in message.body
    [event] = session.scalars(
        select(TimelineEvent).where(
            TimelineEvent.object_id == booking.id, TimelineEvent.action == "tms.traveller.invited"
        )
    )
    assert event.content == {"booking": booking.reference, "travellers": 2}
