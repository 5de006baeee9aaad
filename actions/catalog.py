"""Questions about the catalog: dates, prices, what is included."""

from __future__ import annotations

from actions.common import TmsAction, Turn
from actions.context import party_of_lead, product_in_context, resolve_product
from actions.dates import answer_dates
from actions.faq import answer_question, topic_by_words
from actions.options import answer_party_question, states_the_party_asked_for
from actions.reschedule import offer_other_dates
from backend import clock, texts
from backend.domain.comparisons import aspects_asked
from backend.domain.party import parse_group_size
from backend.domain.wishes import parse_trip_wish
from backend.services import catalog, recommend


class ActionAskDates(TmsAction):
    """Upcoming departures of the trek in context, with seats left (workflow 2: "DATES")."""

    NAME = "action_ask_dates"

    def handle(self, turn: Turn) -> None:
        # "Can we move to April instead?" from a customer with a booking: its other dates.
        if offer_other_dates(turn):
            return
        answer_dates(turn)


class ActionAskPrice(TmsAction):
    """Price per person, early-bird rule, deposit."""

    NAME = "action_ask_price"

    def handle(self, turn: Turn) -> None:
        if states_the_party_asked_for(turn) and answer_party_question(turn):
            return  # "we are a family of four", read as a price question: the answer
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
        if answer_question(turn, topic_by_words("ask_inclusions", turn.text)):
            return  # "are flights included?": what is NOT included, in the operator's words
        product = product_in_context(turn)
        turn.say(texts.inclusions_info(product) if product else texts.which_trek_for_info())


class ActionCompareTreks(TmsAction):
    """ "Which is harder, EBC or the Annapurna circuit?": the treks named (all of them when
    fewer than two are) side by side from the catalogue, with the answer to what was asked."""

    NAME = "action_compare_treks"

    def handle(self, turn: Turn) -> None:
        named = catalog.products_in_text(turn.session, turn.text)
        for value in turn.tracker.get_latest_entity_values("trek"):
            # The NLU's synonyms know names the catalogue does not ("Annapurna-Runde").
            product = resolve_product(turn.session, value)
            if product is not None and product not in named:
                named.append(product)
        if len(named) < 2:
            named += [p for p in catalog.active_products(turn.session) if p not in named]
        if len(named) < 2:
            turn.say(texts.compare_which_treks(named))
            return
        facts = catalog.facts_of(turn.session, named, clock.local_today())
        turn.say(texts.comparison(facts, aspects_asked(turn.text)))


class ActionRecommend(TmsAction):
    """ "Something easy, 5 days max, for my family with 2 kids": the trips that fit, their
    next departures with seats and the party's price; the closest when nothing fits."""

    NAME = "action_recommend"

    def handle(self, turn: Turn) -> None:
        if states_the_party_asked_for(turn) and answer_party_question(turn):
            return  # "we are a family of four" answers "how many of you?"
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
