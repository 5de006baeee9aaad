"""Guide commands as guides type them on a bumpy road: CHECKIN / ISSUE / UPDATE / CHECKOUT
<ref> [text], PAID <ref> <amount> [currency] [CASH], and ACCEPT / DECLINE / CONFIRM, in any
case, with any spacing or punctuation, with or without the reference's hyphen (`TRP2412002`,
`trp-2412002`, `TRP 2412002`).

Plain Python on purpose (no imports beyond the standard library): the assistant's NLU
component (`addons/guide_commands.py`, Python 3.10 with Rasa) and the guide actions (Python
3.11) share this grammar, so a command never depends on a statistical guess and is read the
same way on both sides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The command word → the intent the assistant gives it.
INTENTS = {
    "CHECKIN": "guide_checkin",
    "ISSUE": "guide_issue",
    "UPDATE": "guide_update",
    "CHECKOUT": "guide_checkout",
    "PAID": "guide_paid",
    "ACCEPT": "affirm",
    "CONFIRM": "affirm",
    "DECLINE": "deny",
}
# The intents only staff can have: a customer's message never gets one.
STAFF_ONLY_INTENTS = frozenset(intent for intent in INTENTS.values() if intent.startswith("guide_"))

_COMMAND = (
    r"(?P<command>check[\s_\-]*in|check[\s_\-]*out|issue|update|paid|"
    r"accept(?:ed)?|confirm(?:ed)?|decline(?:d)?)"
)
_REFERENCE = r"(?P<reference>[A-Za-z]{2,5}[ \-]?\d{7,})"
_GAP = r"[\s:;,.\-–—#*_~]*"
PATTERN = re.compile(
    rf"^[\s*_~\"'“”]*{_COMMAND}(?![A-Za-z]){_GAP}(?:{_REFERENCE}(?!\d))?{_GAP}(?P<note>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Anywhere in a sentence a space is not allowed inside it ("on 9801000003" is no reference).
REFERENCE_ANYWHERE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2,5}-?\d{7,})(?!\d)")


@dataclass(frozen=True)
class GuideCommand:
    command: str  # CHECKIN, ISSUE, UPDATE, CHECKOUT, PAID, ACCEPT, CONFIRM or DECLINE
    reference: str | None  # as written, without inner spaces ("trp-2412002" → "trp-2412002")
    note: str  # what follows the reference, stripped
    reference_span: tuple[int, int] | None  # where the reference is in the text

    @property
    def intent(self) -> str:
        return INTENTS[self.command]


def _command_word(raw: str) -> str:
    word = re.sub(r"[\s_\-]", "", raw).upper()
    for stem in ("ACCEPT", "CONFIRM", "DECLINE"):
        if word.startswith(stem):
            return stem
    return word


def parse_command(text: str | None) -> GuideCommand | None:
    """The guide command a message starts with, or None."""
    match = PATTERN.match(text or "")
    if match is None:
        return None
    reference = match.group("reference")
    command = _command_word(match.group("command"))
    note = match.group("note").strip()
    if command == "PAID" and reference is None and note and not note[0].isdigit():
        # "Paid the deposit yesterday": a customer's words, not a guide's command.
        return None
    return GuideCommand(
        command=command,
        reference=reference.replace(" ", "") if reference else None,
        note=note,
        reference_span=match.span("reference") if reference else None,
    )


def reference_in(text: str | None) -> str | None:
    """A reference anywhere in a message (a guide who wrote it after some words)."""
    found = REFERENCE_ANYWHERE.search(text or "")
    return found.group(1) if found else None


# What follows PAID's reference: an amount, then optionally the currency and the word CASH, in
# any case and spacing ("4788 USD CASH", "4,788.50 usd", "USD 4788", "$4788 cash").
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "₹": "INR"}
_PAID_NOTE = re.compile(
    r"^(?P<before>[A-Za-z]{3}|[$€£₹])?[\s:]*(?P<amount>\d[\d,']*(?:\.\d{1,2})?)"
    r"(?:[\s:]*(?P<after>(?!cash\b)[A-Za-z]{3}(?![A-Za-z])))?[\s.,:;\-]*(?:cash)?[\s.!]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PaidNote:
    amount: str  # decimal text without separators ("4788", "4788.50")
    currency: str | None  # upper case, None when not written


def parse_paid_note(note: str) -> PaidNote | None:
    """The amount and currency of `PAID <ref> <amount> [currency] [CASH]`, or None."""
    match = _PAID_NOTE.match(note.strip())
    if match is None:
        return None
    before, after = match.group("before"), match.group("after")
    if before and after:
        return None
    written = before or after
    currency = _SYMBOLS.get(written, written.upper()) if written else None
    if currency == "CAS":
        return None
    amount = re.sub(r"[,']", "", match.group("amount"))
    return PaidNote(amount=amount, currency=currency)
