"""Storing webhook batches: every message and status, once, and in order per sender."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.domain.enums import InboxStatus
from backend.models import InboundMessage, MessageStatusEvent, TimelineEvent
from backend.whatsapp import inbox
from tests.backend.whatsapp import payloads as p


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_a_batch_stores_every_message_and_status_of_every_entry_and_change(session):
    body = p.webhook(
        [p.text_message("61412000001", "hi"), p.text_message("61412000002", "hello")],
        [p.status("wamid.OUT1", "delivered")],
    )
    body["entry"].append(p.webhook([p.text_message("61412000003", "third")])["entry"][0])
    result = inbox.store_webhook(session, body, p.PHONE_NUMBER_ID)
    session.commit()
    assert (result.messages_new, result.statuses_new) == (3, 1)
    assert _count(session, InboundMessage) == 3 and _count(session, MessageStatusEvent) == 1
    row = session.scalar(select(InboundMessage).where(InboundMessage.from_phone == "+61412000002"))
    assert row.text == "hello" and row.profile_name == "Emma" and row.status == InboxStatus.PENDING


def test_the_same_payload_twice_is_stored_once(session):
    body = p.webhook([p.text_message("61412000001", "hi")], [p.status("wamid.OUT1", "sent")])
    inbox.store_webhook(session, body, p.PHONE_NUMBER_ID)
    again = inbox.store_webhook(session, body, p.PHONE_NUMBER_ID)
    session.commit()
    assert (again.messages_new, again.messages_duplicate, again.statuses_duplicate) == (0, 1, 1)
    assert _count(session, InboundMessage) == 1


def test_reply_buttons_reach_the_assistant_as_their_payload(session):
    inbox.store_webhook(
        session, p.webhook([p.button_reply("61412000001", "/affirm", "Yes")]), p.PHONE_NUMBER_ID
    )
    assert session.scalar(select(InboundMessage)).text == "/affirm"


def test_unknown_types_and_fields_are_kept(session):
    odd = {
        "from": "61412000001",
        "id": "wamid.ODD",
        "timestamp": "1735000000",
        "type": "hologram",
        "hologram": {"x": 1},
        "brand_new_field": True,
    }
    inbox.store_webhook(session, p.webhook([odd]), p.PHONE_NUMBER_ID)
    row = session.scalar(select(InboundMessage))
    assert (
        row.message_type == "hologram"
        and row.payload["brand_new_field"] is True
        and row.text is None
    )


def test_another_phone_number_id_is_ignored(session):
    result = inbox.store_webhook(
        session,
        p.webhook([p.text_message("61412000001", "hi")], phone_number_id="999"),
        p.PHONE_NUMBER_ID,
    )
    assert result.ignored_changes == 1 and _count(session, InboundMessage) == 0


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"entry": "x"},
        {
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "metadata": {"phone_number_id": p.PHONE_NUMBER_ID},
                                "messages": [{"no": "id"}],
                            }
                        }
                    ]
                }
            ]
        },
    ],
)
def test_malformed_bodies_are_refused(session, body):
    with pytest.raises(inbox.MalformedPayload):
        inbox.store_webhook(session, body, p.PHONE_NUMBER_ID)


def test_claim_hands_out_one_message_per_sender_in_order(session, frozen_clock):
    messages = [
        p.text_message("61412000001", "a1"),
        p.text_message("61412000002", "b1"),
        p.text_message("61412000001", "a2"),
    ]
    inbox.store_webhook(session, p.webhook(messages), p.PHONE_NUMBER_ID)
    session.commit()
    first = inbox.claim(session, 10)
    assert [r.text for r in first] == ["a1", "b1"]
    assert inbox.claim(session, 10) == []  # a2 waits for a1
    inbox.mark_done(first[0])
    assert [r.text for r in inbox.claim(session, 10)] == ["a2"]


def test_a_failed_attempt_keeps_the_order_and_backs_off(session, frozen_clock):
    inbox.store_webhook(
        session,
        p.webhook([p.text_message("61412000001", "a1"), p.text_message("61412000001", "a2")]),
        p.PHONE_NUMBER_ID,
    )
    (row,) = inbox.claim(session, 10)
    assert inbox.mark_failed_attempt(row, "Rasa down", max_attempts=5) is False
    assert row.status == InboxStatus.PENDING and row.next_attempt_at == frozen_clock.at + timedelta(
        seconds=2
    )
    assert inbox.claim(session, 10) == []  # a2 may not overtake a1
    frozen_clock.advance(seconds=3)
    assert [r.text for r in inbox.claim(session, 10)] == ["a1"]


def test_an_expired_lease_is_claimed_again(session, frozen_clock):
    inbox.store_webhook(
        session, p.webhook([p.text_message("61412000001", "a1")]), p.PHONE_NUMBER_ID
    )
    (row,) = inbox.claim(session, 10)
    assert inbox.claim(session, 10) == []
    frozen_clock.advance(seconds=inbox.lease_length().total_seconds() + 1)
    (again,) = inbox.claim(session, 10)
    assert again.id == row.id and again.attempts == 2


def test_arrival_opens_the_window_and_writes_the_timeline_once(session, frozen_clock):
    inbox.store_webhook(
        session,
        p.webhook([p.text_message("61412000001", "hi", ts=int(clock.now().timestamp()))]),
        p.PHONE_NUMBER_ID,
    )
    (row,) = inbox.claim(session, 10)
    arrival = inbox.record_arrival(session, row)
    inbox.record_arrival(session, row)
    assert arrival.contact.last_inbound_at == frozen_clock.at
    events = session.scalars(
        select(TimelineEvent).where(TimelineEvent.event_type == "MESSAGE")
    ).all()
    assert len(events) == 1
    assert events[0].content["direction"] == "inbound" and events[0].source == "WHATSAPP"


def test_a_nul_character_in_a_message_is_dropped_not_a_failed_store(session):
    """PostgreSQL's text cannot hold NUL (the fuzzing found a 500 that Meta's retries would
    have hit forever): the message is stored without it."""
    body = p.webhook([p.text_message("61412000002", "hi\x00 there", wamid="wamid.NUL\x001")])
    result = inbox.store_webhook(session, body, p.PHONE_NUMBER_ID)
    session.commit()
    assert result.messages_new == 1
    stored = session.scalars(select(InboundMessage)).one()
    assert stored.text == "hi there" and stored.wamid == "wamid.NUL1"
