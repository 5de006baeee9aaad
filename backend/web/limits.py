"""Limits on what a stranger can send: request body sizes per route, and request rates per
client address.

Body limits are checked when the route is known and before Sanic reads the body: a
Content-Length over the route's limit is answered 413 at once (the body is never read), and a
chunked body is cut off with 413 as soon as it streams past the limit. deploy/Caddyfile sets
the same limits at the door.

Rate limits are token buckets kept in this process's memory, per client address: with several
backend processes (BACKEND_PROCESSES, replicas) each keeps its own, so a client gets up to that
many times the rate. Enough to stop a loop or a scraper hammering the customer pages and
Stripe; not an accounting. The sign-in routes can use the same `RateLimiter`.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sanic import Request, Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.response import HTTPResponse

KIB = 1024

# (path prefix, the most a request body may hold), the longest prefix wins. Meta's webhook
# batches are far under 512 KiB; a payment event is a few KB; the console's largest form (an
# incident's three messages and resolution) is about 11,000 characters, up to ~100 KB
# URL-encoded in a non-Latin script; a customer page's largest is a 4,000-character comment.
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    ("/webhooks/whatsapp", 512 * KIB),
    ("/webhooks/payments", 64 * KIB),
    ("/webhooks/stripe", 64 * KIB),
    ("/api/", 256 * KIB),
    ("/console/sign-in", 8 * KIB),
    ("/console", 128 * KIB),
    ("/pay/", 32 * KIB),
    # A transfer's receipt (a photo or PDF) uploaded on the pay page: PAYMENT_PROOF_MAX_BYTES
    # (10 MB by default, refused with the page's own words) plus the form around it.
    ("/pay-receipt/", 12 * KIB * KIB),
    ("/book/", 32 * KIB),
    ("/track/", 32 * KIB),
    ("/feedback/", 32 * KIB),
    # The travellers' papers page: a traveller's form (its longest field 1,000 characters),
    # and one photo at a time on its own route: TRAVELLER_PHOTO_MAX_BYTES (8 MB) and the form.
    ("/papers/", 32 * KIB),
    ("/papers-photo/", 10 * KIB * KIB),
)
# Any other route (health, metrics, static files) takes no body worth the name.
DEFAULT_BODY_LIMIT = 16 * KIB
# Sanic's own limit, for whatever the per-route check does not see.
GLOBAL_BODY_LIMIT = max(limit for _, limit in BODY_LIMITS)


def body_limit_for(path: str) -> int:
    """The most a request body to `path` may hold, in bytes."""
    best = ("", DEFAULT_BODY_LIMIT)
    for prefix, limit in BODY_LIMITS:
        if path.startswith(prefix) and len(prefix) > len(best[0]):
            best = (prefix, limit)
    return best[1]


def install_body_limits(app: Sanic) -> None:
    """Refuse bodies over the route's limit with 413, before they are read."""
    app.config.REQUEST_MAX_SIZE = GLOBAL_BODY_LIMIT

    @app.signal("http.routing.after")
    async def limit_body(request: Request, route: Any, kwargs: Any, handler: Any) -> None:
        stream = request.stream
        if stream is None or not getattr(stream, "request_body", None):
            return
        limit = body_limit_for(request.path)
        # Sanic reads the body after this signal; its reader refuses (413) once the bytes
        # announced or received pass `request_max_size`, and drops the rest unread.
        stream.request_max_size = min(stream.request_max_size, limit)
        length = request.headers.get("content-length")
        if length is not None and length.isascii() and length.isdigit() and int(length) > limit:
            # Said before any byte is read (and before a "100 Continue" invites the body);
            # Sanic then closes the connection rather than read the rest (over the limit),
            # so the answer says "Connection: close": a client must not reuse it.
            stream.keep_alive = False  # type: ignore[attr-defined]  # Sanic's Http (HTTP/1.1)
            raise PayloadTooLarge(f"Request body over this route's {limit // KIB} KiB limit")


# -- rates -----------------------------------------------------------------------------------------
@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per key (a client address): `capacity` requests at once, refilled at
    `capacity` per `period` seconds. Thread-safe; memory stays bounded (full buckets are
    forgotten when there are many)."""

    MAX_KEYS = 20_000

    def __init__(
        self, capacity: int, period: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.capacity = max(1, capacity)
        self.rate = self.capacity / period  # tokens per second
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Take one request for `key`: 0 when allowed, else the seconds until it would be."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.MAX_KEYS:
                    self._forget_full(now)
                bucket = self._buckets[key] = _Bucket(float(self.capacity), now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self.MAX_KEYS:  # a flood of addresses: start again
            self._buckets.clear()


def client_address(request: Request) -> str:
    """The client's address: the proxy's forwarded one when TRUSTED_PROXIES says how many
    proxies stand in front (Sanic's PROXIES_COUNT), else the connection's peer."""
    return request.remote_addr or request.ip or "unknown"


def too_many_requests(retry_after: float) -> HTTPResponse:
    seconds = max(1, math.ceil(retry_after))
    return response.text(
        f"Too many requests. Please try again in {seconds} seconds.",
        status=429,
        headers={"Retry-After": str(seconds), "Cache-Control": "no-store"},
    )


Handler = Callable[..., Awaitable[HTTPResponse]]


def rate_limited(
    limiter: Callable[[Request], RateLimiter | None],
) -> Callable[[Handler], Handler]:
    """Answer 429 with Retry-After when the client's bucket in `limiter(request)` is empty
    (None: no limit for this request)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse:
            bucket = limiter(request)
            if bucket is not None:
                wait = bucket.take(client_address(request))
                if wait:
                    return too_many_requests(wait)
            return await handler(request, *args, **kwargs)

        return run

    return wrap
