"""The departures answer ("DATES", "and in May?"), shared by the dates question, an option
that asks for other dates and details that name a month. Imports no action module."""

from __future__ import annotations

from sqlalchemy.orm import Session

from actions.common import Turn
from actions.context import product_in_context
from backend import clock, texts
from backend.domain.dates import DateWish, parse_travel_date
from backend.models import Departure, Product
from backend.services import catalog, guarantees, inventory


def dates_answer(turn: Turn, product: Product) -> str:
    """The trek's departures with seats (none operations moved away or cancelled); only the
    month asked about ("and in May?") when one is named, and all of them when that month has
    none. A date named exactly whose departure was moved or cancelled is said so first."""
    today = clock.local_today()
    rows = [
        (departure, inventory.seat_counts(turn.session, departure).available)
        for departure in catalog.open_departures_of(turn.session, product, from_date=today)
    ]
    named = next(turn.tracker.get_latest_entity_values("travel_date"), None)
    wish = parse_travel_date(named, today) if named else None
    closed = closed_departure_named(turn.session, product, wish)
    if closed is not None:
        return closed + "\n\n" + texts.dates_list(product, rows) + _guaranteed(turn, rows)
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


def closed_departure_named(
    session: Session, product: Product | None, wish: DateWish | None
) -> str | None:
    """What to say when the exact date the customer named is a departure operations moved
    away or cancelled (`inventory.closed_reason`); None otherwise."""
    if product is None or wish is None or wish.exact is None:
        return None
    departure = catalog.departure_on(session, product, wish.exact)
    if departure is None:
        return None
    why = inventory.closed_reason(session, departure)
    return None if why is None else texts.departure_closed(departure, why)


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
