"""Guide commands as guides type them on a bumpy road: CHECKIN / ISSUE / UPDATE / CHECKOUT
<ref> [text], and ACCEPT / DECLINE / CONFIRM, in any case, with any spacing or punctuation,
with or without the reference's hyphen (`TRP2412002`, `trp-2412002`, `TRP 2412002`).

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
    "ACCEPT": "affirm",
    "CONFIRM": "affirm",
    "DECLINE": "deny",
}

_COMMAND = (
    r"(?P<command>check[\s_\-]*in|check[\s_\-]*out|issue|update|"
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
    command: str  # CHECKIN, ISSUE, UPDATE, CHECKOUT, ACCEPT, CONFIRM or DECLINE
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
    return GuideCommand(
        command=_command_word(match.group("command")),
        reference=reference.replace(" ", "") if reference else None,
        note=match.group("note").strip(),
        reference_span=match.span("reference") if reference else None,
    )


def reference_in(text: str | None) -> str | None:
    """A reference anywhere in a message (a guide who wrote it after some words)."""
    found = REFERENCE_ANYWHERE.search(text or "")
    return found.group(1) if found else None
