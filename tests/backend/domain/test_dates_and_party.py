from datetime import date

import pytest

from backend.domain.dates import parse_travel_date
from backend.domain.party import parse_group_size

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
    ],
)
def test_group_size_phrases(text, size):
    assert parse_group_size(text) == size


@pytest.mark.parametrize("text", ["", "lots", "0", "500 people"])
def test_unusable_group_size_is_none(text):
    assert parse_group_size(text) is None
