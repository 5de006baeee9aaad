"""What travellers describe instead of naming a trek."""

from datetime import date

import pytest

from backend.domain.wishes import parse_trip_wish

TODAY = date(2026, 11, 26)  # the parser's reference day, passed in (not the clock)


@pytest.mark.parametrize(
    ("text", "max_days", "difficulty", "children", "party"),
    [
        ("something easy, 5 days max, for my family with 2 kids", 5, "easy", True, None),
        ("we only have a week, what can we do?", 7, None, False, None),
        ("a challenging trek, two weeks at most", 14, "challenging", False, None),
        ("suggest something for a day trip please", 1, None, False, None),
        ("3 adults and 2 kids, nothing too hard", None, "easy", True, 5),
        ("which trek should I do?", None, None, False, None),
    ],
)
def test_days_difficulty_children_and_party(text, max_days, difficulty, children, party):
    wish = parse_trip_wish(text, TODAY)
    assert (wish.max_days, wish.difficulty, wish.children) == (max_days, difficulty, children)
    assert (wish.party.total if wish.party else None) == party


def test_budget_month_altitude_and_older_travellers():
    wish = parse_trip_wish(
        "something not too high in April under $1,500, my parents are in their 70s", TODAY
    )
    assert wish.budget_per_person_minor == 150_000
    assert (wish.when.start, wish.when.end) == (date(2027, 4, 1), date(2027, 4, 30))
    assert wish.low_altitude and wish.older_travellers
    assert parse_trip_wish("kids aged 8 and 10", TODAY).youngest_age == 8


def test_may_the_verb_is_not_a_month():
    assert parse_trip_wish("which trek may suit a beginner?", TODAY).when is None
    assert parse_trip_wish("an easy trip in May", TODAY).when.start == date(2027, 5, 1)


def test_a_question_that_says_nothing_about_the_trip_says_nothing():
    assert not parse_trip_wish(
        "not sure which trek to pick, can you help me choose?", TODAY
    ).says_anything


def test_instead_words_mark_a_change_of_trek_not_a_second_enquiry():
    from backend.domain.wishes import asks_instead

    for said in (
        "what about Annapurna instead?",
        "could we switch to the Pokhara tour",
        "actually we'd rather do EBC",
        "can you change it to Annapurna",
    ):
        assert asks_instead(said), said
    for said in ("and the Pokhara tour too", "what's Annapurna like?", None, ""):
        assert not asks_instead(said), said
