"""Token buckets for Meta's limits: the business number's messages per second, and the
about-one-message-per-six-seconds to a single recipient (with a burst allowance)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text


class TokenBucket:
    def __init__(
        self, rate: float, capacity: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.capacity = capacity
        self._now = now
        self._tokens = capacity
        self._stamp = now()

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self) -> float:
        """Take a token and return 0, or return the seconds until one is there (taking none)."""
        self._refill()
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


class RecipientPacer:
    """One bucket per recipient, created on first use and forgotten when full again."""

    def __init__(
        self, interval_seconds: float, burst: int, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = 1.0 / interval_seconds if interval_seconds > 0 else float("inf")
        self.burst = burst
        self._now = now
        self._buckets: dict[str, TokenBucket] = {}

    def try_take(self, recipient: str) -> float:
        if self.rate == float("inf"):
            return 0.0
        bucket = self._buckets.get(recipient)
        if bucket is None:
            bucket = self._buckets[recipient] = TokenBucket(self.rate, self.burst, self._now)
        wait = bucket.try_take()
        if len(self._buckets) > 10_000:
            self._forget_full()
        return wait

    def _forget_full(self) -> None:
        for key, bucket in list(self._buckets.items()):
            bucket._refill()
            if bucket._tokens >= bucket.capacity:
                del self._buckets[key]

    def take(self, session: object, recipients: list[str]) -> dict[str, float]:
        """`try_take` for each recipient (the session is not used: the buckets are in here)."""
        return {recipient: self.try_take(recipient) for recipient in recipients}


class SharedRecipientPacer:
    """The per-recipient buckets kept in PostgreSQL (`recipient_pacing`), so every sender
    process draws on one bucket per recipient. Taken inside the claim's transaction: a claim
    that rolls back gives its tokens back, and a row's lock orders two claims on one recipient
    (which the outbox's leases make rare)."""

    def __init__(self, interval_seconds: float, burst: int) -> None:
        self.rate = 1.0 / interval_seconds if interval_seconds > 0 else float("inf")
        self.burst = max(burst, 1)

    def take(self, session: Any, recipients: list[str]) -> dict[str, float]:
        """A token for each recipient (given once each): 0 for those who had one, else the
        seconds until their bucket has one again (taking none)."""
        if self.rate == float("inf") or not recipients:
            return dict.fromkeys(recipients, 0.0)
        rows = session.execute(
            text(TAKE_SQL),
            {"phones": sorted(set(recipients)), "rate": self.rate, "burst": float(self.burst)},
        )
        return {
            phone: 0.0 if granted else (1 - tokens) / self.rate for phone, granted, tokens in rows
        }


# One statement for a batch's recipients, on the database's clock: refill each bucket for the
# time since it was last used (up to the burst), take a token where there is one. A recipient
# seen for the first time starts with a full bucket. Sorted, so two claims lock rows in one order.
TAKE_SQL = """
WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t)
INSERT INTO recipient_pacing AS p (phone, tokens, at, granted)
SELECT phone, :burst - 1, now.t, true
FROM unnest(CAST(:phones AS text[])) AS phone, now
ORDER BY phone
ON CONFLICT (phone) DO UPDATE SET
    granted = least(:burst, p.tokens + (excluded.at - p.at) * :rate) >= 1,
    tokens = least(:burst, p.tokens + (excluded.at - p.at) * :rate)
        - CASE WHEN least(:burst, p.tokens + (excluded.at - p.at) * :rate) >= 1 THEN 1 ELSE 0 END,
    at = excluded.at
RETURNING p.phone, p.granted, p.tokens
"""


class AsyncRateLimiter:
    """Waiters take turns at one bucket (first come, first served), so a crowd of senders does
    not wake up together every few milliseconds to find one token."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.bucket = TokenBucket(rate, capacity)
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while (wait := self.bucket.try_take()) > 0:
                await asyncio.sleep(wait)


class SendingSlots:
    """The business number's messages per second for every sender process at once: slots
    spaced `1 / rate` apart on one clock, reserved a batch at a time.

    A sender reserves as many slots as its batch has messages and sends each at its slot, so
    processes on several machines interleave without exceeding the rate together. On
    PostgreSQL the slots are a row (`sending_slots`) on the database's clock: one round trip
    per batch. On SQLite (the embedded, one-process set-up) they are kept in this process.

    `headroom` (below 1) keeps the pace a little under Meta's limit: a message that leaves a
    few milliseconds late must not push a one-second window over it at the other end."""

    def __init__(
        self,
        key: str,
        rate: float,
        *,
        headroom: float = 0.96,
        shared: bool = True,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self.interval = 1.0 / (rate * headroom)
        self.shared = shared
        self._now = now
        self._next_free = 0.0

    def reserve(self, count: int) -> float:
        """Reserve `count` consecutive slots; returns the seconds from now to the first one
        (0 when it is free now). Blocking: call it from a thread."""
        start, now = self.reserve_slots(count)
        return max(start - now, 0.0)

    def reserve_slots(self, count: int) -> tuple[float, float]:
        """Reserve `count` consecutive slots: (the first slot's time, the time now), both on
        the limit's clock (the database's when shared)."""
        if not self.shared:
            now = self._now()
            start = max(self._next_free, now)
            self._next_free = start + max(count, 0) * self.interval
            return start, now
        from backend.db import transaction  # the database only where it is shared

        with transaction() as session:
            start, now = session.execute(
                text(RESERVE_SQL), {"key": self.key, "span": max(count, 0) * self.interval}
            ).one()
            return float(start), float(now)


# One statement: take the slots from the later of "the next free slot" and "now" (a slot that
# passed unused is not saved up: no burst after a quiet spell); say where they start.
RESERVE_SQL = """
WITH now AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS t)
INSERT INTO sending_slots AS s (key, next_free)
SELECT :key, now.t + :span FROM now
ON CONFLICT (key) DO UPDATE
SET next_free = greatest(s.next_free, (SELECT t FROM now)) + :span
RETURNING s.next_free - :span, (SELECT t FROM now)
"""
