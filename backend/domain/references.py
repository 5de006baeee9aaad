"""Human references: lead `EBC2501234`, booking `EBC-2501234`, trip `TRP2501234`.

A reference is a prefix (product code or TRP), the year and month (`2501`) and a sequence
of at least three digits. Lookups ignore case, spaces and hyphens: the key of
`ebc-2501234` is `EBC2501234`.
"""

from __future__ import annotations

import re
from datetime import date

from backend.domain.errors import InvalidReference

TRIP_PREFIX = "TRP"
_KEY = re.compile(r"^([A-Z]{2,5})(\d{4})(\d{3,})$")


def reference_key(text: str) -> str:
    return re.sub(r"[\s\-_]", "", text or "").upper()


def parse_reference(text: str) -> tuple[str, str, int]:
    """(prefix, yymm, sequence) of a reference in any spelling, or InvalidReference."""
    match = _KEY.match(reference_key(text))
    if not match:
        raise InvalidReference(
            f"'{text}' is not a reference; they look like EBC2501234, EBC-2501234 or TRP2501234"
        )
    return match.group(1), match.group(2), int(match.group(3))


def counter_prefix(code: str, on: date) -> str:
    return f"{code.upper()}{on:%y%m}"


def lead_reference(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:03d}"


def booking_reference(prefix: str, sequence: int) -> str:
    code, yymm = prefix[:-4], prefix[-4:]
    return f"{code}-{yymm}{sequence:03d}"


def booking_reference_for_lead(lead_reference_text: str) -> str:
    """The booking a lead becomes keeps its number: EBC2501234 → EBC-2501234."""
    code, yymm, seq = parse_reference(lead_reference_text)
    return f"{code}-{yymm}{seq:03d}"
