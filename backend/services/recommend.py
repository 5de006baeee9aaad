"""Which trips fit a traveller's wish (days, difficulty, altitude, budget, month, children,
older travellers), with their next departures that have seats and the price for the party;
when nothing fits, the closest and what does not fit about it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from backend.domain.wishes import Miss, TripWish
from backend.models import Departure, Product
from backend.services import catalog, inventory

DIFFICULTY_RANK = {"easy": 0, "moderate": 1, "challenging": 2}
LOW_ALTITUDE_M = 3000
CHILD_AGE = 11  # "kids" with no age given: assume under 12
SHOWN_DEPARTURES = 3


@dataclass(frozen=True)
class Fit:
    product: Product
    departures: list[tuple[Departure, int]] = field(default_factory=list)  # (departure, free)
    total_minor: int | None = None  # the party's price, when the party is known
    misses: list[Miss] = field(default_factory=list)  # what does not fit (none: it fits)


def recommend(session: Session, wish: TripWish, today: date) -> tuple[list[Fit], list[Fit]]:
    """(the trips that fit, best first; the closest ones when none does)."""
    assessed = [
        _assess(session, product, wish, today) for product in catalog.active_products(session)
    ]
    fits = [f for f in assessed if not f.misses]
    fits.sort(key=lambda f: f.departures[0][0].start_date if f.departures else date.max)
    if fits:
        return fits, []
    closest = sorted(assessed, key=lambda f: (len(f.misses), f.product.days))
    return [], closest[:2]


def _assess(session: Session, product: Product, wish: TripWish, today: date) -> Fit:
    misses: list[Miss] = []
    if wish.max_days is not None and product.days > wish.max_days:
        misses.append(Miss("too_long", product.days, wish.max_days))
    rank = DIFFICULTY_RANK.get(product.difficulty, 1)
    if wish.difficulty == "easy" and rank > 0:
        misses.append(Miss("not_easy", product.difficulty))
    elif wish.difficulty == "moderate" and rank > 1:
        misses.append(Miss("too_hard", product.difficulty))
    elif wish.difficulty == "challenging" and rank < 2:
        misses.append(Miss("not_a_challenge", product.difficulty))
    if (wish.low_altitude or wish.older_travellers) and (
        product.max_altitude_m or 0
    ) > LOW_ALTITUDE_M:
        misses.append(Miss("too_high", product.max_altitude_m))
    if wish.children:
        youngest = wish.youngest_age if wish.youngest_age is not None else CHILD_AGE
        if product.min_age > youngest:
            misses.append(Miss("too_young", product.min_age, youngest))
    if wish.budget_per_person_minor is not None and (
        product.price_per_person_minor > wish.budget_per_person_minor
    ):
        misses.append(Miss("over_budget", product.price_per_person_minor))
    seats_needed = wish.party.total if wish.party else 1
    departures = []
    for departure in catalog.open_departures_of(session, product, from_date=today):
        if wish.when is not None and not (wish.when.start <= departure.start_date <= wish.when.end):
            continue
        free = inventory.seat_counts(session, departure).available
        if free >= seats_needed:
            departures.append((departure, free))
        if len(departures) == SHOWN_DEPARTURES:
            break
    if not departures:
        misses.append(Miss("no_seats", wish.when.text if wish.when else None, seats_needed))
    total = product.price_per_person_minor * wish.party.total if wish.party else None
    return Fit(product, departures, total, misses)
