"""A traveller's papers are checked with sentences a customer can act on; what ops must weigh
is flagged, never hidden. Dates are relative to the trip and today, never written down."""

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta

from backend import clock
from backend.domain import travellers as rules

TODAY = clock.local_today()  # any day: every date below is relative to it
TRIP = rules.Trip(TODAY + timedelta(days=60), TODAY + timedelta(days=73), 5545)
NEEDED = TRIP.end + relativedelta(months=6)


def _one(name, value):
    checked = rules.check({name: value}, TRIP, TODAY)
    return checked.values.get(name), checked.errors.get(name)


@pytest.mark.parametrize(
    ("name", "value", "cleaned"),
    [
        ("full_name", "  Emma   Louise Clarke ", "Emma Louise Clarke"),
        ("full_name", "Zoë O'Brien-Núñez", "Zoë O'Brien-Núñez"),
        ("nationality", "gb", "GB"),
        ("nationality", "Germany", "DE"),
        ("passport_number", "123 456 789", "123456789"),
        ("passport_number", "p1234567x", "P1234567X"),
        ("sex", "female", "F"),
        ("sex", "x", "X"),
        ("assistance_phone", "0044 20 7946 0000", "+442079460000"),
        ("emergency_phone", "+61 412 345 678", "+61412345678"),
        ("covers_helicopter", "yes", True),
        ("covers_helicopter", False, False),
        ("cover_altitude_m", "6,000 m", 6000),
        ("arrival_flight", "qr 652", "QR652"),
        ("passport_expiry", NEEDED.isoformat(), NEEDED),
        (
            "date_of_birth",
            (TODAY - relativedelta(years=34)).isoformat(),
            TODAY - relativedelta(years=34),
        ),
        (
            "arrival_date",
            (TRIP.start - timedelta(days=2)).isoformat(),
            TRIP.start - timedelta(days=2),
        ),
    ],
)
def test_a_right_value_is_cleaned(name, value, cleaned):
    got, error = _one(name, value)
    assert error is None and got == cleaned


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("full_name", "Emma 2", "letters only"),
        ("nationality", "Narnia", "two-letter code"),
        ("passport_number", "12-34", "5 to 20 letters and digits"),
        ("passport_expiry", (TODAY - timedelta(days=1)).isoformat(), "expired"),
        ("passport_expiry", (NEEDED - timedelta(days=1)).isoformat(), "six months after the trip"),
        ("passport_expiry", "31/12/2030", "YYYY-MM-DD"),
        ("date_of_birth", (TODAY + timedelta(days=1)).isoformat(), "in the past"),
        ("date_of_birth", (TODAY - relativedelta(years=101)).isoformat(), "100 years"),
        ("sex", "maybe", "M, F or X"),
        ("assistance_phone", "12345", "country code"),
        ("emergency_phone", "call my mum", "country code"),
        ("covers_helicopter", "perhaps", "yes or no"),
        ("cover_altitude_m", "very high", "metres"),
        ("cover_altitude_m", "12000", "between 0 and 9,000"),
        ("arrival_flight", "the morning one", "airline code"),
        ("arrival_date", (TRIP.start + timedelta(days=1)).isoformat(), "arrive by then"),
        ("arrival_date", (TRIP.start - timedelta(days=90)).isoformat(), "check the date"),
    ],
)
def test_a_wrong_value_says_what_to_correct(name, value, says):
    got, error = _one(name, value)
    assert got is None and error is not None and says in error


def test_an_empty_value_clears_the_field_and_unknown_names_are_ignored():
    checked = rules.check({"diet": "  ", "favourite_colour": "blue"}, TRIP, TODAY)
    assert checked.values == {"diet": None} and checked.errors == {}


def _complete():
    return {
        "full_name": "Emma Clarke",
        "nationality": "GB",
        "passport_number": "123456789",
        "passport_expiry": NEEDED + timedelta(days=400),
        "date_of_birth": TODAY - relativedelta(years=34),
        "sex": "F",
        "insurer": "World Nomads",
        "policy_number": "WN-1",
        "assistance_phone": "+442079460000",
        "covers_helicopter": True,
        "cover_altitude_m": 6000,
        "emergency_name": "Tom Clarke",
        "emergency_relationship": "brother",
        "emergency_phone": "+447911123456",
        "arrival_flight": "QR652",
        "arrival_date": TRIP.start - timedelta(days=2),
    }


def test_missing_names_required_fields_and_photos_in_the_forms_order():
    photos = {"passport_photo": True, "portrait_photo": False}
    assert rules.missing(_complete(), photos) == ["portrait_photo"]
    values = _complete() | {"insurer": None}
    del values["arrival_date"]
    assert rules.missing(values, photos) == ["insurer", "arrival_date", "portrait_photo"]
    assert rules.missing_words(["insurer", "portrait_photo"]) == [
        "travel insurer",
        "a portrait photo",
    ]


def test_no_helicopter_cover_needs_no_altitude_and_is_flagged():
    values = _complete() | {"covers_helicopter": False, "cover_altitude_m": None}
    assert rules.missing(values, {"passport_photo": True, "portrait_photo": True}) == []
    assert rules.flags(values, TRIP) == ["no_helicopter_cover"]


def test_cover_below_the_treks_highest_point_is_flagged():
    assert rules.flags(_complete() | {"cover_altitude_m": 5000}, TRIP) == ["cover_below_altitude"]
    assert rules.flags(_complete() | {"cover_altitude_m": 5545}, TRIP) == []
    low_trip = rules.Trip(TRIP.start, TRIP.end, None)
    assert rules.flags(_complete() | {"cover_altitude_m": 3000}, low_trip) == []


def test_a_passport_that_no_longer_lasts_after_a_moved_trip_is_flagged():
    values = _complete() | {"passport_expiry": NEEDED}
    assert rules.flags(values, TRIP) == []
    later = rules.Trip(TRIP.start + timedelta(days=30), TRIP.end + timedelta(days=30), 5545)
    assert rules.flags(values, later) == ["passport_expiring"]


def test_sealed_values_round_trip_through_json():
    values = _complete()
    assert rules.from_json(rules.to_json(values)) == values


def test_a_whole_group_missing_is_said_in_a_few_words():
    everything = rules.missing({}, {})
    assert rules.missing_summary(everything) == [
        "the passport details",
        "the travel insurance",
        "an emergency contact",
        "the arrival flight",
        "the two photos",
    ]
    some = rules.missing(_complete() | {"sex": None, "emergency_phone": None}, {})
    assert rules.missing_summary(some) == [
        "sex as in the passport",
        "emergency contact's phone",
        "the two photos",
    ]
