"""Statuses only move forward; the 24-hour window decides free-form or template."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.domain.enums import OutboxStatus, Role
from backend.models import OutboundMessage
from backend.services import contacts, notifications, outbox
from backend.whatsapp import inbox, outbox_rules, statuses
from backend.whatsapp.messages import Button, Buttons, MessageLimitError, Template, Text
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
    row.template_params = ["EBC", "Rajesh Kumar", "+9779801000003"]
    _deliver(session, "failed", code=131047)
    _deliver(session, "failed", code=131047)
    outbox_rules.queue_template_fallback(session, row)
    fallbacks = session.scalars(
        select(OutboundMessage).where(OutboundMessage.fallback_of_id == row.id)
    ).all()
    assert len(fallbacks) == 1
    assert fallbacks[0].kind == "template" and fallbacks[0].template_name == "trip_started"
    assert fallbacks[0].template_params == ["EBC", "Rajesh Kumar", "+9779801000003"]


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
        template_params=["Annapurna Circuit", "March 20", "$1,800", "2"],
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


def test_too_many_or_too_long_buttons_fall_back_to_text(session):
    (row,) = outbox.enqueue_buttons(
        session,
        to_phone=PHONE,
        body="Pick one",
        purpose="reply",
        buttons=[{"id": str(i), "title": f"Option {i}"} for i in range(4)],
    )
    assert row.kind == "text" and "• Option 3" in row.body
    (ok,) = outbox.enqueue_buttons(
        session,
        to_phone=PHONE,
        body="Cancel?",
        purpose="reply",
        buttons=[{"id": "/affirm", "title": "Yes"}, {"id": "/deny", "title": "No"}],
    )
    assert ok.kind == "buttons"


def test_builders_refuse_what_meta_refuses():
    with pytest.raises(MessageLimitError):
        Text("x" * 4097)
    with pytest.raises(MessageLimitError):
        Buttons("b", tuple(Button(str(i), "t") for i in range(4)))
    with pytest.raises(MessageLimitError):
        Buttons("b", (Button("1", "a title that is far too long"),))
    with pytest.raises(MessageLimitError):
        template_for("waitlist_offer").build(["only one"])


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
