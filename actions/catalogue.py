"""Questions about the catalogue: dates, prices, what is included."""

from __future__ import annotations

from actions.common import TmsAction, Turn
from actions.enquiry import resolve_product, today
from backend import texts
from backend.models import Product
from backend.services import bookings, catalog, inventory, leads


def product_in_context(turn: Turn) -> Product | None:
    """The trek named now, else the one being discussed, else the customer's latest booking's."""
    named = next(turn.tracker.get_latest_entity_values("trek"), None)
    product = resolve_product(turn.session, named) or catalog.find_product_in_text(
        turn.session, turn.text
    )
    if product is not None:
        return product
    product = resolve_product(turn.session, turn.slot("trek"))
    if product is not None:
        return product
    lead = leads.lead_of_conversation(turn.session, turn.conversation)
    if lead is not None and lead.product is not None:
        return lead.product
    latest = bookings.bookings_of_contact(turn.session, turn.contact)
    return latest[0].departure.product if latest else None


class ActionAskDates(TmsAction):
    """Upcoming departures of the trek in context, with seats left (workflow 2: "DATES")."""

    NAME = "action_ask_dates"

    def handle(self, turn: Turn) -> None:
        product = product_in_context(turn)
        if product is None:
            turn.say(texts.which_trek_for_info())
            return
        rows = [
            (departure, inventory.seat_counts(turn.session, departure).available)
            for departure in catalog.departures_of(turn.session, product, from_date=today())
        ]
        turn.say(texts.dates_list(product, rows))


class ActionAskPrice(TmsAction):
    """Price per person, early-bird rule, deposit."""

    NAME = "action_ask_price"

    def handle(self, turn: Turn) -> None:
        product = product_in_context(turn)
        turn.say(texts.price_info(product) if product else texts.which_trek_for_info())


class ActionAskInclusions(TmsAction):
    """What the trek includes."""

    NAME = "action_ask_inclusions"

    def handle(self, turn: Turn) -> None:
        product = product_in_context(turn)
        turn.say(texts.inclusions_info(product) if product else texts.which_trek_for_info())
