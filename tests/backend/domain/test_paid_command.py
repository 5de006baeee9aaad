"""PAID <ref> <amount> [currency] [CASH], typed on a bumpy road: any case, spacing, separators."""

import pytest

from backend.domain.commands import PaidNote, parse_command, parse_paid_note


@pytest.mark.parametrize(
    ("text", "reference", "paid"),
    [
        ("PAID EBC2503123 4788 USD CASH", "EBC2503123", PaidNote("4788", "USD")),
        ("  paid   ebc-2503123   4,788.50 usd ", "ebc-2503123", PaidNote("4788.50", "USD")),
        ("Paid EBC 2503123 USD 4788", "EBC2503123", PaidNote("4788", "USD")),
        ("*PAID* EBC2503123: $4788 cash", "EBC2503123", PaidNote("4788", "USD")),
        ("PAID EBC2503123 4788 CASH", "EBC2503123", PaidNote("4788", None)),
        ("PAID EBC2503123 4788", "EBC2503123", PaidNote("4788", None)),
        ("paid ebc2503123 100000 npr cash.", "ebc2503123", PaidNote("100000", "NPR")),
    ],
)
def test_the_command_and_its_amount(text, reference, paid):
    command = parse_command(text)
    assert command is not None and command.command == "PAID" and command.intent == "guide_paid"
    assert command.reference == reference
    assert parse_paid_note(command.note) == paid


@pytest.mark.parametrize("note", ["", "lots", "USD", "4788 1234", "USD 4788 EUR", "4788 dollars"])
def test_what_is_not_an_amount(note):
    assert parse_paid_note(note) is None


def test_a_customers_words_are_not_a_command():
    assert parse_command("Paid the deposit yesterday, is that ok?") is None
    # Bare PAID, or PAID with an amount but no reference, is the guide's: they get the format.
    assert parse_command("PAID").command == "PAID"
    assert parse_command("paid 4788 usd").reference is None
