"""Who a WhatsApp user is: a phone number, a business-scoped user ID (BSUID), or both.

Since April 2026 Meta's webhooks carry a BSUID (`user_id`, e.g. `US.13491208655302741918`)
for every user; a user who adopts a username may stop sharing their phone number. Where one
string must name a user (the inbox's per-sender order, an outbound message's recipient, the
assistant's sender id) it is their *address*: the E.164 phone when known, else the BSUID.
"""

from __future__ import annotations

import re

# Meta: a two-letter ISO 3166 country code, a period, up to 128 alphanumeric characters;
# a parent BSUID has `ENT.` after the country (US.ENT.11815799212886844830).
_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
# Room for a parent BSUID (2 + 1 + 4 + 128) in every column that holds an address.
ADDRESS_LENGTH = 140


def is_bsuid(value: str | None) -> bool:
    """Whether `value` is shaped like a BSUID (never a phone number, which has no letters)."""
    return bool(value) and _BSUID.fullmatch(value or "") is not None


def address(phone: str | None, user_id: str | None) -> str:
    """The one string that names a user: their phone when known, else their BSUID."""
    found = phone or user_id
    if not found:
        raise ValueError("a WhatsApp user needs a phone number or a business-scoped user ID")
    return found
