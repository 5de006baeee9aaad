"""The inbox worker: takes stored messages in order per sender, asks Rasa, queues the replies.

Several senders are handled at once; one sender's messages one at a time. Rasa or the action
server being down leaves the message pending with backoff: nothing is lost. A crash after Rasa
answered but before the replies were saved is safe too: the lease runs out, the message is
processed again, and the actions replay their stored answer (see `actions/common.py`), so the
customer is answered once.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import httpx

from backend import texts
from backend.config import Settings, get_settings
from backend.db import transaction
from backend.domain.enums import InboxStatus, ObjectType, Role
from backend.models import InboundMessage
from backend.services import contacts, leads, notifications, outbox
from backend.whatsapp import inbox
from backend.workers import run_until_stopped

logger = logging.getLogger(__name__)

SILENT_TYPES = {"reaction", "system", "unsupported_ephemeral"}
MEDIA_TYPES = {"location", "image", "document", "video", "audio", "sticker"}


def merge_replies(replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's REST channel splits a text at blank lines into several replies; put them back
    together so the customer gets one WhatsApp message per answer, not one per paragraph."""
    merged: list[dict[str, Any]] = []
    for reply in replies:
        text, buttons = reply.get("text") or "", reply.get("buttons") or []
        last = merged[-1] if merged else None
        if last is not None and not buttons and not last.get("buttons") and text:
            last["text"] = f"{last['text']}\n\n{text}" if last.get("text") else text
        else:
            merged.append({"text": text, "buttons": buttons})
    return merged


class RasaUnavailable(Exception):
    """Rasa did not answer, or answered nothing (its action server failed)."""


