"""A traveller's papers: the fields every trek in Nepal needs, how each is checked, and what
ops must be told about. Pure rules, no I/O: the service (`backend.services.travellers`) stores,
seals and logs; the page, the WhatsApp Flow and the admin API all check through `check`.

A field's `api` name is the admin API's JSON key (and the page's form field); `sealed` fields
are encrypted at rest (`backend.sealing`); `required` ones make a traveller complete. Checks
give a sentence a customer can act on; doubts ops must weigh (no helicopter cover, cover below
the trek's highest point, a passport too close to expiry) are flags, accepted, never hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from backend.domain.countries import COUNTRIES
from backend.domain.errors import InvalidPhoneNumber
from backend.domain.phones import normalise_phone

# Nepal's entry rule: the passport must be valid six months after the trip ends.
PASSPORT_MONTHS_AFTER_TRIP = 6
OLDEST_YEARS = 100
# An arrival flight more than this long before the trek starts is most likely a typo.
ARRIVAL_DAYS_BEFORE_START = 60


@dataclass(frozen=True)
class Field:
    name: str  # the attribute and the sealed JSON's key
    api: str  # the admin API's and the page's name
    label: str  # what a customer reads
    kind: str  # text, country, date, sex, phone, bool, altitude, flight
    required: bool = True
    sealed: bool = True
    limit: int = 120
    hint: str = ""


FIELDS: tuple[Field, ...] = (
    Field("full_name", "fullName", "Full name as in the passport", "text", sealed=False),
    Field("nationality", "nationality", "Nationality", "country", limit=60),
    Field("passport_number", "passportNumber", "Passport number", "passport", limit=30),
    Field("passport_expiry", "passportExpiry", "Passport expiry date", "date"),
    Field("date_of_birth", "dateOfBirth", "Date of birth", "date"),
    Field("sex", "sex", "Sex as in the passport", "sex", limit=10, hint="M, F or X"),
    Field("insurer", "insurer", "Travel insurer", "text"),
    Field("policy_number", "policyNumber", "Insurance policy number", "text", limit=40),
    Field(
        "assistance_phone",
        "assistancePhone",
        "Insurer's 24-hour assistance phone",
        "phone",
        hint="with the country code, e.g. +44 20 7946 0000",
    ),
    Field(
        "covers_helicopter",
        "coversHelicopter",
        "The policy covers helicopter evacuation",
        "bool",
    ),
    Field(
        "cover_altitude_m",
        "coverAltitudeM",
        "Covered up to (metres above sea level)",
        "altitude",
    ),
    Field("emergency_name", "emergencyName", "Emergency contact's name", "text"),
    Field(
        "emergency_relationship",
        "emergencyRelationship",
        "Their relationship to the traveller",
        "text",
        limit=40,
    ),
    Field("emergency_phone", "emergencyPhone", "Emergency contact's phone", "phone"),
    Field("diet", "diet", "Diet (vegetarian, allergies to food ...)", "text", False, limit=200),
    Field(
        "medical",
        "medical",
        "Medical notes: allergies, conditions, medication",
        "text",
        False,
        limit=1000,
    ),
    Field("arrival_flight", "arrivalFlight", "Arrival flight number", "flight", limit=20),
    Field("arrival_date", "arrivalDate", "Arrival date in Kathmandu", "date"),
)
BY_NAME: Mapping[str, Field] = {f.name: f for f in FIELDS}
BY_API: Mapping[str, Field] = {f.api: f for f in FIELDS}

# The two photos: filed by the page or from the chat, never through the Flow or the API's PUT.
PHOTOS: Mapping[str, str] = {
    "passport_photo": "a photo of the passport's photo page",
    "portrait_photo": "a portrait photo",
}
SEXES = {"M": "M", "F": "F", "X": "X", "MALE": "M", "FEMALE": "F", "OTHER": "X"}

# Flags: accepted, shown to ops on the readiness page, never silently passed.
FLAG_WORDS: Mapping[str, str] = {
    "no_helicopter_cover": "insurance does not cover helicopter evacuation",
    "cover_below_altitude": "insurance cover ends below the trek's highest point",
    "passport_expiring": "passport expires less than six months after the trip",
    "changed_after_verification": "details changed after they were verified",
}

_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_FLIGHT = re.compile(r"^[A-Z0-9]{2}[A-Z]? ?\d{1,4}[A-Z]?$")


@dataclass(frozen=True)
class Trip:
    """What the checks need of the booking's departure."""

    start: date
    end: date
    highest_m: int | None  # the trek's highest point (None: no altitude to insure for)


