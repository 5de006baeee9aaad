"""The inbox worker: takes stored messages in order per sender, asks Rasa, queues the replies.

Several senders are handled at once; one sender's messages one at a time. A Rasa that is not
ready (restarting, loading its model) is waited for, with the message's lease renewed, and asked
once it answers: a restart costs no attempt. A message Rasa may have received when it failed
(it died mid-turn, its action server was down) is left pending with backoff, and the next
attempt waits for the part that failed to be ready again: nothing is lost. A crash after Rasa
answered but before the replies were saved is safe too: the lease runs out, the message is
processed again, and the actions replay their stored answer (see `actions/common.py`), so the
customer is answered once.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from backend import texts
from backend.assistant_protocol import (
    ACTION_SECRET_HEADER,
    RASA_CHANNEL_PATH,
    RASA_CHANNEL_SECRET_HEADER,
    RETRY_MARKER,
)
from backend.config import Settings, get_settings
from backend.db import transaction
from backend.domain.enums import InboxStatus, Role
from backend.models import InboundMessage
from backend.services import arrivals, notifications, outbox
from backend.services.arrivals import DialogueTurn
from backend.whatsapp import inbox
from backend.workers import run_until_stopped

logger = logging.getLogger(__name__)

# How often a part that is not ready is asked again, and how long a message waits for it
# before the wait counts as a failed attempt (Rasa reloads its model in about 30 s here).
READY_POLL_SECONDS = 0.25
READY_WAIT_SECONDS = 120.0


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


class ActionCouldNotFinish(RasaUnavailable):
    """Rasa answered, but an action asked for the message to be retried (the action server or
    its database failed mid-turn)."""


class RasaNotReady(RasaUnavailable):
    """No replica for this sender is ready: the message was not delivered to any (wait, then
    send it again; nothing to undo)."""


class Readiness:
    """Whether a part answers, asked only when not known: known ready until a call to it
    fails (`forget`), then asked at most every READY_POLL_SECONDS however many wait for it."""

    def __init__(self, ask: Callable[[], Awaitable[bool]]) -> None:
        self._ask = ask
        self.known_ready = False
        self._asked_at = float("-inf")
        self._lock: asyncio.Lock | None = None

    def forget(self) -> None:
        self.known_ready = False

    async def ready(self) -> bool:
        if self.known_ready:
            return True
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self.known_ready or time.monotonic() - self._asked_at < READY_POLL_SECONDS:
                return self.known_ready
            self.known_ready = await self._ask()
            self._asked_at = time.monotonic()
            return self.known_ready

    async def wait(self, deadline: float) -> bool:
        """Until ready (True) or `deadline` (time.monotonic) passes (False)."""
        while not await self.ready():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(READY_POLL_SECONDS)
        return True


def rasa_channel_headers(secret: str | None = None) -> dict[str, str]:
    return {RASA_CHANNEL_SECRET_HEADER: secret or get_settings().rasa_channel_secret}


def replica_order(sender: str, replicas: Sequence[str]) -> list[str]:
    """The replicas in the order `sender` tries them: rendezvous hashing, so a sender always
    starts at the same replica (its turns stay on one process) and, when a replica goes away,
    only that replica's senders move, each to the same next one."""
    return sorted(
        replicas,
        key=lambda url: hashlib.blake2b(f"{url}|{sender}".encode(), digest_size=8).digest(),
        reverse=True,
    )


