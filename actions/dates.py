"""The departures answer ("DATES", "and in May?"), shared by the dates question, an option
that asks for other dates and details that name a month. Imports no action module."""

from __future__ import annotations

from actions.common import Turn
from actions.context import product_in_context
from backend import clock, texts
from backend.domain.dates import parse_travel_date
from backend.models import Departure, Product
from backend.services import catalog, guarantees, inventory


def dates_answer(turn: Turn, product: Product) -> str:
    """The trek's departures with seats; only the month asked about ("and in May?") when one
    is named, and all of them when that month has none."""
    rows = [
        (departure, inventory.seat_counts(turn.session, departure).available)
        for departure in catalog.departures_of(turn.session, product, from_date=clock.local_today())
        if departure.guarantee_decision != guarantees.CANCELLED
    ]
    named = next(turn.tracker.get_latest_entity_values("travel_date"), None)
    wish = parse_travel_date(named, clock.local_today()) if named else None
    if wish is not None:
        within = [(d, free) for d, free in rows if wish.start <= d.start_date <= wish.end]
        if within:
            return texts.dates_list(product, within) + _guaranteed(turn, within)
        return (
            texts.no_dates_in(product, wish.label)
            + "\n\n"
            + texts.dates_list(product, rows)
            + _guaranteed(turn, rows)
        )
    return texts.dates_list(product, rows) + _guaranteed(turn, rows)


def _guaranteed(turn: Turn, rows: list[tuple[Departure, int]]) -> str:
    """Which of those departures are sure to run (a minimum group size reached, issue 27)."""
    sure = [
        d
        for d, _free in rows
        if guarantees.minimum_of(d) is not None and guarantees.status(turn.session, d).guaranteed
    ]
    return "\n\n" + texts.guaranteed_departures(sure) if sure else ""


def answer_dates(turn: Turn) -> None:
    """Upcoming departures of the trek in context, with seats left; which trek, when none is."""
    product = product_in_context(turn)
    if product is None:
        turn.say(texts.which_trek_for_info())
        return
    turn.say(dates_answer(turn, product))
