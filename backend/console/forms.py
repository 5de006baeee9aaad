"""Values a person typed into a console form, parsed strictly: a bad one is a business-rule
answer (`DomainError`), so the page says why and nothing is saved."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from backend.domain.errors import DomainError


def amount_minor(raw: str, label: str) -> int | None:
    """A money amount typed by a person ("1,200.50") in minor units; blank → None."""
    text = raw.replace(",", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise DomainError(f"{label}: '{raw[:20]}' is not an amount") from exc
    if not value.is_finite() or value < 0 or value > 10_000_000:
        raise DomainError(f"{label}: '{raw[:20]}' is out of range")
    return int((value * 100).quantize(Decimal(1)))


def whole_number(raw: str, label: str, low: int, high: int) -> int:
    try:
        value = int(raw.strip()[:12])
    except ValueError as exc:
        raise DomainError(f"{label}: '{raw}' is not a whole number") from exc
    if not low <= value <= high:
        raise DomainError(f"{label} must be between {low} and {high}")
    return value
