"""Phone numbers, always E.164 (`+9779841000001`), through the `phonenumbers` library."""

from __future__ import annotations

import phonenumbers

from backend.domain.errors import InvalidPhoneNumber


def normalise_phone(raw: str, default_region: str | None = None) -> str:
    """E.164 for any way people write a number; WhatsApp's `wa_id` (digits, no `+`) included.

    Raises InvalidPhoneNumber with a message a person can act on.
    """
    text = (raw or "").strip()
    if not text:
        raise InvalidPhoneNumber("A phone number is required")
    if text.startswith("00"):
        text = "+" + text[2:]  # international call prefix
    elif text.isdigit() and len(text) > 10:
        text = "+" + text  # wa_id form: country code without the plus
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"'{raw}' is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(
            f"'{raw}' is not a valid phone number; write it with its country code, e.g. +9779841000001"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def wa_id(e164: str) -> str:
    """The form WhatsApp uses in `to` and `wa_id`: digits only."""
    return e164.lstrip("+")
