"""The assistant's sender may be a business-scoped user ID (a customer who writes from a
username): the actions find that contact by it, and never take it for staff."""

from __future__ import annotations

from actions.common import sender_phone
from actions.guide import ActionGuideCheckin
from backend.db import transaction
from backend.services import contacts
from tests.actions.conftest import RAJESH, make_tracker, run_action

BSUID = "NP.55501230000000000001"


def test_the_sender_is_a_bsuid_or_a_phone():
    assert sender_phone(make_tracker(BSUID, "hi", "greet")) == BSUID
    assert sender_phone(make_tracker(RAJESH.lstrip("+"), "hi", "greet")) == RAJESH


def test_a_bsuid_sender_is_a_customer_even_typing_a_guides_command(world):
    ran = run_action(
        ActionGuideCheckin(), make_tracker(BSUID, "CHECKIN TRP2503001", "guide_checkin")
    )
    assert "passed your message to our team" in " ".join(ran.texts)
    with transaction() as s:
        contact = contacts.find_contact(s, BSUID)
        assert contact is not None and contact.phone is None and contact.user_id == BSUID
