"""What the conversation is about: the trek, the booking, the enquiry, the party, the option
chosen. Read by many actions; imports no action module."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from actions.common import Turn
from backend.domain import choices
from backend.domain.enums import ObjectType
from backend.domain.errors import NotFound
from backend.domain.party import parse_group_size
from backend.models import Booking, Product
from backend.services import bookings, catalog, leads

UNKNOWN = "unknown"  # a form slot asked for once and not understood: left to the rep

_ORDINALS = {
    "first": 1,
    "one": 1,
    "second": 2,
    "two": 2,
    "third": 3,
    "three": 3,
    # German, French, Spanish ordinals (their cardinals double as other words: "tres bien").
    "erste[nrs]?": 1,
    "zweite[nrs]?": 2,
    "dritte[nrs]?": 3,
    "premi[eè]re?": 1,
    "deuxi[eè]me": 2,
    "seconde": 2,
    "troisi[eè]me": 3,
    "primer[oa]?": 1,
    "segund[oa]": 2,
    "tercer[oa]?": 3,
}


def resolve_product(session: Session, value: str | None) -> Product | None:
    if not value or value == UNKNOWN:
        return None
    return catalog.find_product(session, value) or catalog.find_product_in_text(session, value)


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


def booking_in_context(turn: Turn) -> Booking | None:
    """A reference in the message (it must be the sender's), else the conversation's booking,
    else the customer's most recent one."""
    reference = turn.reference_in_text()
    if reference:
        booking = bookings.find_booking(turn.session, reference)
        if booking.contact_id != turn.contact.id:
            raise NotFound(f"No booking {reference} on this number")
        return booking
    if turn.conversation.object_type == ObjectType.BOOKING and turn.conversation.object_id:
        bound = turn.session.get(Booking, turn.conversation.object_id)
        if bound is not None:
            return bound
    mine = bookings.bookings_of_contact(turn.session, turn.contact)
    return mine[0] if mine else None


def first_enquiry_text(tracker: Tracker) -> str | None:
    """The customer's enquiry message (the form may have asked questions since)."""
    for event in reversed(tracker.events):
        if (
            event.get("event") == "user"
            and (event.get("parse_data") or {}).get("intent", {}).get("name") == "enquire_trip"
        ):
            return event.get("text")
    return None


def enquiry_text(turn: Turn) -> str:
    """The customer's enquiry, not the "2" that chose an option."""
    return first_enquiry_text(turn.tracker) or turn.text


def party_size_in_context(turn: Turn) -> int | None:
    """The party size the customer gave, if they did: never a guess (a family of four
    waitlisted as one would be offered a seat they cannot use)."""
    return parse_group_size(turn.slot("group_size"))


def option_chosen(turn: Turn) -> int | None:
    raw = next(turn.tracker.get_latest_entity_values("option_number"), None) or turn.text
    digits = re.search(r"\b([1-9])(?:st|nd|rd|th)?\b", raw or "")
    if digits:
        return int(digits.group(1))
    for word, number in _ORDINALS.items():
        if re.search(rf"\b{word}\b", (raw or "").lower()):
            return number
    return None


# The full departure's options are not a yes/no question: their pending value stays a word.
FULL_OPTIONS = "full_options"


def pending_question(turn: Turn) -> choices.AnswerTo | None:
    """The question asked in words and not answered yet (the `pending_question` slot), in
    the form a button's payload names it."""
    raw = turn.slot("pending_question")
    if raw == "email":  # written before the slot carried the question's `AnswerTo`
        return choices.AnswerTo(choices.EMAIL, turn.contact.id)
    return choices.parse_answer_to(raw)
