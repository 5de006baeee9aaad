"""The staff console's own words: sign-in, refusals, the follow-up template's text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from backend import i18n
from backend.texts.format import money

if TYPE_CHECKING:
    from backend.texts.customer import PolicyLineView


def staff_sign_in_code(code: str) -> str:
    """The WhatsApp message carrying a console sign-in code (as the authentication template)."""
    return f"Your staff console sign-in code is {code}. For your security, do not share this code."


CONSOLE_CODE_REFUSED = (
    "That code did not work: it may be mistyped, used, or older than 10 minutes. "
    "Ask for a new code."
)


CONSOLE_LINK_REFUSED = (
    "This sign-in link was already used or has expired. Sign in with a code on WhatsApp, or ask "
    "an administrator for a new link."
)


CONSOLE_CODE_SENT = (
    "If this number belongs to a staff member, a 6-digit code is on its way on WhatsApp. "
    "It works for 10 minutes."
)


CONSOLE_FORBIDDEN = "Your role does not open this page."


CONSOLE_SIGN_IN_AGAIN = (
    "For this change, please sign in again (it has been a while since you did): you will come "
    "back to the page you were on."
)


def console_too_many_tries(seconds: int) -> str:
    """A client over its sign-in budget (codes asked for, or wrong codes and links)."""
    wait = (
        f"{-(-seconds // 60)} minute{'s' if seconds > 60 else ''}"
        if seconds >= 60
        else (f"{seconds} seconds")
    )
    return f"Too many tries from this connection. Please wait {wait}, then try again."


def console_proof_verified(
    reference: str, amount_minor: int, currency: str, confirmed_now: bool, flags: Sequence[str]
) -> str:
    """The payments page after a proof is verified."""
    done = f"Verified: {money(amount_minor, currency)} booked for {reference}"
    if confirmed_now:
        done += "; the booking is confirmed"
    if flags:
        done += f" (checked twice: {', '.join(flags)})"
    return done + ". The customer is told on WhatsApp."


def console_proof_rejected(reference: str) -> str:
    return f"Rejected the proof for {reference}: the customer is told why on WhatsApp."


CONSOLE_FORM_EXPIRED = (
    "That form had expired (or came from another site): nothing was changed. Please try again."
)


# What the follow-up template says (the console offers it when the 24-hour window is closed).
CONVERSATION_FOLLOWUP = (
    "Sorry for the wait! We have an answer to your last message. Reply here and we'll pick up "
    "where we left off."
)


def policy_lines_summary(lines: Sequence[PolicyLineView], currency: str) -> str:
    """A policy's lines in one line, for the timeline and the admin page: "30+ days 100% −
    $50 · 15+ days 70% · 0+ days 0%"."""
    parts = []
    for line in lines:
        part = f"{line.days_before}+ days {line.refund_percent}%"
        if line.fee_minor:
            part += f" − {money(line.fee_minor, currency)}"
        parts.append(part)
    return " · ".join(parts)


# Staff read English, even when the message is built inside a customer's turn in German.
i18n.in_english(globals())
