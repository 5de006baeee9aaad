"""A user's identifiers change (issue 26), in the shapes Meta documents: the `system` messages
`user_changed_number` and `user_changed_user_id` (Meta's system messages webhook reference;
`user_id_update` is not a webhook field, Meta's changelog of Aug 11, 2026). The contact moves
with its bookings, consent and conversation, the change is on its timeline, queued messages go
to the new address, and a redelivery changes nothing. And one key per conversation: a customer
who wrote by their BSUID alone and then shares their phone stays one sender, in order, in one
dialogue with the assistant. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import InboxStatus
from backend.models import (
    Booking,
    Contact,
    ContactConsent,
    Conversation,
    InboundMessage,
    OutboundMessage,
    TimelineEvent,
)
from backend.services import bookings, consent, contacts, outbox
from backend.whatsapp import inbox
from tests import factories
from tests.backend.services.test_arrivals import RecordingRasa, arrive, text
from tests.backend.whatsapp import payloads as p

OLD_PHONE = "+61412700001"
NEW_PHONE = "+61412700002"
BSUID = "AU.13491208655302741918"
NEW_BSUID = "AU.99887766554433221100"


class SenderRecordingRasa(RecordingRasa):
    """A ready Rasa that also keeps the sender id of each turn."""

    def __init__(self) -> None:
        super().__init__()
        self.senders: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            self.senders.append(json.loads(request.content)["sender"])
        return super().__call__(request)


def changed_number(
    old_phone: str | None, new_phone: str, previous: str | None, current: str | None
) -> dict[str, Any]:
    """Meta's `user_changed_number` system message (no `contacts[]`): `from` the old number,
    `system.wa_id` the new one, `user_id` / `previous_user_id` the new and the old BSUID."""
    system: dict[str, Any] = {
        "body": f"User Anna changed from {old_phone} to {new_phone.lstrip('+')}",
        "wa_id": new_phone.lstrip("+"),
        "type": "user_changed_number",
    }
    if current:
        system |= {"user_id": current, "previous_user_id": previous}
    message: dict[str, Any] = {
        "id": f"wamid.SYS{abs(hash((old_phone, new_phone, current))) % 10**8:08d}",
        "timestamp": str(int(clock.now().timestamp())),
        "type": "system",
        "system": system,
    }
    if old_phone:
        message["from"] = old_phone.lstrip("+")
    return message


def changed_user_id(previous: str, current: str) -> dict[str, Any]:
    """Meta's `user_changed_user_id` system message: the BSUID alone, no phone number."""
    return {
        "id": f"wamid.SYSU{abs(hash((previous, current))) % 10**8:08d}",
        "timestamp": str(int(clock.now().timestamp())),
        "type": "system",
        "system": {
            "body": "User Anna changed their business-scoped user ID",
            "type": "user_changed_user_id",
            "user_id": current,
            "previous_user_id": previous,
        },
    }


def from_user_id(body: str, user_id: str = BSUID, phone: str | None = None) -> dict[str, Any]:
    """A message naming its sender by `from_user_id`, and by `from` only when `phone`."""
    message = text(phone or OLD_PHONE, body)
    if phone is None:
        del message["from"]
    message["from_user_id"] = user_id
    return message


def timeline_of(contact_id: str) -> list[str]:
    with transaction() as s:
        return list(
            s.scalars(
                select(TimelineEvent.action)
                .where(TimelineEvent.object_id == contact_id)
                .order_by(TimelineEvent.id)
            )
        )


def a_customer_with_everything(phone: str | None, user_id: str | None) -> dict[str, str]:
    """A contact with a booking, marketing consent, an active conversation and a message
    queued to their address; their ids."""
    with transaction() as s:
        contact = contacts.resolve_contact(s, phone, user_id, profile_name="Anna")
        dep = factories.departure(s, factories.ebc(s))
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=dep.id, party_size=2, actor=SYSTEM
        )
        consent.opt_in_marketing(s, contact, SYSTEM)
        conversation, _ = contacts.get_or_open_conversation(s, contact)
        contacts.touch_inbound(contact)
        outbox.enqueue_text(
            s,
            to_phone=contact.address,
            contact_id=contact.id,
            body="Your balance is due",
            purpose="balance_reminder",
        )
        return {"contact": contact.id, "booking": booking.id, "conversation": conversation.id}


def everything_still_theirs(ids: dict[str, str], address: str) -> Contact:
    with transaction() as s:
        contact = s.get(Contact, ids["contact"])
        assert contact is not None
        assert s.scalar(select(func.count()).select_from(Contact)) == 1
        assert s.get(Booking, ids["booking"]).contact_id == contact.id
        assert {row.contact_id for row in s.scalars(select(ContactConsent))} == {contact.id}
        assert consent.categories(s, contact)["marketing"] == consent.OPTED_IN
        active = contacts.active_conversation(s, contact)
        assert active is not None and active.id == ids["conversation"]
        queued = s.scalars(
            select(OutboundMessage.recipient_phone).where(
                OutboundMessage.body == "Your balance is due"
            )
        ).all()
        assert queued == [address]  # re-addressed, never to the number they left
        s.expunge(contact)
        return contact


