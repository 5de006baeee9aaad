from datetime import date

import pytest

from backend.domain.dates import parse_travel_date
from backend.domain.party import Party, parse_group_size, parse_party

TODAY = date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "start", "end", "exact"),
    [
        ("March 2025", date(2027, 3, 1), date(2027, 3, 31), None),  # past year → next March
        ("March 2027", date(2027, 3, 1), date(2027, 3, 31), None),
        ("March 20", date(2027, 3, 20), date(2027, 3, 20), date(2027, 3, 20)),
        ("mid-March", date(2027, 3, 11), date(2027, 3, 20), None),
        ("early October", date(2027, 10, 1), date(2027, 10, 10), None),
        ("next April", date(2027, 4, 1), date(2027, 4, 30), None),
        ("15th of March", date(2027, 3, 15), date(2027, 3, 15), date(2027, 3, 15)),
        ("March 15-28", date(2027, 3, 15), date(2027, 3, 15), date(2027, 3, 15)),
        ("December", date(2026, 12, 1), date(2026, 12, 31), None),
        ("mid April", date(2027, 4, 11), date(2027, 4, 20), None),
        ("next spring", date(2027, 3, 1), date(2027, 5, 31), None),
        ("sometime in autumn", date(2027, 9, 1), date(2027, 11, 30), None),
        ("over Easter", date(2027, 3, 21), date(2027, 4, 4), None),  # Easter Sunday 2027: March 28
        ("the week of the 14th", date(2026, 12, 14), date(2026, 12, 20), None),
    ],
)
def test_travel_date_phrases_become_windows_ahead_of_today(text, start, end, exact):
    wish = parse_travel_date(text, TODAY)
    assert (wish.start, wish.end, wish.exact) == (start, end, exact)


@pytest.mark.parametrize("text", ["", None, "whenever", "asap lol"])
def test_no_date_is_none(text):
    assert parse_travel_date(text, TODAY) is None


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("3 people", 3),
        ("a couple", 2),
        ("four of us", 4),
        ("6 pax", 6),
        ("just me", 1),
        ("family of five", 5),
        ("there will be 12 of us", 12),
        ("3", 3),
        ("2 couples", 4),
        ("we are 2 couples", 4),
        ("two couples and 3 kids", 7),
        ("me and my wife", 2),
        ("my wife and I", 2),
        ("family of 4", 4),
        ("a group of 8 friends", 8),
        ("3 adults and 2 kids", 5),
        ("me and my husband and our 2 children", 4),
        ("we're 6", 6),
        ("on my own", 1),
        ("Annapurna circuit in April? we are 2 couples", 4),
        ("me and 2 friends", 3),
        ("me and my wife and 2 friends", 4),
        ("2 couples and 1 friend", 5),
        ("4 adults and a friend", 5),
        ("ebc in oct for me, wife and 2 kids, is it ok for them?", 4),
        ("2 adults and one kid", 3),
    ],
)
def test_group_size_phrases(text, size):
    assert parse_group_size(text) == size


def test_children_are_counted_and_said_apart():
    assert parse_party("3 adults and 2 kids") == Party(5, 2)
    assert parse_party("family of five with 3 children") == Party(5, 3)
    assert parse_party("something easy for my family") is None


@pytest.mark.parametrize("text", ["", "lots", "0", "500 people"])
def test_unusable_group_size_is_none(text):
    assert parse_group_size(text) is None


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("may", "May 2027"),
        ("March 20", "March 20, 2027"),
        ("mid-March", "March 11 to March 20, 2027"),
    ],
)
def test_a_window_reads_back_in_full(text, label):
    assert parse_travel_date(text, TODAY).label == label


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("im März", date(2027, 3, 1), date(2027, 3, 31)),
        ("en octobre", date(2027, 10, 1), date(2027, 10, 31)),
        ("15 de marzo", date(2027, 3, 15), date(2027, 3, 15)),
        ("le 2 avril", date(2027, 4, 2), date(2027, 4, 2)),
    ],
)
def test_dates_in_german_french_and_spanish(text, start, end):
    wish = parse_travel_date(text, TODAY)
    assert (wish.start, wish.end) == (start, end)


@pytest.mark.parametrize(
    ("text", "party"),
    [
        ("wir sind zu dritt", Party(3)),
        ("Wir sind 4 Personen", Party(4)),
        ("2 Erwachsene und 2 Kinder", Party(4, 2)),
        ("deux adultes et un ado", Party(3, 1)),
        ("2 Erwachsene und ein Kind", Party(3, 1)),
        ("nous sommes trois", Party(3)),
        ("deux personnes", Party(2)),
        ("somos cuatro amigos", Party(4)),
        ("un grupo de 8", Party(8)),
    ],
)
def test_parties_in_german_french_and_spanish(text, party):
    assert parse_party(text) == party
