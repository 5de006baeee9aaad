"""Questions about the catalogue: dates, prices, what is included."""

from __future__ import annotations

from actions.common import TmsAction, Turn
from actions.enquiry import resolve_product
from backend import clock, texts
from backend.domain.dates import parse_travel_date
from backend.domain.party import parse_group_size
from backend.domain.wishes import parse_trip_wish
from backend.models import Product
from backend.services import bookings, catalog, inventory, leads, recommend


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


def party_of_lead(turn: Turn) -> int | None:
    lead = leads.lead_of_conversation(turn.session, turn.conversation)
    return lead.party_size if lead is not None else None


class ActionAskDates(TmsAction):
    """Upcoming departures of the trek in context, with seats left (workflow 2: "DATES")."""

    NAME = "action_ask_dates"

    def handle(self, turn: Turn) -> None:
        product = product_in_context(turn)
        if product is None:
            turn.say(texts.which_trek_for_info())
            return
        turn.say(dates_answer(turn, product))


def dates_answer(turn: Turn, product: Product) -> str:
    """The trek's departures with seats; only the month asked about ("and in May?") when one
    is named, and all of them when that month has none."""
    rows = [
        (departure, inventory.seat_counts(turn.session, departure).available)
        for departure in catalog.departures_of(turn.session, product, from_date=clock.local_today())
    ]
    named = next(turn.tracker.get_latest_entity_values("travel_date"), None)
    wish = parse_travel_date(named, clock.local_today()) if named else None
    if wish is not None:
        within = [(d, free) for d, free in rows if wish.start <= d.start_date <= wish.end]
        if within:
            return texts.dates_list(product, within)
        return texts.no_dates_in(product, wish.label) + "\n\n" + texts.dates_list(product, rows)
    return texts.dates_list(product, rows)


class ActionAskPrice(TmsAction):
    """Price per person, early-bird rule, deposit."""

    NAME = "action_ask_price"

    def handle(self, turn: Turn) -> None:
        from actions.knowledge import answer_question, topic_by_words

        if answer_question(turn, topic_by_words("ask_price", turn.text)):
            return  # group discounts, children's prices: the operator's own words
        product = product_in_context(turn)
        if product is None:
            turn.say(texts.which_trek_for_info())
            return
        # "How much is it?" after an enquiry: for the party that enquired, too.
        party = parse_group_size(turn.slot("group_size")) or party_of_lead(turn)
        turn.say(texts.price_info(product, party))


class ActionAskInclusions(TmsAction):
    """What the trek includes."""

    NAME = "action_ask_inclusions"

    def handle(self, turn: Turn) -> None:
        from actions.knowledge import answer_question, topic_by_words

        if answer_question(turn, topic_by_words("ask_inclusions", turn.text)):
            return  # "are flights included?": what is NOT included, in the operator's words
        product = product_in_context(turn)
        turn.say(texts.inclusions_info(product) if product else texts.which_trek_for_info())


class ActionRecommend(TmsAction):
    """ "Something easy, 5 days max, for my family with 2 kids": the trips that fit, their
    next departures with seats and the party's price; the closest when nothing fits."""

    NAME = "action_recommend"

    def handle(self, turn: Turn) -> None:
        wish = parse_trip_wish(turn.text, clock.local_today())
        if not wish.says_anything:
            turn.say(texts.ask_what_kind_of_trip())
            return
        if wish.party is not None:
            turn.set_slot("group_size", str(wish.party.total))
        fits, closest = recommend.recommend(turn.session, wish, clock.local_today())
        if fits:
            turn.say(texts.recommendations(fits, wish.party.total if wish.party else None))
            if len(fits) == 1:
                turn.set_slot("trek", fits[0].product.code)
        else:
            turn.say(texts.nothing_fits(closest))