# -- parsing: Meta's documented shapes ---------------------------------------------------------
def test_user_changed_number_is_read_as_meta_documents_it():
    message = changed_number(OLD_PHONE, NEW_PHONE, BSUID, NEW_BSUID)
    parsed = inbox.parse_webhook(p.webhook([message]), p.PHONE_NUMBER_ID)
    (row,) = parsed.messages
    # Ordered and recorded under the user as we knew them.
    assert (row["from_phone"], row["from_user_id"], row["message_type"]) == (
        OLD_PHONE,
        BSUID,
        "system",
    )
    assert inbox.identity_change(message) == {
        "type": "user_changed_number",
        "previous_phone": OLD_PHONE,
        "previous_user_id": BSUID,
        "phone": NEW_PHONE,
        "user_id": NEW_BSUID,
    }


def test_user_changed_number_without_bsuids_as_meta_first_documented_it():
    message = changed_number(OLD_PHONE, NEW_PHONE, None, None)
    change = inbox.identity_change(message)
    assert change is not None and (change["phone"], change["user_id"]) == (NEW_PHONE, None)


def test_user_changed_user_id_carries_no_phone_and_is_not_refused():
    message = changed_user_id(BSUID, NEW_BSUID)
    (row,) = inbox.parse_webhook(p.webhook([message]), p.PHONE_NUMBER_ID).messages
    assert (row["from_phone"], row["from_user_id"]) == (BSUID, BSUID)
    change = inbox.identity_change(message)
    assert change is not None
    assert (change["previous_user_id"], change["user_id"], change["phone"]) == (
        BSUID,
        NEW_BSUID,
        None,
    )


def test_other_system_messages_change_nobody():
    message = changed_user_id(BSUID, NEW_BSUID)
    message["system"]["type"] = "customer_identity_changed"
    assert inbox.identity_change(message) is None


def test_a_user_id_update_change_is_not_a_meta_field_and_is_ignored_not_refused():
    body = p.webhook([text(OLD_PHONE, "hello")])
    body["entry"][0]["changes"].append(
        {
            "field": "user_id_update",
            "value": {"user_id_update": [{"user_id": {"previous": BSUID, "current": NEW_BSUID}}]},
        }
    )
    parsed = inbox.parse_webhook(body, p.PHONE_NUMBER_ID)
    assert len(parsed.messages) == 1 and parsed.ignored_changes == 1


# -- through the inbox -----------------------------------------------------------------------
@pytest.mark.usefixtures("db_url", "frozen_clock")
def test_user_changed_number_moves_the_contact_with_everything_once():
    ids = a_customer_with_everything(OLD_PHONE, BSUID)
    change = changed_number(OLD_PHONE, NEW_PHONE, BSUID, NEW_BSUID)
    arrive(change)
    contact = everything_still_theirs(ids, NEW_PHONE)
    assert (contact.phone, contact.user_id) == (NEW_PHONE, NEW_BSUID)
    changes = [a for a in timeline_of(ids["contact"]) if a.endswith("_changed")]
    assert sorted(changes) == ["tms.contact.phone_changed", "tms.contact.user_id_changed"]
    # Meta delivers it again: a duplicate, nothing changes.
    with transaction() as s:
        assert inbox.store_webhook(s, p.webhook([change]), p.PHONE_NUMBER_ID).messages_new == 0
    arrive()
    assert [a for a in timeline_of(ids["contact"]) if a.endswith("_changed")] == changes
    # Their next message, from the new number, is the same customer in the same conversation.
    rasa = arrive(from_user_id("still coming in March?", NEW_BSUID, NEW_PHONE))
    assert rasa.sent == ["still coming in March?"]
    everything_still_theirs(ids, NEW_PHONE)
    with transaction() as s:
        stored = set(s.scalars(select(InboundMessage.conversation_id)))
        assert stored == {ids["conversation"]}


@pytest.mark.usefixtures("db_url", "frozen_clock")
def test_user_changed_user_id_moves_a_username_customer_to_the_new_bsuid():
    ids = a_customer_with_everything(None, BSUID)
    arrive(changed_user_id(BSUID, NEW_BSUID))
    contact = everything_still_theirs(ids, NEW_BSUID)
    assert (contact.phone, contact.user_id) == (None, NEW_BSUID)
    assert "tms.contact.user_id_changed" in timeline_of(ids["contact"])
    with transaction() as s:
        assert contacts.find_contact(s, BSUID) is None
    # The same change applied again (a lost acknowledgement, a retried row) changes nothing.
    with transaction() as s:
        again = contacts.apply_identity_change(
            s, previous_phone=None, previous_user_id=BSUID, phone=None, user_id=NEW_BSUID
        )
        assert again is not None and again.id == ids["contact"]
    assert timeline_of(ids["contact"]).count("tms.contact.user_id_changed") == 1


