"""Webhook ingest with a group commit: the webhooks that arrive while one transaction is being
written are written together in the next one, by one writer task per process.

A request parses and checks its body first (a malformed one is refused without touching the
database), hands the rows to the writer and awaits its own result; it is answered 200 only
once the transaction holding its rows has committed. Under load a commit (a WAL flush) and its
round trips are shared by every webhook of the batch instead of paid by each; alone, a webhook
is written at once, with no wait for company.

If a batch's transaction fails, nothing of it is committed and each of its webhooks is written
again alone, so one bad webhook fails only its own request (Meta sends it again) and never
holds up or wrongly acknowledges the others. Dedupe stays in the database (unique wamid), so
it holds across batches, writers and processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from backend.db import get_engine
from backend.services import message_templates, messaging_limits
from backend.whatsapp import inbox, statuses
from backend.whatsapp.inbox import ParsedWebhook, StoreResult

logger = logging.getLogger(__name__)

# One batch's rows go in one INSERT per table; past this many webhooks the rest wait for the
# next transaction (keeps one statement and one lock set bounded).
MAX_BATCH = 256

StoreBatch = Callable[[Sequence[ParsedWebhook]], Awaitable[list[StoreResult]]]


def store_batch(connection: Connection, webhooks: Sequence[ParsedWebhook]) -> list[StoreResult]:
    """Several webhooks in one transaction, their statuses applied; one result per webhook.

    Messages alone go in one INSERT statement in autocommit: a statement is atomic and
    committed when it returns, which spares the BEGIN and COMMIT round trips. Statuses need a
    transaction (the advisory locks of `apply_pending` are held to its commit)."""
    if connection.dialect.name == "postgresql":  # SQLite: one local writer, no round trips
        messages = sum(len(w.messages) for w in webhooks)
        # insertmanyvalues sends up to this many rows per statement; more would be several.
        one_statement = messages <= connection.dialect.insertmanyvalues_page_size
        autocommit = one_statement and not any(w.statuses or w.templates for w in webhooks)
        level = "AUTOCOMMIT" if autocommit else connection.default_isolation_level
        connection.execution_options(isolation_level=level)
        if autocommit:
            with connection.begin():
                return inbox.store_parsed(connection, webhooks)
    with Session(bind=connection) as session, session.begin():
        results = inbox.store_parsed(session, webhooks)
        new_status_wamids = [w for r in results for w in r.new_status_wamids]
        statuses.apply_pending(session, new_status_wamids)
        for webhook in webhooks:  # template changes, the messaging limit
            for field_name, value in webhook.templates:
                if field_name in messaging_limits.WEBHOOK_FIELDS:
                    messaging_limits.apply_webhook(session, value)
                else:
                    message_templates.apply_webhook(session, field_name, value)
        return results


class WriterConnection:
    """The writer's connection, used in a worker thread and kept from one batch to the next:
    a pool checkout pings the server first (one more round trip per batch). After an error it
    is given back and the next batch checks out a fresh one.

    (Driving psycopg's async connection from the event loop instead, through SQLAlchemy's
    greenlet bridge, measured no faster: the same CPU per webhook, batches no shorter.)"""

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._connection: Connection | None = None

    async def store(self, webhooks: Sequence[ParsedWebhook]) -> list[StoreResult]:
        return await asyncio.to_thread(self._store, webhooks)

    def _store(self, webhooks: Sequence[ParsedWebhook]) -> list[StoreResult]:
        connection, self._connection = self._connection, None
        if connection is None:
            connection = get_engine(self._url).connect()
        try:
            results = store_batch(connection, webhooks)
        except BaseException:
            connection.close()  # rolled back; a broken one is discarded by the pool
            raise
        self._connection = connection
        return results

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.to_thread(connection.close)


class IngestWriter:
    """Writes the webhooks handed to `store` in batches, one transaction at a time."""

    def __init__(self, store: StoreBatch | None = None, *, max_batch: int = MAX_BATCH) -> None:
        self._connection = WriterConnection()
        self._custom_store = store
        self._max_batch = max_batch
        self._pending: list[tuple[ParsedWebhook, asyncio.Future[StoreResult]]] = []
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._writing = False
        self.batches = 0  # transactions committed, for the tests and the curious

    async def store(self, webhook: ParsedWebhook) -> StoreResult:
        """The webhook's result once its rows are committed; raises what writing it raised."""
        future: asyncio.Future[StoreResult] = asyncio.get_running_loop().create_future()
        self._pending.append((webhook, future))
        self._start()
        assert self._wakeup is not None
        self._wakeup.set()
        # A request that is cancelled (the client went away) leaves its webhook in the batch:
        # it is written all the same, and a repeat is deduplicated. (The callback reads an
        # error nobody awaits any more, so that asyncio does not log it as lost.)
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        """Write what is pending, then stop the writer task."""
        while (self._pending or self._writing) and self._task is not None and not self._task.done():
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._connection.aclose()

    async def _store(self, webhooks: list[ParsedWebhook]) -> list[StoreResult]:
        if self._custom_store is not None:
            return await self._custom_store(webhooks)
        return await self._connection.store(webhooks)

    def _start(self) -> None:
        if self._task is None or self._task.done():
            # Created in the running loop on first use (Sanic's workers run their own loops).
            self._wakeup = asyncio.Event()
            self._task = asyncio.create_task(self._run(self._wakeup), name="webhook-ingest")

    async def _run(self, wakeup: asyncio.Event) -> None:
        while True:
            await wakeup.wait()
            wakeup.clear()
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                self._writing = True
                try:
                    await self._write(batch)
                except asyncio.CancelledError:
                    # Stopped mid-write: whoever waits gets an error (a 5xx, and Meta sends it
                    # again), never a 200 the writer cannot vouch for.
                    stopped = RuntimeError("the webhook writer stopped")
                    for _, future in batch + self._pending:
                        _settle(future, error=stopped)
                    raise
                except Exception as exc:  # a bug of ours: fail these, keep the writer going
                    logger.exception("the webhook writer failed a batch")
                    for _, future in batch:
                        _settle(future, error=exc)
                finally:
                    self._writing = False

    async def _write(self, batch: list[tuple[ParsedWebhook, asyncio.Future[StoreResult]]]) -> None:
        try:
            results = await self._store([webhook for webhook, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], error=exc)
                return
            # Rolled back whole: write each alone, so only a webhook that fails by itself fails.
            logger.warning(
                "a batch of %d webhooks failed (%s); writing them one by one", len(batch), exc
            )
            for item in batch:
                await self._write([item])
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[StoreResult],
    *,
    result: StoreResult | None = None,
    error: BaseException | None = None,
) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]
