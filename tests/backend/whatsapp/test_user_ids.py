"""Business-scoped user IDs (BSUIDs): webhooks that name a user by `user_id` alone, or by both it
and the phone (changes: test_user_ids_changes.py); the contact, the order per sender, the
de-duplication, consent, the reply by `recipient` and staff recognition all hold."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from backend import texts
from backend.db import transaction
from backend.domain import message_pricing as pricing_rules
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.domain.whatsapp_ids import is_bsuid
from backend.domain.whatsapp_messages import Text, request_body
from backend.models import (
    Contact,
    ContactConsent,
    Conversation,
    InboundMessage,
    MediaAttachment,
    OutboundMessage,
    TimelineEvent,
)
from backend.services import consent, contacts, outbox
from backend.whatsapp import inbox
from tests import factories
from tests.backend.services.test_arrivals import arrive, opted_out, sent_to, text
from tests.backend.whatsapp import payloads as p

BSUID = "AU.13491208655302741918"
NEW_BSUID = "AU.99887766554433221100"
PHONE = "+61412700001"


def from_username(body: str, user_id: str = BSUID, wamid: str | None = None) -> dict[str, Any]:
    """A message from a user who shares no phone: no `from`, Meta's `from_user_id`."""
    message = text(PHONE, body)
    del message["from"]
    message["from_user_id"] = user_id
    if wamid:
        message["id"] = wamid
    return message


def with_contacts(messages: list[dict[str, Any]], *, phone: bool) -> dict[str, Any]:
    """A messages webhook whose `contacts[]` carries `user_id`, and `wa_id` only if `phone`."""
    body = p.webhook(messages)
    value = body["entry"][0]["changes"][0]["value"]
    value["contacts"] = [
        {
            "profile": {"name": "Anna", "username": "@anna.treks"},
            "user_id": m.get("from_user_id", BSUID),
            **({"wa_id": PHONE.lstrip("+")} if phone else {}),
        }
        for m in messages
    ]
    return body


# -- parsing: one module reads who wrote ------------------------------------------------------
def test_a_bsuid_is_told_from_a_phone_number():
    assert is_bsuid(BSUID) and is_bsuid("US.ENT.11815799212886844830")
    assert not is_bsuid("+61412700001") and not is_bsuid("61412700001") and not is_bsuid("")


def test_a_message_with_only_a_bsuid_is_stored_under_it(session):
    inbox.store_webhook(
        session, with_contacts([from_username("hi")], phone=False), p.PHONE_NUMBER_ID
    )
    row = session.scalar(select(InboundMessage))
    assert (row.from_phone, row.from_user_id, row.profile_name) == (BSUID, BSUID, "Anna")


def test_a_message_with_both_is_stored_under_the_phone_with_its_bsuid(session):
    message = text(PHONE, "hi")
    message["from_user_id"] = BSUID
    inbox.store_webhook(session, with_contacts([message], phone=True), p.PHONE_NUMBER_ID)
    row = session.scalar(select(InboundMessage))
    assert (row.from_phone, row.from_user_id) == (PHONE, BSUID)


def test_a_status_for_a_message_sent_by_bsuid_names_its_user_by_it(session):
    status = p.status("wamid.OUTB1", "delivered")
    del status["recipient_id"]
    status["recipient_user_id"] = BSUID
    result = inbox.store_webhook(session, p.webhook(statuses=[status]), p.PHONE_NUMBER_ID)
    assert result.statuses_new == 1
    assert (
        inbox.parse_webhook(p.webhook(statuses=[status]), p.PHONE_NUMBER_ID).statuses[0][
            "recipient_phone"
        ]
        == BSUID
    )


def test_a_message_naming_nobody_is_refused():
    message = from_username("hi")
    del message["from_user_id"]
    with pytest.raises(inbox.MalformedPayload):
        inbox.parse_webhook(p.webhook([message]), p.PHONE_NUMBER_ID)


def test_a_reply_to_a_bsuid_goes_by_recipient_and_to_a_phone_by_to():
    by_user_id = request_body(BSUID, Text("Namaste"))
    by_phone = request_body("61412700001", Text("Namaste"))
    assert by_user_id["recipient"] == BSUID and "to" not in by_user_id
    assert by_phone["to"] == "61412700001" and "recipient" not in by_phone