@pytest.mark.usefixtures("db_url")
def test_a_new_bsuid_already_known_joins_the_two_contacts(frozen_clock):
    """They wrote from the new identity before Meta's notice arrived: one contact again (the
    older keeps its id)."""
    ids = a_customer_with_everything(OLD_PHONE, BSUID)
    frozen_clock.advance(minutes=5)
    arrive(from_user_id("hello from my new phone", NEW_BSUID, NEW_PHONE))
    with transaction() as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 2
    arrive(changed_number(OLD_PHONE, NEW_PHONE, BSUID, NEW_BSUID))
    contact = everything_still_theirs(ids, NEW_PHONE)
    assert (contact.phone, contact.user_id) == (NEW_PHONE, NEW_BSUID)
    assert "tms.contact.merged" in timeline_of(ids["contact"])


# -- one key per conversation ----------------------------------------------------------------
def _pending(s, wamids: list[str]) -> None:
    """Hand claimed rows back, as if their worker had not started."""
    for row in s.scalars(select(InboundMessage).where(InboundMessage.wamid.in_(wamids))):
        row.status, row.lease_token, row.next_attempt_at, row.attempts = (
            InboxStatus.PENDING,
            None,
            None,
            0,
        )


@pytest.mark.usefixtures("db_url", "frozen_clock")
def test_a_username_customer_who_shares_their_phone_stays_one_sender_and_one_dialogue():
    first = from_user_id("one")  # the BSUID alone
    second = from_user_id("two", phone=OLD_PHONE)  # both
    third = text(OLD_PHONE, "three")  # the phone alone
    with transaction() as s:  # three webhooks: each names the user its own way
        for message in (first, second, third):
            inbox.store_webhook(s, p.webhook([message]), p.PHONE_NUMBER_ID)
    # Three addresses' worth of messages, one sender: handed out one at a time, in order.
    for expected in (first, second, third):
        with transaction() as s:
            claimed = inbox.claim(s, 10)
            assert [row.wamid for row in claimed] == [expected["id"]]
            for row in claimed:
                inbox.mark_done(row)
    with transaction() as s:
        keys = set(s.scalars(select(InboundMessage.sender_key)))
        assert keys == {BSUID}
        _pending(s, [first["id"], second["id"], third["id"]])
    rasa = SenderRecordingRasa()
    arrive(rasa=rasa)
    assert rasa.sent == ["one", "two", "three"]
    assert rasa.senders == [BSUID, BSUID, BSUID]  # one tracker: the dialogue goes on
    with transaction() as s:
        (contact,) = s.scalars(select(Contact)).all()
        assert (contact.phone, contact.user_id, contact.sender_key) == (OLD_PHONE, BSUID, BSUID)
        assert s.scalar(select(func.count()).select_from(Conversation)) == 1
    # Later, by the phone alone: still the same sender for the assistant.
    later = SenderRecordingRasa()
    arrive(text(OLD_PHONE, "four"), rasa=later)
    assert later.senders == [BSUID]


@pytest.mark.usefixtures("db_url", "frozen_clock")
def test_a_known_customers_phone_and_bsuid_messages_are_taken_in_order():
    with transaction() as s:
        contacts.resolve_contact(s, OLD_PHONE, BSUID)
    by_phone, by_bsuid = text(OLD_PHONE, "by phone"), from_user_id("by username")
    with transaction() as s:
        for message in (by_phone, by_bsuid):
            inbox.store_webhook(s, p.webhook([message]), p.PHONE_NUMBER_ID)
    with transaction() as s:
        assert [row.wamid for row in inbox.claim(s, 10)] == [by_phone["id"]]


@pytest.mark.usefixtures("db_url", "frozen_clock")
def test_a_phone_customer_who_gets_a_bsuid_keeps_their_key():
    rasa = SenderRecordingRasa()
    arrive(text(OLD_PHONE, "hello"), rasa=rasa)
    arrive(from_user_id("again", BSUID, OLD_PHONE), rasa=rasa)
    arrive(changed_number(OLD_PHONE, NEW_PHONE, BSUID, NEW_BSUID))
    arrive(from_user_id("from my new number", NEW_BSUID, NEW_PHONE), rasa=rasa)
    assert rasa.senders == [OLD_PHONE] * 3


@pytest.mark.usefixtures("db_url", "frozen_clock")
def test_a_number_given_to_someone_else_gets_its_own_key():
    """A number the first customer left, written from by someone new: another dialogue."""
    rasa = SenderRecordingRasa()
    arrive(from_user_id("hello", BSUID, OLD_PHONE), rasa=rasa)
    arrive(changed_number(OLD_PHONE, NEW_PHONE, BSUID, NEW_BSUID))
    arrive(from_user_id("who is this?", "AU.55555555555555555555", OLD_PHONE), rasa=rasa)
    assert rasa.senders[0] == OLD_PHONE and rasa.senders[1] != OLD_PHONE
    with transaction() as s:
        keys = s.scalars(select(Contact.sender_key)).all()
        assert len(keys) == len(set(keys)) == 2
