"""Token buckets for Meta's limits: the business number's messages per second, and the
about-one-message-per-six-seconds to a single recipient (with a burst allowance)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


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
