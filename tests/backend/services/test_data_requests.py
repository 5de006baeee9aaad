"""A customer's "delete my data" and "a copy of my data" in the chat: recorded, operations
alerted, the customer told; once confirmed, operations erase the papers (bookings and
payments stay) or export what is held; refused while the trip is under way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.models import Booking, Contact, OutboundMessage, Staff, TimelineEvent
from backend.services import data_requests, travellers
from tests import factories
from tests.backend.services.test_arrivals import arrive, sent_to, text

pytestmark = pytest.mark.usefixtures("pg_db_url", "frozen_clock")


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        ("Please delete my data", data_requests.ERASE),
        ("can you erase all my personal information?", data_requests.ERASE),
        ("forget me", data_requests.ERASE),
        ("Could I get a copy of my data please", data_requests.COPY),
        ("What personal data do you hold about me?", data_requests.COPY),
        ("Is the trek data on altitude available?", None),
        ("delete the booking for my brother", None),
    ],
)
def test_what_is_a_data_request(said, kind):
    assert data_requests.kind_of(said) == kind


def _booking(days_ahead: int = 40) -> tuple[str, str, str]:
    with transaction() as s:
        dep = factories.departure(
            s, factories.ebc(s), start=clock.local_today() + timedelta(days=days_ahead)
        )
        booking = factories.confirmed_booking(s, dep, 1)
        travellers.save(
            s, booking, 1, {"full_name": "Emma Clarke", "passport_number": "E1234567"}, SYSTEM
        )
        factories.staff(s, "Priya Thapa", Role.OPS)
        return booking.id, booking.contact_id, booking.contact.phone


def _ops(s):
    return s.scalar(select(Staff).where(Staff.name == "Priya Thapa"))


def test_delete_my_data_in_the_chat_alerts_operations_who_erase_the_papers():
    booking_id, contact_id, phone = _booking()
    arrive(text(phone, "Please delete my data"))
    assert "request to delete your personal data" in sent_to(phone)[-1]
    with transaction() as s:
        alert = s.scalar(select(OutboundMessage.body).where(OutboundMessage.purpose == "ops_alert"))
        assert alert and "asked in the chat to delete their personal data" in alert
        contact = s.get(Contact, contact_id)
        assert data_requests.erase_papers(s, contact, _ops(s)) == 1
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        [row] = travellers.ensure(s, booking)
        assert row.sealed_details is None and row.purged_at is not None
        assert booking.status == "CONFIRMED"  # the booking and its payments stay
        assert s.scalar(
            select(TimelineEvent.id).where(TimelineEvent.action == "tms.contact.data_erased")
        )
    assert "are deleted" in sent_to(phone)[-1]


def test_the_papers_stay_while_the_trip_is_under_way():
    _, contact_id, _ = _booking(days_ahead=-2)
    with transaction() as s:
        contact = s.get(Contact, contact_id)
        with pytest.raises(travellers.PapersRefused, match="on the mountain"):
            data_requests.erase_papers(s, contact, _ops(s))


def test_a_copy_holds_the_papers_and_the_read_is_logged():
    _, contact_id, phone = _booking()
    arrive(text(phone, "Could I get a copy of my data please"))
    assert "a copy of the personal data" in sent_to(phone)[-1]
    with transaction() as s:
        contact = s.get(Contact, contact_id)
        held = data_requests.export(s, contact, _ops(s))
        assert held["bookings"][0]["travellers"][0]["passportNumber"] == "E1234567"
        reads = s.scalars(
            select(TimelineEvent.content).where(TimelineEvent.action == "tms.traveller.papers_read")
        ).all()
        assert [r["what"] for r in reads] == ["data copy"]