@dataclass(frozen=True)
class Checked:
    values: dict[str, Any]  # the cleaned values, by field name (None: cleared)
    errors: dict[str, str]  # field name → what to correct


class TravellerInvalid(ValueError):
    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{BY_NAME[k].label}: {v}" for k, v in self.errors.items()))


def check(raw: Mapping[str, Any], trip: Trip, today: date) -> Checked:
    """Clean and check the given fields (by field name; absent ones are not touched; an empty
    value clears the field). Each error is a sentence for the person typing."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in raw.items():
        spec = BY_NAME.get(name)
        if spec is None:
            continue
        if value is None or (isinstance(value, str) and not value.strip()):
            values[name] = None
            continue
        try:
            values[name] = _clean(spec, value, trip, today)
        except ValueError as exc:
            errors[name] = str(exc)
    return Checked(values, errors)


def _clean(spec: Field, value: Any, trip: Trip, today: date) -> Any:
    if spec.kind == "bool":
        return _bool(value)
    if spec.kind == "altitude":
        return _altitude(value)
    if spec.kind == "date":
        return _date(spec.name, value, trip, today)
    text = " ".join(str(value).split())
    if len(text) > spec.limit:
        raise ValueError(f"at most {spec.limit} characters")
    if spec.kind == "text":
        if spec.name == "full_name" and not _is_name(text):
            raise ValueError("letters only, as printed in the passport (e.g. Emma Louise Clarke)")
        if spec.name == "full_name" and len(text) < 2:
            raise ValueError("the full name, as printed in the passport")
        return text
    if spec.kind == "country":
        return _country(text)
    if spec.kind == "passport":
        number = text.replace(" ", "").upper()
        if not _PASSPORT.match(number):
            raise ValueError("5 to 20 letters and digits, as printed in the passport")
        return number
    if spec.kind == "sex":
        sex = SEXES.get(text.upper())
        if sex is None:
            raise ValueError("M, F or X, as printed in the passport")
        return sex
    if spec.kind == "phone":
        try:
            return normalise_phone(text)
        except InvalidPhoneNumber as exc:
            raise ValueError("a phone number with its country code, e.g. +44 20 7946 0000") from exc
    if spec.kind == "flight":
        flight = text.upper()
        if not _FLIGHT.match(flight):
            raise ValueError("an airline code and a number, e.g. QR 652")
        return flight.replace(" ", "")
    raise AssertionError(spec.kind)


def _is_name(text: str) -> bool:
    return text[0].isalpha() and all(ch.isalpha() or ch in " -'." for ch in text)


def _country(text: str) -> str:
    code = text.upper()
    if code in COUNTRIES:
        return code
    by_name = {name.lower(): c for c, name in COUNTRIES.items()}
    found = by_name.get(text.lower())
    if found is None:
        raise ValueError("the country's two-letter code (e.g. GB, US, DE, IN) or its name")
    return found


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("yes", "y", "true", "1", "on"):
        return True
    if word in ("no", "n", "false", "0", "off"):
        return False
    raise ValueError("yes or no")


def _altitude(value: Any) -> int:
    try:
        metres = int(str(value).strip().lower().removesuffix("m").replace(",", "").strip())
    except ValueError as exc:
        raise ValueError("a height in metres, e.g. 6000") from exc
    if not 0 <= metres <= 9000:
        raise ValueError("a height in metres between 0 and 9,000")
    return metres


def _date(name: str, value: Any, trip: Trip, today: date) -> date:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value).strip())
        except ValueError as exc:
            raise ValueError("a date written as YYYY-MM-DD") from exc
    if name == "date_of_birth":
        if day >= today:
            raise ValueError("a date of birth in the past")
        if day < today - relativedelta(years=OLDEST_YEARS):
            raise ValueError(f"a date of birth less than {OLDEST_YEARS} years ago")
    elif name == "passport_expiry":
        needed = passport_valid_until(trip)
        if day < today:
            raise ValueError("this passport has expired: the details of the new one, please")
        if day < needed:
            raise ValueError(
                f"Nepal asks for a passport valid six months after the trip ends, so until "
                f"{needed:%d %b %Y} at least: the details of a newer passport, please"
            )
    elif name == "arrival_date":
        if day > trip.start:
            raise ValueError(f"the trip starts {trip.start:%d %b %Y}: arrive by then")
        if day < trip.start - relativedelta(days=ARRIVAL_DAYS_BEFORE_START):
            raise ValueError(
                f"more than {ARRIVAL_DAYS_BEFORE_START} days before the trip starts "
                f"({trip.start:%d %b %Y}): please check the date"
            )
    return day


def passport_valid_until(trip: Trip) -> date:
    return trip.end + relativedelta(months=PASSPORT_MONTHS_AFTER_TRIP)


def missing(values: Mapping[str, Any], photos: Mapping[str, bool]) -> list[str]:
    """The required fields and photos still empty, in the form's order (names)."""
    gaps = [f.name for f in FIELDS if f.required and _empty(f, values)]
    return gaps + [name for name in PHOTOS if not photos.get(name)]


