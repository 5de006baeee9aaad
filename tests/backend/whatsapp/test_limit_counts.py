"""What counts against Meta's messaging limit (issue 26): a business-initiated message opens a
conversation with a user once Meta has accepted it. A send Meta refused with an error answer
(or that could not even be built) does not count; one Meta accepted still counts when a
`failed` status comes later; one whose answer never came counts (Meta may have taken it). On
SQLite and PostgreSQL, with a Graph client that answers as told."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from backend.config import Settings
from backend.db import get_engine, transaction
from backend.domain.enums import OutboxStatus
from backend.models import InitiatedConversation, OutboundMessage
from backend.services import contacts, message_templates, messaging_limits, outbox
from backend.services.message_templates import Listed
from backend.whatsapp import errors, inbox
from backend.whatsapp.ingest import store_batch
from backend.whatsapp.sender import OutboxSender
from tests.backend.whatsapp import payloads as p

ACCEPTED, REFUSED, SERVER, LOST, NO_TEMPLATE = (
    "+61420000001",
    "+61420000002",
    "+61420000003",
    "+61420000004",
    "+61420000005",
)


class AnsweringClient:
    """Meta's answer for each recipient: a wamid, or an error."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, to: str, message: Any) -> str:
        self.sent.append(to)
        answer: dict[str, errors.GraphError | str] = {
            REFUSED.lstrip("+"): errors.RecipientNotOnWhatsApp("(#131026) Message undeliverable"),
            SERVER.lstrip("+"): errors.ServerError("(#131000) Something went wrong"),
            LOST.lstrip("+"): errors.TransportError("ReadTimeout: no answer"),
        }.get(to, f"wamid.{to}")
        if isinstance(answer, errors.GraphError):
            raise answer
        return answer


def _queue(phone: str, purpose: str = "balance_reminder") -> int:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, phone)
        (row,) = outbox.enqueue_text(
            s,
            to_phone=phone,
            contact_id=contact.id,
            body="Your balance is due",
            purpose=purpose,
            template_params=["EBC-2501234", "$900", "Jan 5", "https://pay"],
        )
        return row.id


def _counted() -> set[str]:
    with transaction() as s:
        return set(s.scalars(select(InitiatedConversation.phone)))


def _run(client: AnsweringClient) -> None:
    sender = OutboxSender(client, Settings(), batch=50)  # type: ignore[arg-type]
    sender.recipients.take = lambda _s, phones: dict.fromkeys(phones, 0.0)  # type: ignore[method-assign]
    asyncio.run(sender.run_once())


def test_only_sends_meta_accepted_count_against_the_limit(db_url, frozen_clock):
    for phone in (ACCEPTED, REFUSED, SERVER, LOST):
        _queue(phone)
    # A customer whose message cannot go (its template is paused) is never sent to.
    with transaction() as s:
        message_templates.sync(
            s, [Listed("customer_update", "en", "UTILITY", "PAUSED", "RED", "{{1}}", 1)]
        )
    stuck = _queue(NO_TEMPLATE, purpose="customer_update")
    client = AnsweringClient()
    expected = {x.lstrip("+") for x in (ACCEPTED, REFUSED, SERVER, LOST)}
    for _ in range(10):  # a bound: a send the pacing found late is tried in the next pass
        _run(client)
        if set(client.sent) >= expected:
            break
    assert set(client.sent) == expected  # not NO_TEMPLATE
    # Accepted counts; refused (131026, a 5xx answer) and never sent do not; an answer that
    # never came counts, as Meta may have taken the message.
    assert _counted() == {ACCEPTED, LOST}
    with transaction() as s:
        assert messaging_limits.unique_users(s) == 2
        row = s.get(OutboundMessage, stuck)
        assert row is not None and row.status == OutboxStatus.FAILED

    # Meta reports the accepted message failed later (a `failed` status): it still counts.
    body = p.webhook(
        statuses=[p.status(f"wamid.{ACCEPTED.lstrip('+')}", "failed", ACCEPTED, code=131026)]
    )
    with get_engine().connect() as connection:
        store_batch(connection, [inbox.parse_webhook(body, p.PHONE_NUMBER_ID)])
    with transaction() as s:
        accepted = s.scalar(
            select(OutboundMessage).where(OutboundMessage.recipient_phone == ACCEPTED)
        )
        assert accepted is not None and accepted.status == OutboxStatus.FAILED
        assert messaging_limits.unique_users(s) == 2
    assert ACCEPTED in _counted()
