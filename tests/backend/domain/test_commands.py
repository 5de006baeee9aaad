"""Guide commands are recognised by rule, every way guides write them: a generated table of
variants (case, spacing, punctuation, the reference's hyphen, notes after it), all of them."""

from __future__ import annotations

import itertools

import pytest

from backend.domain.commands import INTENTS, parse_command, reference_in

SPELLINGS = {
    "CHECKIN": ["CHECKIN", "checkin", "CheckIn", "check in", "CHECK-IN", "check_in", "Check  In"],
    "ISSUE": ["ISSUE", "issue", "Issue", "iSsUe"],
    "UPDATE": ["UPDATE", "update", "Update", "UpDaTe"],
    "CHECKOUT": ["CHECKOUT", "checkout", "Check out", "CHECK-OUT", "check_out"],
}
REFERENCES = {
    "TRP2412002": "TRP2412002",
    "trp2412002": "trp2412002",
    "TRP-2412002": "TRP-2412002",
    "trp-2412002": "trp-2412002",
    "TRP 2412002": "TRP2412002",
    "EBC-2412004": "EBC-2412004",
    "ebc2412004": "ebc2412004",
}
SEPARATORS = [" ", "  ", "\t", ": ", " - ", ", ", "\n", " #", ":"]
LEADING = ["", " ", "  ", "*", "\n"]
NOTES = ["", " All good", " Vehicle breakdown. 15 guests waiting.", "\nsecond line", " 🚐 ok!"]


def variants() -> list[tuple[str, str, str, str]]:
    """(text, command, reference, note) for every combination."""
    table = []
    for command, spellings in SPELLINGS.items():
        for spelling, (written, ref), sep, lead, note in itertools.product(
            spellings, REFERENCES.items(), SEPARATORS, LEADING, NOTES
        ):
            table.append((f"{lead}{spelling}{sep}{written}{note}", command, ref, note.strip()))
    return table


def test_every_variant_is_recognised_with_its_reference_and_note():
    table = variants()
    assert len(table) > 10_000
    wrong = []
    for text, command, ref, note in table:
        found = parse_command(text)
        if found is None or (found.command, found.reference, found.note) != (command, ref, note):
            wrong.append((text, found))
    assert wrong == [], f"{len(wrong)} of {len(table)} misread, e.g. {wrong[:5]}"


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("Accept", "ACCEPT"),
        ("accept 👍", "ACCEPT"),
        ("ACCEPTED", "ACCEPT"),
        ("Decline", "DECLINE"),
        ("declined, sorry", "DECLINE"),
        ("CONFIRM", "CONFIRM"),
        ("confirm please", "CONFIRM"),
        ("  *Confirmed*", "CONFIRM"),
    ],
)
def test_answers_are_recognised_without_a_reference(text, command):
    found = parse_command(text)
    assert found is not None and found.command == command and found.reference is None
    assert found.intent == INTENTS[command]


@pytest.mark.parametrize(
    "text",
    [
        "Hi! I'm interested in the Everest Base Camp Trek",
        "what's the update on my booking?",  # does not start with the command
        "checking in for my flight",
        "issues with payment",
        "updated itinerary please",
        "acceptance letter",
        "2",
        "",
    ],
)
def test_other_messages_are_not_commands(text):
    assert parse_command(text) is None


def test_a_reference_is_found_anywhere_in_a_message():
    assert reference_in("hi, this is about trp2412002 again") == "trp2412002"
    assert reference_in("booking EBC-2412004 please") == "EBC-2412004"
    assert reference_in("call me on 9801000003") is None
