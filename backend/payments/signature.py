"""`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + raw body>` with a
five-minute tolerance, the way Stripe signs its webhooks."""

from __future__ import annotations

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


class SignatureError(ValueError):
    pass


def sign(raw_body: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify(raw_body: bytes, header: str | None, secret: str, *, now: float | None = None) -> None:
    """Raise SignatureError unless one v1 signature matches and the timestamp is fresh."""
    if not header:
        raise SignatureError("missing Stripe-Signature header")
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError) as exc:
        raise SignatureError("no timestamp in Stripe-Signature") from exc
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256
    ).hexdigest()
    # As bytes: compare_digest refuses non-ASCII str, and a bad header must be a 400.
    if not any(
        hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))
        for candidate in parts.get("v1", [])
    ):
        raise SignatureError("no matching v1 signature")
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError("timestamp outside the 5-minute tolerance")