def _empty(spec: Field, values: Mapping[str, Any]) -> bool:
    value = values.get(spec.name)
    if spec.name == "cover_altitude_m" and values.get("covers_helicopter") is False:
        return False  # nothing to say about the altitude of a cover that isn't there
    return value is None or value == ""


def flags(values: Mapping[str, Any], trip: Trip) -> list[str]:
    """What ops must weigh, from the values as they are now (the trip may have moved)."""
    found: list[str] = []
    if values.get("covers_helicopter") is False:
        found.append("no_helicopter_cover")
    cover = values.get("cover_altitude_m")
    if (
        values.get("covers_helicopter")
        and trip.highest_m
        and isinstance(cover, int)
        and cover < trip.highest_m
    ):
        found.append("cover_below_altitude")
    expiry = values.get("passport_expiry")
    if isinstance(expiry, date) and expiry < passport_valid_until(trip):
        found.append("passport_expiring")
    return found


# What a customer reads for a whole group of missing fields (a reminder stays short).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "the passport details",
        ("full_name", "nationality", "passport_number", "passport_expiry", "date_of_birth", "sex"),
    ),
    (
        "the travel insurance",
        ("insurer", "policy_number", "assistance_phone", "covers_helicopter", "cover_altitude_m"),
    ),
    ("an emergency contact", ("emergency_name", "emergency_relationship", "emergency_phone")),
    ("the arrival flight", ("arrival_flight", "arrival_date")),
    ("the two photos", ("passport_photo", "portrait_photo")),
)


def missing_summary(names: list[str]) -> list[str]:
    """Like `missing_words`, a whole group missing said in a few words ("the passport
    details"); a group partly filled names what is left of it."""
    missing = set(names)
    words: list[str] = []
    for label, group in GROUPS:
        gone = [n for n in group if n in missing]
        if not gone:
            continue
        # No helicopter cover: no altitude asked for, so the group is whole without it.
        needed = [n for n in group if n != "cover_altitude_m" or n in missing]
        words += [label] if len(gone) == len(needed) and len(gone) > 1 else missing_words(gone)
    return words


def missing_words(names: list[str]) -> list[str]:
    """What a customer reads for each missing name ("passport number", "a portrait photo")."""
    words = []
    for name in names:
        if name in PHOTOS:
            words.append(PHOTOS[name])
        else:
            words.append(BY_NAME[name].label[0].lower() + BY_NAME[name].label[1:])
    return words


def to_json(values: Mapping[str, Any]) -> dict[str, Any]:
    """Values by field name, dates as ISO text: what is sealed."""
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


def from_json(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in data.items():
        spec = BY_NAME.get(name)
        if spec is None:
            continue
        if spec.kind == "date" and isinstance(value, str):
            out[name] = date.fromisoformat(value)
        else:
            out[name] = value
    return out