# -- the contact: one rule finds, creates and merges ------------------------------------------
def test_a_bsuid_alone_makes_a_contact_without_a_phone(session):
    contact = contacts.resolve_contact(session, None, BSUID, profile_name="Anna")
    assert (contact.phone, contact.user_id, contact.address) == (None, BSUID, BSUID)
    assert contacts.find_contact(session, BSUID) is contact
    assert contacts.resolve_contact(session, None, BSUID).id == contact.id


def test_a_webhook_with_both_joins_the_phones_contact_and_the_bsuids(session):
    by_phone = contacts.get_or_create_contact(session, PHONE, name="Anna Berg")
    first, _ = contacts.get_or_open_conversation(session, by_phone)
    by_user_id = contacts.resolve_contact(session, None, BSUID, profile_name="anna")
    second, _ = contacts.get_or_open_conversation(session, by_user_id)
    contacts.touch_inbound(by_user_id)
    merged = contacts.resolve_contact(session, PHONE, BSUID)
    session.flush()
    assert merged.id == by_phone.id  # the older one keeps its id
    assert (merged.phone, merged.user_id, merged.name) == (PHONE, BSUID, "Anna Berg")
    assert merged.last_inbound_at is not None  # the window opened under the BSUID holds
    assert session.scalar(select(func.count()).select_from(Contact)) == 1
    # History kept: both conversations are the merged contact's; one stays active.
    owners = set(session.scalars(select(Conversation.contact_id)))
    assert owners == {merged.id}
    assert contacts.active_conversation(session, merged).id == first.id
    assert session.get(Conversation, second.id).status == "CLOSED"
    merged_events = session.scalars(
        select(TimelineEvent).where(TimelineEvent.action == "tms.contact.merged")
    ).all()
    assert [e.object_id for e in merged_events] == [merged.id]


def test_after_a_merge_the_later_consent_stands_and_a_stop_holds(session):
    by_phone = contacts.get_or_create_contact(session, PHONE)
    consent.opt_in_marketing(session, by_phone, SYSTEM)
    by_user_id = contacts.resolve_contact(session, None, BSUID)
    consent.opt_out(session, by_user_id, SYSTEM)  # STOP, later, from the username
    session.flush()
    merged = contacts.resolve_contact(session, PHONE, BSUID)
    session.flush()
    assert merged.opted_out_at is not None
    assert not consent.allows(merged, "feedback_request")
    rows = session.scalars(select(ContactConsent)).all()
    assert {row.contact_id for row in rows} <= {merged.id}
    assert all(row.status != consent.OPTED_IN for row in rows)


def test_a_phone_seen_with_a_new_bsuid_takes_it(session):
    contact = contacts.resolve_contact(session, PHONE, BSUID)
    assert contacts.resolve_contact(session, PHONE, NEW_BSUID).id == contact.id
    assert contact.user_id == NEW_BSUID
    assert session.scalar(
        select(TimelineEvent.action).where(TimelineEvent.action == "tms.contact.user_id_changed")
    )


def test_a_bsuid_seen_with_another_number_takes_it_and_its_queue_follows(session):
    """The latest message's identifiers win: replies never go to a number the user left."""
    contact = contacts.resolve_contact(session, PHONE, BSUID)
    outbox.enqueue_text(
        session, to_phone=PHONE, contact_id=contact.id, body="Your balance is due", purpose="x"
    )
    new_phone = "+61412700002"
    assert contacts.resolve_contact(session, new_phone, BSUID).id == contact.id
    assert contact.phone == new_phone
    queued = session.scalars(select(OutboundMessage.recipient_phone)).all()
    assert queued == [new_phone]
    assert session.scalar(
        select(TimelineEvent.action).where(TimelineEvent.action == "tms.contact.phone_changed")
    )


# A user's identifiers changing (Meta's `system` messages `user_changed_number` and
# `user_changed_user_id`): tests/backend/whatsapp/test_user_ids_changes.py.