class RasaClient:
    """The assistant's channel: POST /webhooks/tms/webhook {sender, message, metadata}, with
    the channel's secret. `base_url` is one Rasa or several replicas (a list, or URLs
    separated by commas): each sender goes to its own replica, and to the next one only while
    that replica cannot be reached (nothing was delivered, so nothing is processed twice).

    A replica is sent nothing until it is ready: `GET /` answers (`rasa run` opens its port
    only once the model is loaded) and, when its HTTP API is on, `GET /status` does not say
    409 (no model loaded yet). A call that fails makes it ask again."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        *,
        secret: str | None = None,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        urls = base_url.split(",") if isinstance(base_url, str) else list(base_url)
        self.replicas = [url.strip().rstrip("/") for url in urls if url.strip()]
        if not self.replicas:
            raise ValueError("no Rasa URL given")
        self._client = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers=rasa_channel_headers(secret),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )
        self.readiness = {
            replica: Readiness(functools.partial(self._answers, replica))
            for replica in self.replicas
        }
        self._not_ready: dict[str, str] = {}  # why each replica was last found not ready

    async def _answers(self, replica: str) -> bool:
        try:
            root = await self._client.get(f"{replica}/", timeout=3)
            if root.status_code != 200:
                self._not_ready[replica] = f"GET / answered HTTP {root.status_code}"
                return False
            # 404 (API off) or 401/403 (API behind a token) say nothing: the port is open, so
            # the model is loaded. 409 is Rasa's "no agent loaded".
            status = await self._client.get(f"{replica}/status", timeout=3)
        except httpx.HTTPError as exc:
            self._not_ready[replica] = type(exc).__name__
            return False
        if status.status_code == 409:
            self._not_ready[replica] = "its model is not loaded yet"
            return False
        return True

    async def wait_until_ready(self, sender: str, deadline: float) -> bool:
        """Until one of `sender`'s replicas is ready (True) or `deadline` passes (False)."""
        replicas = [self.readiness[r] for r in replica_order(sender, self.replicas)]
        while True:
            for replica in replicas:
                if await replica.ready():
                    return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(READY_POLL_SECONDS)

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        payload = {"sender": sender, "message": text, "metadata": metadata}
        unreachable: list[str] = []
        for replica in replica_order(sender, self.replicas):
            readiness = self.readiness[replica]
            if not await readiness.ready():
                unreachable.append(f"{replica}: {self._not_ready.get(replica, 'not ready')}")
                continue  # as if unreachable: the next replica may take it
            try:
                response = await self._client.post(f"{replica}{RASA_CHANNEL_PATH}", json=payload)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                readiness.forget()
                unreachable.append(f"{replica}: {type(exc).__name__}")
                self._not_ready[replica] = type(exc).__name__
                continue  # never delivered: the next replica may take it
            except httpx.HTTPError as exc:
                readiness.forget()
                # Delivered, maybe processed: the inbox retries it later, not another replica now.
                raise RasaUnavailable(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code != 200:
                readiness.forget()
            return self._replies(response)
        raise RasaNotReady(f"no Rasa replica is ready ({'; '.join(unreachable)})")

    @staticmethod
    def _replies(response: httpx.Response) -> list[dict[str, Any]]:
        if response.status_code != 200:
            raise RasaUnavailable(
                f"Rasa answered HTTP {response.status_code}: {response.text[:200]}"
            )
        try:
            replies = response.json()
        except ValueError as exc:
            raise RasaUnavailable("Rasa answered something that is not JSON") from exc
        if not isinstance(replies, list):
            raise RasaUnavailable("Rasa answered something that is not a list of messages")
        failed = [
            r for r in replies if isinstance(r, dict) and RETRY_MARKER in (r.get("custom") or {})
        ]
        if failed:
            raise ActionCouldNotFinish(
                f"an action could not finish ({failed[0]['custom'][RETRY_MARKER]})"
            )
        return replies

    async def aclose(self) -> None:
        await self._client.aclose()


class InboxWorker:
    def __init__(
        self,
        rasa: RasaClient,
        settings: Settings | None = None,
        *,
        concurrency: int = 16,
        on_processed: Callable[[float], None] | None = None,
        ready_wait: float = READY_WAIT_SECONDS,
    ) -> None:
        self.rasa = rasa
        self.settings = settings or get_settings()
        self.concurrency = concurrency
        # How long a message waits for Rasa or the action server to be ready, per attempt.
        self.ready_wait = ready_wait
        self.action_server = Readiness(lambda: self.action_server_up())
        self.action_server.known_ready = True  # until Rasa's answer says otherwise
        self.processed = 0
        self.retried = 0
        self.in_flight = 0  # messages claimed and not yet finished
        self.replies_queued: asyncio.Event | None = None
        # Seconds from storing to replies queued, for each message (the metrics' histogram).
        self.on_processed = on_processed

    async def run(
        self,
        stop: asyncio.Event,
        idle_sleep: float = 0.2,
        wakeup: asyncio.Event | None = None,
        replies_queued: asyncio.Event | None = None,
    ) -> None:
        """The service loop; `wakeup` is set by the webhook when messages arrive, and this sets
        `replies_queued` so the sender does not wait for its next poll.

        Batches are not waited for before the next claim: a message waiting for Rasa (up to
        `ready_wait` while it restarts) must not hold up a guide's photo, a STOP or a paused
        chat's message that needs no Rasa. At most `concurrency` messages are in flight; a
        sender's next message is never claimed while one of theirs is (`inbox.claim`)."""
        self.replies_queued = replies_queued
        batches: set[asyncio.Task[None]] = set()

        async def one_pass() -> int:
            free = self.concurrency - self.in_flight
            if free <= 0:
                return 0
            ids, token = await asyncio.to_thread(self._claim, free)
            if ids:
                batch = asyncio.create_task(self._work(ids, token))
                batches.add(batch)
                batch.add_done_callback(batches.discard)
            return len(ids)

        try:
            await run_until_stopped("inbox worker", one_pass, stop, idle_sleep, wakeup)
        finally:
            # Their leases lapse and another worker (or this one, restarted) takes them again.
            for batch in list(batches):
                batch.cancel()
            await asyncio.gather(*batches, return_exceptions=True)

    def _claim(self, limit: int | None = None) -> tuple[list[int], str]:
        with transaction() as session:
            rows = inbox.claim(session, limit or self.concurrency)
            return [row.id for row in rows], (rows[0].lease_token or "") if rows else ""

    async def run_once(self) -> int:
        """Claim one batch and process it to the end (tests, benchmarks)."""
        ids, token = await asyncio.to_thread(self._claim)
        if ids:
            await self._work(ids, token)
        return len(ids)

    async def _work(self, ids: list[int], token: str) -> None:
        self.in_flight += len(ids)
        renewer = asyncio.create_task(self._renew(token))
        try:
            await asyncio.gather(*(self._process(row_id, token) for row_id in ids))
        finally:
            renewer.cancel()
            self.in_flight -= len(ids)

    async def _renew(self, token: str) -> None:
        """Keep the claim's lease while Rasa works on it (a busy Rasa can take longer than
        the lease): only a process that died lets its messages pass to another."""
        every = inbox.lease_length().total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await asyncio.to_thread(self._extend_lease, token)
            except Exception:
                logger.exception("inbox: could not renew the lease %s", token)

    @staticmethod
    def _extend_lease(token: str) -> None:
        with transaction() as session:
            inbox.extend_lease(session, token)

    async def _process(self, row_id: int, token: str) -> None:
        turn = await asyncio.to_thread(self._arrive, row_id, token)
        if turn is None:
            return
        deadline = time.monotonic() + self.ready_wait
        try:
            if not await self.action_server.wait(deadline):
                raise RasaUnavailable("the action server did not come back")
            while True:
                try:
                    replies = await self.rasa.send(turn.sender, turn.text, turn.metadata)
                    break
                except RasaNotReady:
                    # Delivered nowhere: wait for Rasa (the lease is renewed meanwhile) and
                    # send again under the same attempt, unless the lease has passed on.
                    if not await self.rasa.wait_until_ready(turn.sender, deadline):
                        raise
                    if not await asyncio.to_thread(self._holds, row_id, token):
                        return
            if not replies and not await self.action_server_up():
                # Rasa answers nothing when its custom action could not be reached: retry, and
                # let the next attempts wait for the action server instead of failing too.
                self.action_server.forget()
                raise RasaUnavailable("Rasa answered nothing and the action server is down")
        except RasaUnavailable as exc:
            if isinstance(exc, ActionCouldNotFinish):
                self.action_server.forget()  # asked again before the next turn goes to Rasa
            await asyncio.to_thread(self._attempt_failed, row_id, token, str(exc))
            return
        # An empty answer from a healthy stack is an answer (the assistant chose silence).
        await asyncio.to_thread(self._complete, row_id, token, replies)
        if self.replies_queued is not None:
            self.replies_queued.set()

    async def action_server_up(self) -> bool:
        """Whether Rasa could reach its actions: asked the way Rasa asks, with the secret (a
        wrong secret fails Rasa's calls as surely as a stopped server)."""
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                answer = await client.get(
                    f"{self.settings.action_server_url}/actions",
                    headers={ACTION_SECRET_HEADER: self.settings.action_server_secret},
                )
        except httpx.HTTPError:
            return False
        return answer.status_code == 200

    @staticmethod
    def _holds(row_id: int, token: str) -> bool:
        with transaction() as session:
            return inbox.holds(session.get(InboundMessage, row_id), token)

    def _arrive(self, row_id: int, token: str) -> DialogueTurn | None:
        """Record the message; done here when an arrival handler took it (see
        `backend/services/arrivals.py`), else the assistant's turn."""
        with transaction() as session:
            row = session.get(InboundMessage, row_id)
            if not inbox.holds(row, token):
                return None
            assert row is not None
            turn = arrivals.route(session, row, inbox.record_arrival(session, row))
            if turn is None:
                inbox.mark_done(row)
            return turn

    def _complete(self, row_id: int, token: str, replies: list[dict[str, Any]]) -> None:
        with transaction() as session:
            row = session.get(InboundMessage, row_id, with_for_update=True)
            if not inbox.holds(row, token):
                logger.warning(
                    "message %s: lease lost, its answer is left to the new holder", row_id
                )
                return  # our lease ran out and another worker holds it now
            assert row is not None
            contact = inbox.sender_contact(session, row)
            sent = 0
            for reply in merge_replies(replies):
                text = reply.get("text") or ""
                buttons = [
                    {
                        "id": str(b.get("payload") or b.get("title")),
                        "title": str(b.get("title")),
                        **({"description": str(b["description"])} if b.get("description") else {}),
                    }
                    for b in reply.get("buttons") or []
                ]
                if not text and not buttons:
                    continue
                if buttons:
                    outbox.enqueue_buttons(
                        session,
                        to_phone=contact.address,
                        contact_id=contact.id,
                        body=text,
                        buttons=buttons,
                        purpose="reply",
                        conversation_id=row.conversation_id,
                    )
                else:
                    outbox.enqueue_text(
                        session,
                        to_phone=contact.address,
                        contact_id=contact.id,
                        body=text,
                        purpose="reply",
                        conversation_id=row.conversation_id,
                    )
                sent += 1
            if not sent:
                arrivals.forward_unanswered(session, row, contact)
            inbox.mark_done(row)
            if self.on_processed is not None and row.processed_at:
                self.on_processed((row.processed_at - row.stored_at).total_seconds())
        self.processed += 1

    def _attempt_failed(self, row_id: int, token: str, error: str) -> None:
        with transaction() as session:
            row = session.get(InboundMessage, row_id, with_for_update=True)
            if not inbox.holds(row, token):
                return  # our lease ran out: the new holder decides
            assert row is not None
            failed = inbox.mark_failed_attempt(row, error, self.settings.inbox_max_attempts)
            logger.warning(
                "message %s from %s not processed (attempt %s): %s",
                row.wamid,
                row.from_phone,
                row.attempts,
                error,
            )
            if failed:
                notifications.coalesced_alert(
                    session,
                    Role.OPS,
                    "inbox-failed",
                    lambda: texts.ops_inbox_failed(
                        inbox.queue_depth(session).get(InboxStatus.FAILED, 0),
                        row.from_phone,
                        row.text or "",
                        error,
                    ),
                )
        self.retried += 1
