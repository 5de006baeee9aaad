"""Workflow 1 step 1 and workflow 2 step 1: the enquiry form, the lead, full departures."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.common import TmsAction, Turn
from backend import clock, texts
from backend.config import get_settings
from backend.db import transaction
from backend.domain.dates import DateWish, parse_travel_date
from backend.domain.party import parse_group_size
from backend.models import Departure, Product
from backend.services import catalog, inventory, leads

UNKNOWN = "unknown"


def today():  # type: ignore[no-untyped-def]
    return clock.now().astimezone(get_settings().tz).date()


def resolve_product(session, value: str | None) -> Product | None:  # type: ignore[no-untyped-def]
    if not value or value == UNKNOWN:
        return None
    return catalog.find_product(session, value) or catalog.find_product_in_text(session, value)


def requested_full_departure(
    session, product: Product | None, wish: DateWish | None
) -> Departure | None:  # type: ignore[no-untyped-def]
    """The exact departure the customer named, when it has no seats left."""
    if product is None or wish is None or wish.exact is None:
        return None
    departure = catalog.departure_on(session, product, wish.exact)
    if departure is None or not inventory.seat_counts(session, departure).is_full:
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
            wish = parse_travel_date(tracker.get_slot("travel_date"), today())
            if requested_full_departure(session, product, wish) is not None:
                return ["trek"]
        return domain_slots

    def validate_trek(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        with transaction() as session:
            product = resolve_product(session, str(value))
            if product is not None:
                return {"trek": product.code}
        return {"trek": UNKNOWN if tracker.get_slot("requested_slot") == "trek" else None}

    def validate_group_size(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        size = parse_group_size(str(value))
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
        turn.say(texts.ask_group_size())


class ActionSubmitEnquiry(TmsAction):
    """Open the lead and answer with its reference, or offer the options for a full date."""

    NAME = "action_submit_enquiry"

    def handle(self, turn: Turn) -> None:
        session = turn.session
        product = resolve_product(session, turn.slot("trek"))
        wish = parse_travel_date(turn.slot("travel_date"), today())
        full = requested_full_departure(session, product, wish)
        if product is not None and full is not None:
            alternative = next(
                (
                    d
                    for d in catalog.departures_of(session, product, from_date=full.start_date)
                    if d.id != full.id and not inventory.seat_counts(session, d).is_full
                ),
                None,
            )
            turn.say(texts.departure_full_options(product, full, alternative))
            turn.set_slot("pending_question", "full_options")
            turn.set_slot("full_departure_id", full.id)
            turn.set_slot("alternative_departure_id", alternative.id if alternative else None)
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


def first_enquiry_text(tracker: Tracker) -> str | None:
    """The customer's enquiry message (the form may have asked questions since)."""
    for event in reversed(tracker.events):
        if (
            event.get("event") == "user"
            and (event.get("parse_data") or {}).get("intent", {}).get("name") == "enquire_trip"
        ):
            return event.get("text")
    return None


class ActionInform(TmsAction):
    """Answers about dates, fitness, requirements, names, group size go onto the lead."""

    NAME = "action_inform"

    def handle(self, turn: Turn) -> None:
        lead = leads.lead_of_conversation(turn.session, turn.conversation)
        if lead is None:
            turn.say(texts.no_open_enquiry())
            return
        answers: dict[str, Any] = {"note": turn.text}
        size = parse_group_size(next(turn.tracker.get_latest_entity_values("group_size"), None))
        if size is not None:
            answers["party_size"] = size
        travel_date = next(turn.tracker.get_latest_entity_values("travel_date"), None)
        if travel_date:
            answers["dates"] = travel_date
        leads.add_details(turn.session, lead, answers, turn.actor)
        turn.say(texts.details_noted())
