"""Workflow 1 step 1 and workflow 2 step 1: the enquiry form, the lead, full departures."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict
from sqlalchemy.orm import Session

from actions.common import TmsAction, Turn, typed_text
from actions.context import FULL_OPTIONS, UNKNOWN, first_enquiry_text, resolve_product
from actions.dates import closed_departure_named, dates_answer
from actions.options import answer_party_question
from actions.private import answer_private_request
from actions.reschedule import offer_other_dates
from backend import clock, texts
from backend.db import transaction
from backend.domain import choices
from backend.domain.dates import DateWish, parse_travel_date
from backend.domain.party import parse_group_size, parse_party
from backend.domain.wishes import asks_instead
from backend.models import Departure, Product
from backend.services import catalog, inventory, leads


def requested_full_departure(
    session: Session, product: Product | None, wish: DateWish | None
) -> Departure | None:
    """The exact departure the customer named, when it has no seats left (one operations
    moved away or cancelled is not offered a waitlist: `closed_departure_named` says so)."""
    if product is None or wish is None or wish.exact is None:
        return None
    departure = catalog.departure_on(session, product, wish.exact)
    if departure is None or not inventory.is_open(session, departure):
        return None
    if not inventory.seat_counts(session, departure).is_full:
        return None
    return departure


class ValidateEnquiryForm(FormValidationAction):
    """Fills the trek and group size; each is asked for once, then left to the rep."""

    def name(self) -> str:
        return "validate_enquiry_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        # A named departure that is full is answered with options at once (workflow 2): the
        # group size is not needed for that.
        with transaction() as session:
            product = resolve_product(session, tracker.get_slot("trek"))
            wish = parse_travel_date(tracker.get_slot("travel_date"), clock.local_today())
            if requested_full_departure(session, product, wish) is not None:
                return ["trek"]
        return domain_slots

    def validate_trek(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        with transaction() as session:
            # "Pokhara sightseeing tour" may come as two entities, one of them no trek ("tour"):
            # the first that names one, else the trek the words name.
            for named in (value, *tracker.get_latest_entity_values("trek")):
                product = resolve_product(session, str(named))
                if product is not None:
                    return {"trek": product.code}
            product = catalog.find_product_in_text(session, typed_text(tracker))
            if product is not None:
                return {"trek": product.code}
        return {"trek": UNKNOWN if tracker.get_slot("requested_slot") == "trek" else None}

    async def extract_group_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ "We are 2 couples", "3 adults and 2 kids": the party from the words, even where the
        NLU found no number (or only the "2" of "2 couples")."""
        if tracker.get_slot("group_size") not in (None, UNKNOWN):
            return {}
        said = parse_party(typed_text(tracker))
        return {"group_size": str(said.total)} if said else {}

    def validate_group_size(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        said = parse_party(typed_text(tracker))
        size = said.total if said else parse_group_size(str(value))
        if size is not None:
            return {"group_size": str(size)}
        return {
            "group_size": UNKNOWN if tracker.get_slot("requested_slot") == "group_size" else None
        }


class ActionAskTrek(TmsAction):
    """The form's question for a missing trek."""

    NAME = "action_ask_trek"

    def handle(self, turn: Turn) -> None:
        turn.say(texts.ask_trek(catalog.active_products(turn.session)))


class ActionAskGroupSize(TmsAction):
    """The form's question for a missing group size."""

    NAME = "action_ask_group_size"

    def handle(self, turn: Turn) -> None:
        # "Annapurna in March, are there seats?": the departures and their seats first, then
        # the party size (the answer the customer asked for does not wait on ours).
        product = resolve_product(turn.session, turn.slot("trek"))
        named_date = next(turn.tracker.get_latest_entity_values("travel_date"), None)
        if product is not None and named_date:
            turn.say(dates_answer(turn, product))
        turn.say(texts.ask_group_size())


def full_options_list(
    full: Departure, alternative: Departure | None
) -> tuple[list[dict[str, str]], str]:
    """The full departure's three options as list rows; the payload names both departures."""
    answers = choices.answer_to(
        choices.FULL_DEPARTURE, full.id, alternative.id if alternative else "-"
    )
    rows = [
        {
            **choices.button(title, "choose_option", answers, option_number=str(n)),
            "description": about,
        }
        for n, (title, about) in enumerate(texts.full_option_titles(full, alternative), start=1)
    ]
    return rows, texts.LIST_BUTTON


class ActionSubmitEnquiry(TmsAction):
    """Open the lead and answer with its reference, or offer the options for a full date."""

    NAME = "action_submit_enquiry"

    def handle(self, turn: Turn) -> None:
        session = turn.session
        if answer_private_request(turn, first_enquiry_text(turn.tracker)):
            turn.set_slot("pending_question", None)
            return
        product = resolve_product(session, turn.slot("trek"))
        wish = parse_travel_date(turn.slot("travel_date"), clock.local_today())
        closed = closed_departure_named(session, product, wish)
        if closed is not None:
            turn.say(closed)  # and the enquiry is opened as usual: the rep offers other dates
        full = requested_full_departure(session, product, wish)
        if product is not None and full is not None:
            alternative = next(
                (
                    d
                    for d in catalog.open_departures_of(session, product, from_date=full.start_date)
                    if d.id != full.id and not inventory.seat_counts(session, d).is_full
                ),
                None,
            )
            rows, _ = full_options_list(full, alternative)
            turn.say(texts.departure_full_options(product, full, alternative), buttons=rows)
            turn.set_slot("pending_question", FULL_OPTIONS)
            turn.set_slot("full_departure_id", full.id)
            turn.set_slot("alternative_departure_id", alternative.id if alternative else None)
            return
        current = leads.lead_of_conversation(session, turn.conversation)
        if (
            product is not None
            and current is not None
            and current.status in leads.SWITCHABLE
            and current.product_id != product.id
            and asks_instead(turn.text)
        ):
            # "What about Annapurna instead?": the same enquiry, another trek, the same party.
            old = leads.change_trek(
                session,
                current,
                product,
                turn.actor,
                party_size=parse_group_size(turn.slot("group_size")),
                travel_date_text=next(turn.tracker.get_latest_entity_values("travel_date"), None),
            )
            turn.say(texts.enquiry_trek_changed(current, old))
            turn.set_slot("pending_question", None)
            return
        lead = leads.open_enquiry(
            session,
            contact=turn.contact,
            conversation=turn.conversation,
            product=product,
            party_size=parse_group_size(turn.slot("group_size")),
            travel_date_text=turn.slot("travel_date"),
            enquiry_text=first_enquiry_text(turn.tracker) or turn.text,
            actor=turn.actor,
        )
        turn.say(texts.enquiry_received(lead, wish.month_label if wish else None))
        turn.set_slot("pending_question", None)


class ActionInform(TmsAction):
    """Answers about dates, fitness, requirements, names, group size go onto the lead."""

    NAME = "action_inform"

    def handle(self, turn: Turn) -> None:
        if offer_other_dates(turn):
            return  # "we'd rather go in April instead" from a customer who has booked
        if answer_party_question(turn):
            return
        if answer_private_request(turn):
            return  # "EBC as a private group, just the 4 of us": an enquiry of its own
        lead = leads.lead_of_conversation(turn.session, turn.conversation)
        if lead is None:
            turn.say(texts.no_open_enquiry())
            return
        answers: dict[str, Any] = {"note": turn.text}
        size = parse_group_size(next(turn.tracker.get_latest_entity_values("group_size"), None))
        if size is None and (said := parse_party(turn.text)) is not None:
            size = said.total  # "Update: we're 3 now"
        if size is not None:
            answers["party_size"] = size
            # The party from now on: "how much is it in total now?" prices this one.
            turn.set_slot("group_size", str(size))
        travel_date = next(turn.tracker.get_latest_entity_values("travel_date"), None)
        if travel_date:
            answers["dates"] = travel_date
        leads.add_details(turn.session, lead, answers, turn.actor)
        if travel_date and lead.product is not None:
            # "And in May?": the same trek and party, that month's departures.
            turn.say(texts.details_noted() + "\n\n" + dates_answer(turn, lead.product))
            return
        turn.say(texts.details_noted())
