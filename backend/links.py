"""The links the chat sends customers: pay, confirm a waitlist offer, track the trip, give
feedback, fill in the travellers' papers. Each carries a signed token bound to its booking and
its purpose, with an expiry: a booking reference alone opens nothing, a pay token does not open
the track page, and a tampered or expired token is refused (the page then says what to do
instead).

Tokens are itsdangerous `URLSafeTimedSerializer` strings (HMAC-SHA1 over a compact JSON
payload, one salt per purpose), signed with `LINK_SECRET` and stamped with the project's
clock, so an expiry means the same thing to the demo's story as to production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from backend import clock
from backend.config import get_settings

# How long a link stays good. The page still checks the booking's state: a paid link says
# "paid", an offer that ran out says so, however young the token.
LIFETIMES = {
    "pay": timedelta(days=180),
    "book": timedelta(days=3),
    "track": timedelta(days=120),
    "feedback": timedelta(days=120),
    # Sent after the deposit, months before the trip; reopened to correct until ops lock the
    # papers. Well past the trip: the page then says the details were checked or purged.
    "papers": timedelta(days=400),
}
PAY_KINDS = ("deposit", "full", "balance")


class LinkRefused(Exception):
    """The token is not one of ours for this page (tampered, another purpose) or too old."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


class _ClockSigner(TimestampSigner):
    """Timestamps from the project's clock (itsdangerous would read the machine's)."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    if purpose not in LIFETIMES:
        raise ValueError(f"no such link purpose: {purpose}")
    return URLSafeTimedSerializer(
        get_settings().link_secret, salt=f"tms.link.{purpose}", signer=_ClockSigner
    )


@dataclass(frozen=True)
class LinkClaims:
    purpose: str
    reference_key: str  # the booking's (EBC2412004)
    kind: str | None = None  # pay links: deposit, full or balance


def token_for(purpose: str, reference_key: str, *, kind: str | None = None) -> str:
    payload: dict[str, Any] = {"r": reference_key}
    if kind:
        payload["k"] = kind
    return str(_serializer(purpose).dumps(payload))


def url_for(purpose: str, reference_key: str, *, kind: str | None = None) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/{purpose}/{token_for(purpose, reference_key, kind=kind)}"


def read(purpose: str, token: str) -> LinkClaims:
    """The claims of a token for this page, or LinkRefused."""
    try:
        payload = _serializer(purpose).loads(token, max_age=int(LIFETIMES[purpose].total_seconds()))
    except SignatureExpired as exc:
        raise LinkRefused("this link has expired", expired=True) from exc
    except BadSignature as exc:
        raise LinkRefused("this link is not valid") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("r"), str):
        raise LinkRefused("this link is not valid")
    kind = payload.get("k")
    if kind is not None and (purpose != "pay" or kind not in PAY_KINDS):
        raise LinkRefused("this link is not valid")
    return LinkClaims(purpose=purpose, reference_key=payload["r"], kind=kind)


def pay_url(reference_key: str, kind: str | None = None) -> str:
    return url_for("pay", reference_key, kind=kind)


def book_url(reference_key: str) -> str:
    return url_for("book", reference_key)


def track_url(reference_key: str) -> str:
    return url_for("track", reference_key)


def feedback_url(reference_key: str) -> str:
    return url_for("feedback", reference_key)


def papers_url(reference_key: str) -> str:
    return url_for("papers", reference_key)