# -- through the inbox worker (PostgreSQL) ----------------------------------------------------
@pytest.mark.usefixtures("pg_db_url", "frozen_clock")
def test_a_bsuid_only_customer_is_answered_by_their_bsuid():
    rasa = arrive(from_username("When is the next Everest trek?"))
    assert rasa.sent == ["When is the next Everest trek?"]
    assert sent_to(BSUID) == ["Namaste!"]
    with transaction() as s:
        contact = contacts.find_contact(s, BSUID)
        assert contact is not None and contact.phone is None and contacts.window_open(contact)


@pytest.mark.usefixtures("pg_db_url", "frozen_clock")
def test_the_assistant_knows_a_bsuid_only_sender_by_their_bsuid():
    rasa = arrive(from_username("hello"))
    assert rasa.metadata[0]["sender_kind"] == "customer"


@pytest.mark.usefixtures("pg_db_url", "frozen_clock")
def test_a_bsuid_only_senders_messages_are_kept_once_and_in_order():
    first, second = from_username("one", wamid="wamid.B1"), from_username("two", wamid="wamid.B2")
    with transaction() as s:
        inbox.store_webhook(s, p.webhook([first, second]), p.PHONE_NUMBER_ID)
        repeat = inbox.store_webhook(s, p.webhook([first]), p.PHONE_NUMBER_ID)
    assert repeat.messages_duplicate == 1
    with transaction() as s:
        claimed = inbox.claim(s, 10)
        assert [row.wamid for row in claimed] == ["wamid.B1"]  # one at a time per sender
        for row in claimed:  # handed back: the worker below takes both, in order
            row.status, row.lease_token, row.next_attempt_at, row.attempts = (
                "PENDING",
                None,
                None,
                0,
            )
    rasa = arrive()
    assert rasa.sent == ["one", "two"]


@pytest.mark.usefixtures("pg_db_url", "frozen_clock")
def test_stop_from_a_bsuid_only_customer_is_consent():
    rasa = arrive(from_username("STOP"))
    assert rasa.sent == [] and opted_out(BSUID)
    assert sent_to(BSUID) == [texts.consent_stopped()]


@pytest.mark.usefixtures("pg_db_url", "frozen_clock")
def test_a_guide_writing_without_their_phone_is_told_commands_need_it():
    with transaction() as s:
        factories.staff(s, "Rajesh Kumar", Role.GUIDE)
    rasa = arrive(from_username("CHECKIN TRP2503001"))
    assert rasa.sent == []
    assert sent_to(BSUID) == [texts.guide_commands_need_phone()]


@pytest.mark.usefixtures("pg_db_url", "frozen_clock")
def test_a_later_message_with_both_joins_the_history_under_one_contact():
    arrive(from_username("hi, I am Anna"))
    both = text(PHONE, "here is my number")
    both["from_user_id"] = BSUID
    with transaction() as s:
        contacts.get_or_create_contact(s, "+61412700099")  # someone else, untouched
    arrive(both)
    with transaction() as s:
        contact = contacts.find_contact(s, PHONE)
        assert contact is not None and contact.user_id == BSUID
        assert contacts.find_contact(s, BSUID).id == contact.id
        conversation = contacts.active_conversation(s, contact)
        stored = s.scalars(select(InboundMessage.conversation_id)).all()
        assert set(stored) == {conversation.id}  # both messages in the same conversation


def test_a_message_sent_by_bsuid_is_priced_by_the_bsuids_country():
    assert pricing_rules.country_of(BSUID) == "AU"
    assert pricing_rules.calling_digits(BSUID) == "61"  # never the BSUID's own digits


@pytest.mark.usefixtures("pg_db_url", "frozen_clock")
def test_a_bsuid_only_customers_photo_is_kept_and_acknowledged():
    """The demo's receipt photo from a username once failed: the file was kept by phone."""
    photo = from_username("")
    del photo["text"]
    photo["type"], photo["image"] = "image", {"id": "MEDIA-B1", "mime_type": "image/jpeg"}
    rasa = arrive(photo)
    assert rasa.sent == []
    assert sent_to(BSUID) == [texts.media_received("image")]
    with transaction() as s:
        kept = s.scalars(select(MediaAttachment)).all()
        assert [(m.kind, m.from_phone) for m in kept] == [("image", BSUID)]
