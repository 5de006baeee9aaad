"""E-mail addresses as customers type them in a chat ("it's anna.k@gmail.com", "ANNA@Mail.com.").

Plain Python on purpose (standard library only), like `commands.py`: the assistant's NLU
component (`addons/guide_commands.py`) reads a message that gives an address with this, and
the action that stores it validates with the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LENGTH = 200  # contacts.email
# A practical subset of RFC 5322: what people actually have, nothing quoted.
_ADDRESS = re.compile(
    r"(?<![\w.+@-])"
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
    r"(?![\w@-])"
)
# A message longer than this is about something else, even with an address in it.
MAX_MESSAGE = 160


@dataclass(frozen=True)
class EmailInText:
    address: str  # normalised: the domain in lower case
    span: tuple[int, int]


def normalise_email(raw: str) -> str | None:
    """The address, its domain lower-cased, or None when it is not a usable address."""
    text = raw.strip().strip("<>").strip()
    match = _ADDRESS.fullmatch(text)
    if match is None or len(text) > MAX_LENGTH or len(match.group("local")) > 64:
        return None
    return f"{match.group('local')}@{match.group('domain').lower()}"


def email_in(text: str | None) -> EmailInText | None:
    """The one address a short message gives, or None (no address, several, or a long text)."""
    if not text or len(text) > MAX_MESSAGE:
        return None
    found = list(_ADDRESS.finditer(text))
    if len(found) != 1:
        return None
    address = normalise_email(found[0].group(0))
    if address is None:
        return None
    return EmailInText(address=address, span=found[0].span())
