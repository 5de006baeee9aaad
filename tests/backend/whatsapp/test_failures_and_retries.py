"""Messages that failed for good are kept and can be put back (`tms inbox retry`, `tms outbox
retry`); an outage raises one alert per window with a count, not one per message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend import cli
from backend.config import Settings
from backend.domain.actor import SYSTEM
from backend.domain.enums import InboxStatus, OutboxStatus, Role
from backend.models import InboundMessage, OutboundMessage
from backend.services import outbox
from backend.whatsapp import inbox, outbox_rules, sender
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient
from tests import factories
from tests.backend.whatsapp import payloads as p


def _fail_for_good(session, frozen_clock, senders: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    """One message from each sender, each failing every attempt until it is FAILED."""
    messages = [p.text_message(s, f"hello from {s}") for s in senders]
    inbox.store_webhook(session, p.webhook(messages), p.PHONE_NUMBER_ID)
    session.commit()
    worker = InboxWorker(RasaClient("http://127.0.0.1:9"), Settings())
    for _ in range(Settings().inbox_max_attempts):
        for row in inbox.claim(session, 10):
            session.commit()
            worker._attempt_failed(row.id, row.lease_token or "", "Rasa is down")
        frozen_clock.advance(minutes=6)
        session.expire_all()
    return [r.id for r in session.scalars(select(InboundMessage).order_by(InboundMessage.id))]


def ops_alerts(session) -> list[OutboundMessage]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(
        session.scalars(select(OutboundMessage).where(OutboundMessage.purpose == "ops_alert"))
    )


def test_an_outage_raises_one_alert_per_window_with_a_count(session, frozen_clock):
    factories.staff(session, "Priya Thapa", Role.OPS)
    session.commit()
    frozen_clock.at = frozen_clock.at.replace(minute=0)
    ids = _fail_for_good(session, frozen_clock, ["61412000001", "61412000002", "61412000003"])
    assert {r.status for r in session.scalars(select(InboundMessage))} == {InboxStatus.FAILED}
    [alert] = ops_alerts(session)  # three messages failed in the same window: one alert
    assert "could not be processed" in alert.body and "tms inbox retry --all" in alert.body

    # Another failure in a later window: a second alert, with the count of all waiting.
    frozen_clock.advance(minutes=Settings().alert_window_minutes)
    _fail_for_good(session, frozen_clock, ["61412000004"])
    alerts = ops_alerts(session)
    assert len(alerts) == 2 and "4 from customers or guides" in alerts[1].body
    assert len(ids) == 3


def test_inbox_retry_puts_failed_messages_back_and_they_are_answered(
    session, db_url, frozen_clock, capsys
):
    ids = _fail_for_good(session, frozen_clock, ["61412000001", "61412000002"])
    session.commit()
    assert cli.main(["inbox", "retry"]) == 2  # says which, or nothing happens
    assert cli.main(["inbox", "retry", "--id", str(ids[0])]) == 0
    assert "1 failed messages queued again" in capsys.readouterr().out
    session.expire_all()
    first, second = (session.get(InboundMessage, i) for i in ids)
    assert (first.status, first.attempts) == (InboxStatus.PENDING, 0)
    assert second.status == InboxStatus.FAILED
    session.commit()  # SQLite: one writer at a time
    assert cli.main(["inbox", "retry", "--all"]) == 0
    session.expire_all()
    assert [row.id for row in inbox.claim(session, 10)] == ids  # handed out again, in order


def test_outbox_retry_queues_failed_messages_but_not_those_replaced_by_a_template(
    session, frozen_clock
):
    contact = factories.contact(session)
    (plain,) = outbox.enqueue_text(
        session, to_phone=contact.phone, contact_id=contact.id, body="hi", purpose="reply"
    )
    (window_closed,) = outbox.enqueue_text(
        session,
        to_phone=contact.phone,
        contact_id=contact.id,
        body="update",
        purpose="customer_update",
    )
    for row in (plain, window_closed):
        row.status = OutboxStatus.FAILED
        row.failed_at = frozen_clock.at
    outbox_rules.queue_template_fallback(session, window_closed)  # 131047: its template went
    session.commit()
    retried = sender.retry_failed(session, SYSTEM, everything=True)
    assert retried == [plain.id]
    session.commit()
    assert session.get(OutboundMessage, plain.id).status == OutboxStatus.QUEUED
    assert session.get(OutboundMessage, window_closed.id).status == OutboxStatus.FAILED
    assert sender.retry_failed(session, SYSTEM, since=frozen_clock.at + timedelta(hours=1)) == []
