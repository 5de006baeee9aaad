"""Exactly one active scheduler: the process holding a PostgreSQL advisory lock runs it.

The lock belongs to one dedicated connection; when the process dies, PostgreSQL closes the
connection and frees the lock, and a standby's next attempt wins. A leader that loses its
connection stops its scheduler at once. Even if two ran for a moment, every handler re-reads
the data under row locks and claims its notice in `sent_notices`, so nothing is sent twice.
SQLite is the one-process embedded setup: the process is always the leader.

`SchedulerRunner` is the scheduler's room in the backend service: a thread with its own event
loop, so reconciling 100,000 jobs or a burst of due timers never stalls the webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from backend.config import Settings, get_settings
from backend.db import normalise_url
from backend.scheduler.service import TimerService

logger = logging.getLogger(__name__)


class Leadership:
    def __init__(self, url: str, key: int | None = None) -> None:
        self.url = normalise_url(url)
        self.key = get_settings().scheduler_lock_key if key is None else key
        self.single_process = make_url(self.url).get_backend_name() == "sqlite"
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        """Try once, without waiting; True when this process is (or already was) the leader."""
        if self.single_process:
            return True
        if self._connection is not None:
            return self.still_held()
        if self._engine is None:
            self._engine = create_engine(
                self.url,
                poolclass=NullPool,
                connect_args={
                    "connect_timeout": 5,
                    # A half-open connection is noticed in seconds, on both ends: the server
                    # then frees the lock for a standby, and our check fails instead of hanging.
                    "keepalives": 1,
                    "keepalives_idle": 10,
                    "keepalives_interval": 5,
                    "keepalives_count": 3,
                    "options": "-c statement_timeout=5000 -c tcp_keepalives_idle=10 "
                    "-c tcp_keepalives_interval=5 -c tcp_keepalives_count=3",
                },
            )
        connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            won = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except Exception:
            connection.close()
            raise
        if won:
            self._connection = connection
            return True
        connection.close()
        return False

    def still_held(self) -> bool:
        if self.single_process:
            return True
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            return True
        except Exception:
            logger.exception("scheduler: the advisory lock's connection is gone")
            self._drop()
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            except Exception:
                logger.warning("scheduler: could not unlock; closing the connection frees it")
            self._drop()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


class SchedulerRunner:
    """Stand by until elected, then run the timer service; step down when the lock is lost."""

    def __init__(self, settings: Settings | None = None, *, url: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.url = normalise_url(url or self.settings.database_url)
        self.role = "stopped"
        self.service: TimerService | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self.role = "standby"
        self._thread = threading.Thread(target=self._main, name="tms-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.role = "stopped"

    @property
    def is_leader(self) -> bool:
        return self.role == "leader"

    def _main(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        leadership = Leadership(self.url, self.settings.scheduler_lock_key)
        poll = self.settings.scheduler_leader_poll_seconds
        try:
            while not self._stop.is_set():
                try:
                    await self._step(leadership)
                except Exception:
                    logger.exception("scheduler: election or start-up failed; trying again")
                    self._step_down()
                # Short naps so a stop request is honoured quickly.
                for _ in range(max(int(poll / 0.1), 1)):
                    if self._stop.is_set():
                        break
                    await asyncio.sleep(0.1)
        finally:
            self._step_down()
            await asyncio.sleep(0.1)  # let APScheduler's shutdown callback run on this loop
            leadership.release()

    async def _step(self, leadership: Leadership) -> None:
        # The lock checks run off the loop: a slow database must not freeze the timers.
        if self.service is None:
            if await asyncio.to_thread(leadership.acquire):
                service = TimerService(self.settings, url=self.url)
                self.service = service
                report = service.start()
                self.role = "leader"
                logger.info("scheduler: elected; %s", report)
        elif not await asyncio.to_thread(leadership.still_held):
            logger.error("scheduler: lost the lock; stepping down")
            self._step_down()
        else:
            self.service.nudge()

    def _step_down(self) -> None:
        if self.service is not None:
            self.service.shutdown()
            self.service = None
        if not self._stop.is_set():
            self.role = "standby"