class RasaClient:
    """Rasa's REST channel: POST /webhooks/rest/webhook {sender, message, metadata}."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            response = await self._client.post(
                "/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            )
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise RasaUnavailable(
                f"Rasa answered HTTP {response.status_code}: {response.text[:200]}"
            )
        replies = response.json()
        if not isinstance(replies, list) or not replies:
            raise RasaUnavailable("Rasa answered nothing (is the action server up?)")
        return replies

    async def aclose(self) -> None:
        await self._client.aclose()


@dataclass(frozen=True)
class DialogueTurn:
    row_id: int
    sender: str
    text: str
    metadata: dict[str, Any]


class InboxWorker:
    def __init__(
        self, rasa: RasaClient, settings: Settings | None = None, *, concurrency: int = 16
    ) -> None:
        self.rasa = rasa
        self.settings = settings or get_settings()
        self.concurrency = concurrency
        self.processed = 0
        self.retried = 0
        self.replies_queued: asyncio.Event | None = None
        self.latencies: list[float] = []

    async def run_once(self) -> int:
        ids = await asyncio.to_thread(self._claim)
        if ids:
            await asyncio.gather(*(self._process(row_id) for row_id in ids))
        return len(ids)

    async def run(
        self,
        stop: asyncio.Event,
        idle_sleep: float = 0.2,
        wakeup: asyncio.Event | None = None,
        replies_queued: asyncio.Event | None = None,
    ) -> None:
        """The service loop; `wakeup` is set by the webhook when messages arrive, and this sets
        `replies_queued` so the sender does not wait for its next poll."""
        self.replies_queued = replies_queued
        await run_until_stopped("inbox worker", self.run_once, stop, idle_sleep, wakeup)

    def _claim(self) -> list[int]:
        with transaction() as session:
            return [row.id for row in inbox.claim(session, self.concurrency)]

    async def _process(self, row_id: int) -> None:
        turn = await asyncio.to_thread(self._arrive, row_id)
        if turn is None:
            return
        try:
            replies = await self.rasa.send(turn.sender, turn.text, turn.metadata)
        except RasaUnavailable as exc:
            await asyncio.to_thread(self._attempt_failed, row_id, str(exc))
            return
        await asyncio.to_thread(self._complete, row_id, replies)
        if self.replies_queued is not None:
            self.replies_queued.set()

    def _arrive(self, row_id: int) -> DialogueTurn | None:
        """Record the message; answer it here when it is not for the assistant."""
        with transaction() as session:
            row = session.get(InboundMessage, row_id)
            if row is None or row.status != InboxStatus.PROCESSING:
                return None
            arrival = inbox.record_arrival(session, row)
            conversation = arrival.conversation
            if conversation.bot_paused:
                self._forward_to_rep(session, row, arrival)
                inbox.mark_done(row)
                return None
            if row.message_type in SILENT_TYPES:
                inbox.mark_done(row)
                return None
            if (
                row.message_type in MEDIA_TYPES
                or row.message_type not in inbox.DIALOGUE_TYPES
                or not row.text
            ):
                body = (
                    texts.media_received(row.message_type)
                    if row.message_type in MEDIA_TYPES
                    else texts.unsupported_message()
                )
                outbox.enqueue_text(
                    session,
                    to_phone=arrival.contact.phone,
                    contact_id=arrival.contact.id,
                    body=body,
                    purpose="reply",
                    conversation_id=conversation.id,
                )
                inbox.mark_done(row)
                return None
            return DialogueTurn(
                row_id=row.id,
                sender=arrival.contact.phone,
                text=row.text,
                metadata={
                    "wamid": row.wamid,
                    "profile_name": row.profile_name,
                    "message_type": row.message_type,
                },
            )

    def _forward_to_rep(self, session, row: InboundMessage, arrival: inbox.Arrival) -> None:  # type: ignore[no-untyped-def]
        text = row.text or f"[{row.message_type}]"
        alert = texts.rep_forward(arrival.contact.display_name, arrival.contact.phone, text)
        rep = leads.rep_of_conversation(session, arrival.conversation)
        if rep is not None:
            notifications.to_staff(
                session,
                rep,
                alert,
                purpose="rep_alert",
                object_type=ObjectType.CONVERSATION,
                object_id=arrival.conversation.id,
            )
        else:
            notifications.to_role(
                session,
                Role.SALES,
                alert,
                purpose="rep_alert",
                object_type=ObjectType.CONVERSATION,
                object_id=arrival.conversation.id,
            )

    def _complete(self, row_id: int, replies: list[dict[str, Any]]) -> None:
        with transaction() as session:
            row = session.get(InboundMessage, row_id)
            if row is None or row.status != InboxStatus.PROCESSING:
                return  # another worker finished it after our lease ran out
            contact = contacts.get_or_create_contact(session, row.from_phone)
            for reply in merge_replies(replies):
                text = reply.get("text") or ""
                buttons = [
                    {"id": str(b.get("payload") or b.get("title")), "title": str(b.get("title"))}
                    for b in reply.get("buttons") or []
                ]
                if not text and not buttons:
                    continue
                if buttons:
                    outbox.enqueue_buttons(
                        session,
                        to_phone=contact.phone,
                        contact_id=contact.id,
                        body=text,
                        buttons=buttons,
                        purpose="reply",
                        conversation_id=row.conversation_id,
                    )
                else:
                    outbox.enqueue_text(
                        session,
                        to_phone=contact.phone,
                        contact_id=contact.id,
                        body=text,
                        purpose="reply",
                        conversation_id=row.conversation_id,
                    )
            inbox.mark_done(row)
            if row.processed_at and row.sent_at:
                self.latencies.append((row.processed_at - row.stored_at).total_seconds())
        self.processed += 1

    def _attempt_failed(self, row_id: int, error: str) -> None:
        with transaction() as session:
            row = session.get(InboundMessage, row_id)
            if row is None:
                return
            failed = inbox.mark_failed_attempt(row, error, self.settings.inbox_max_attempts)
            logger.warning(
                "message %s from %s not processed (attempt %s): %s",
                row.wamid,
                row.from_phone,
                row.attempts,
                error,
            )
            if failed:
                notifications.to_role(
                    session,
                    Role.OPS,
                    texts.ops_inbox_failed(row.from_phone, row.text or "", error),
                    purpose="ops_alert",
                )
        self.retried += 1
