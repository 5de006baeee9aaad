"""Statuses only move forward; the 24-hour window decides free-form or template."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.domain.enums import OutboxStatus, Role
from backend.domain.whatsapp_messages import (
    Button,
    Buttons,
    ListMessage,
    MessageLimitError,
    Row,
    Template,
    Text,
)
from backend.models import OutboundMessage
from backend.services import contacts, notifications, outbox
from backend.whatsapp import inbox, outbox_rules, statuses
from backend.whatsapp.templates import template_for
from tests import factories
from tests.backend.whatsapp import payloads as p

PHONE = "+61412000001"


def _sent_row(session, wamid="wamid.OUT1", purpose="reply"):
    (row,) = outbox.enqueue_text(session, to_phone=PHONE, body="hello", purpose=purpose)
    row.provider_message_id = wamid
    row.status = OutboxStatus.SENT
    session.flush()
    return row


def _deliver(session, *states, code=None):
    body = p.webhook(
        statuses=[p.status("wamid.OUT1", s, code=code if s == "failed" else None) for s in states]
    )
    result = inbox.store_webhook(session, body, p.PHONE_NUMBER_ID)
    statuses.apply_pending(session, result.new_status_wamids)


def test_out_of_order_statuses_never_move_backwards(session):
    row = _sent_row(session)
    _deliver(session, "read", "delivered", "sent")
    assert row.status == OutboxStatus.READ
    assert row.read_at is not None and row.delivered_at is not None


def test_read_without_delivered_is_fine(session):
    row = _sent_row(session)
    _deliver(session, "read")
    assert row.status == OutboxStatus.READ and row.delivered_at is None


def test_duplicate_statuses_are_stored_once(session):
    row = _sent_row(session)
    _deliver(session, "delivered")
    body = p.webhook(statuses=[p.status("wamid.OUT1", "delivered")])
    again = inbox.store_webhook(session, body, p.PHONE_NUMBER_ID)
    assert again.statuses_duplicate == 1 and row.status == OutboxStatus.DELIVERED


def test_failed_keeps_its_error_code_and_a_late_delivered_does_not_undo_it(session):
    row = _sent_row(session)
    _deliver(session, "failed", "delivered", code=131026)
    assert row.status == OutboxStatus.FAILED and row.error_code == 131026


def test_a_status_before_the_row_knows_its_wamid_waits_for_it(session):
    inbox.store_webhook(
        session, p.webhook(statuses=[p.status("wamid.LATE", "delivered")]), p.PHONE_NUMBER_ID
    )
    assert statuses.apply_pending(session, ["wamid.LATE"]) == 0
    row = _sent_row(session, wamid="wamid.LATE")
    assert statuses.apply_pending(session, ["wamid.LATE"]) == 1
    assert row.status == OutboxStatus.DELIVERED


def test_a_late_131047_queues_the_template_once(session):
    row = _sent_row(session, purpose="trip_started")
    row.template_params = ["EBC", "Rajesh Kumar", "+9779801000003", "https://t.example/x"]
    _deliver(session, "failed", code=131047)
    _deliver(session, "failed", code=131047)
    outbox_rules.queue_template_fallback(session, row)
    fallbacks = session.scalars(
        select(OutboundMessage).where(OutboundMessage.fallback_of_id == row.id)
    ).all()
    assert len(fallbacks) == 1
    assert fallbacks[0].kind == "template" and fallbacks[0].template_name == "trip_started"
    assert fallbacks[0].template_params == [
        "EBC",
        "Rajesh Kumar",
        "+9779801000003",
        "https://t.example/x",
    ]


def test_free_form_inside_the_window_template_outside(session, frozen_clock):
    contact = contacts.get_or_create_contact(session, PHONE)
    contacts.touch_inbound(contact)
    (inside,) = outbox.enqueue_text(session, to_phone=PHONE, body="hi", purpose="reply")
    assert isinstance(outbox_rules.wire_message(session, inside), Text)
    frozen_clock.advance(hours=23, minutes=55)  # within the 10-minute safety margin
    (outside,) = outbox.enqueue_text(
        session,
        to_phone=PHONE,
        body="🎉 SPOT AVAILABLE!",
        purpose="waitlist_offer",
        template_params=[
            "Annapurna Circuit",
            "March 20",
            "$1,800",
            "2",
            "https://t.example/book/x",
        ],
    )
    message = outbox_rules.wire_message(session, outside)
    assert isinstance(message, Template) and message.name == "waitlist_spot_available"
    assert outside.kind == "template" and outside.template_params[2] == "$1,800"


def test_a_reply_outside_the_window_becomes_the_follow_up_template(session, frozen_clock):
    (row,) = outbox.enqueue_text(
        session, to_phone="+61412000009", body="your answer", purpose="reply"
    )
    message = outbox_rules.wire_message(session, row)
    assert (
        isinstance(message, Template)
        and message.name == "conversation_followup"
        and message.parameters == ()
    )


def test_staff_alerts_outside_the_window_use_the_staff_template(session, frozen_clock):

    member = factories.staff(session, "Priya Thapa", Role.OPS)
    (row,) = notifications.to_staff(
        session, member, "🚨 URGENT incident\nline two", purpose="ops_urgent_alert"
    )
    message = outbox_rules.wire_message(session, row)
    assert isinstance(message, Template) and message.name == "staff_urgent_alert"
    assert message.parameters == ("🚨 URGENT incident line two",)  # no newlines in parameters


def test_long_text_is_split_at_paragraphs(session):
    body = "\n\n".join(f"Paragraph {i}: " + "x" * 900 for i in range(9))
    rows = outbox.enqueue_text(session, to_phone=PHONE, body=body, purpose="reply")
    assert len(rows) == 3 and all(len(r.body) <= 4096 for r in rows)
    assert "\n\n".join(r.body for r in rows) == body


def test_four_to_ten_options_become_a_list_more_or_a_long_body_become_text(session):
    def queue(count: int, body: str = "Pick one") -> OutboundMessage:
        (row,) = outbox.enqueue_buttons(
            session,
            to_phone=PHONE,
            body=body,
            purpose="reply",
            buttons=[{"id": f"/choose_option{i}", "title": f"Option {i}"} for i in range(count)],
        )
        return row

    assert queue(3).kind == "buttons"
    listed = queue(4)
    assert listed.kind == "list" and [b["title"] for b in listed.buttons][-1] == "Option 3"
    assert queue(10).kind == "list"
    eleven = queue(11)
    assert eleven.kind == "text" and "• Option 10" in eleven.body
    too_long = queue(2, body="x" * 1025)
    assert too_long.kind == "text" and too_long.body.endswith("• Option 1")


def test_long_titles_are_shortened_never_refused(session):
    (row,) = outbox.enqueue_buttons(
        session,
        to_phone=PHONE,
        body="Which one?",
        purpose="reply",
        buttons=[{"id": "/a", "title": "A title that is far too long for a button"}],
    )
    assert row.kind == "buttons"
    assert row.buttons[0]["title"] == "A title that is far…" and len(row.buttons[0]["title"]) == 20
    message = outbox_rules.wire_message(session, row, window_open=True)
    assert message.payload()["interactive"]["action"]["buttons"][0]["reply"]["id"] == "/a"
    (listed,) = outbox.enqueue_buttons(
        session,
        to_phone=PHONE,
        body="Which date?",
        purpose="reply",
        buttons=[
            {
                "id": f"/d{i}",
                "title": f"Departure number {i} in the spring",
                "description": "x" * 99,
            }
            for i in range(2)
        ],
    )
    assert listed.kind == "list"
    assert all(len(b["title"]) == 24 and len(b["description"]) == 72 for b in listed.buttons)
    body = outbox_rules.wire_message(session, listed, window_open=True).payload()
    assert body["interactive"]["type"] == "list"


def test_outside_the_window_a_choice_goes_as_its_template_with_quick_replies(session):
    (row,) = outbox.enqueue_buttons(
        session,
        to_phone=PHONE,
        body="📋 Trip Assignment ...",
        purpose="assignment_offer",
        template_params=["EBC - Mar 15-28"],
        buttons=[{"id": "/affirm{}", "title": "Accept"}, {"id": "/deny{}", "title": "Decline"}],
    )
    template = outbox_rules.wire_message(session, row, window_open=False).payload()["template"]
    assert template["name"] == "trip_assignment"
    assert [c["parameters"][0]["payload"] for c in template["components"][1:]] == [
        "/affirm{}",
        "/deny{}",
    ]


def test_builders_refuse_what_meta_refuses():
    with pytest.raises(MessageLimitError):
        Text("x" * 4097)
    with pytest.raises(MessageLimitError):
        Buttons("b", tuple(Button(str(i), "t") for i in range(4)))
    with pytest.raises(MessageLimitError):
        Buttons("b", (Button("1", "a title that is far too long"),))
    with pytest.raises(MessageLimitError):
        template_for("waitlist_offer").build(["only one"])
    with pytest.raises(MessageLimitError):
        ListMessage("b", "Choose", tuple(Row(str(i), "t") for i in range(11)))
    with pytest.raises(MessageLimitError):
        ListMessage("b", "Choose", (Row("1", "a row title that is too long"),))
    with pytest.raises(MessageLimitError):
        ListMessage("b", "Choose", (Row("x" * 201, "id too long"),))


def test_pacing_buckets():
    from backend.whatsapp.pacing import RecipientPacer, TokenBucket

    now = [0.0]
    bucket = TokenBucket(rate=80, capacity=80, now=lambda: now[0])
    assert sum(bucket.try_take() == 0 for _ in range(100)) == 80
    now[0] += 0.5
    assert sum(bucket.try_take() == 0 for _ in range(100)) == 40
    pacer = RecipientPacer(interval_seconds=6, burst=3, now=lambda: now[0])
    assert [pacer.try_take("a") for _ in range(3)] == [0, 0, 0]
    assert pacer.try_take("a") == pytest.approx(6.0)
    assert pacer.try_take("b") == 0
    now[0] += 6
    assert pacer.try_take("a") == 0


def test_window_margin(session, frozen_clock):
    contact = contacts.get_or_create_contact(session, PHONE)
    contacts.touch_inbound(contact)
    frozen_clock.advance(hours=23, minutes=49)
    assert outbox_rules.window_is_open(session, PHONE)
    frozen_clock.advance(minutes=2)
    assert not outbox_rules.window_is_open(session, PHONE)
    assert contacts.window_open(contact, margin=timedelta(0))


def test_a_status_racing_the_senders_record_is_applied_not_left_pending(pg_db_url):
    """The webhook stores "delivered" while the sender is still recording the wamid: each
    transaction sees only its own half. The one that comes second must wait and see both."""
    import threading

    from backend.db import session_factory

    factory = session_factory(pg_db_url)
    with factory() as setup:
        (queued,) = outbox.enqueue_text(setup, to_phone=PHONE, body="hello", purpose="reply")
        setup.commit()
        row_id = queued.id
    webhook, sender = factory(), factory()
    try:
        body = p.webhook(statuses=[p.status("wamid.RACE", "delivered")])
        stored = inbox.store_webhook(webhook, body, p.PHONE_NUMBER_ID)  # not committed yet
        row = sender.get(OutboundMessage, row_id)
        row.provider_message_id, row.status = "wamid.RACE", OutboxStatus.SENT
        sender.flush()
        assert statuses.apply_pending(sender, ["wamid.RACE"]) == 0  # the event is not visible
        applied: list[int] = []

        def webhook_applies_and_commits() -> None:
            applied.append(statuses.apply_pending(webhook, stored.new_status_wamids))
            webhook.commit()

        racer = threading.Thread(target=webhook_applies_and_commits)
        racer.start()
        racer.join(0.5)  # without the lock it has already looked, found no row, and committed
        sender.commit()
        racer.join(10)
        assert applied == [1]
    finally:
        webhook.close()
        sender.close()
    with factory() as check:
        assert check.get(OutboundMessage, row_id).status == OutboxStatus.DELIVERED
