"""PAID through the trained assistant over HTTP: the command grammar gives it `guide_paid`
whatever the classifier guessed, the rule runs `action_guide_paid`, cash is recorded once and
the customer gets the receipt number; a customer's "paid ..." is not a command."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole
from backend.models import LedgerEntry, OutboundMessage
from backend.services import assignments, catalog, trips
from backend.services import staff as staff_service
from tests import factories
from tests.assistant.test_rest_channel import RAJESH, say

pytestmark = pytest.mark.rasa


def test_paid_is_recognised_and_records_cash_once(assistant_stack, demo_world_pg):
    db = demo_world_pg
    with transaction(db) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff_service.by_phone(s, RAJESH)
        offer = assignments.offer_assignment(
            s, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
        )
        assignments.respond_to_assignment(s, offer, True, SYSTEM, notify=False)
        guest = factories.confirmed_booking(s, departure, 2)
        reference, owed, phone = guest.reference, guest.balance_minor, guest.contact.phone
    with httpx.Client(base_url=assistant_stack["rasa_url"], timeout=60) as client:
        for text in (f"PAID {reference} 4788 USD CASH", f"paid  {reference.lower()} 100"):
            parsed = client.post("/model/parse", json={"text": text}).json()
            assert (parsed["intent"]["name"], parsed["intent"]["confidence"]) == (
                "guide_paid",
                1.0,
            ), text
        customer = client.post("/model/parse", json={"text": "Paid the deposit yesterday"}).json()
        assert customer["intent"]["name"] != "guide_paid"
    replies = say(
        assistant_stack, RAJESH, f"paid {reference.replace('-', '')} {owed // 100} usd cash"
    )
    assert replies and replies[0].startswith("✅ Cash recorded"), replies
    with transaction(db) as s:
        entries = s.scalars(select(LedgerEntry).where(LedgerEntry.method == "cash")).all()
        assert len(entries) == 1 and entries[0].amount_minor == owed // 100 * 100
        number = entries[0].receipt_number
        assert number in replies[0]
        assert s.scalar(
            select(OutboundMessage).where(
                OutboundMessage.recipient_phone == phone,
                OutboundMessage.body.contains(number),
            )
        )
