"""`X-Hub-Signature-256`: HMAC-SHA256 of the raw request body with the app secret.

Checked over the raw bytes, in constant time, before anything is parsed (pywa's
`webhook_updates_validator`).
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign(raw_body: bytes, app_secret: str) -> str:
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return PREFIX + digest


def _bytes(value: str) -> bytes:
    # compare_digest refuses non-ASCII str (TypeError): an attacker's header must not be a 500.
    return value.encode("utf-8", "replace")


def signature_valid(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not header.startswith(PREFIX) or not app_secret:
        return False
    return hmac.compare_digest(_bytes(sign(raw_body, app_secret)), _bytes(header.strip()))


def token_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a secret token (the handshake's, the metrics token)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(_bytes(given), _bytes(expected))
