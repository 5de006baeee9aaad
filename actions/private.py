"""A private departure asked for by name ("could we do EBC as a private group, just the 4 of
us in October?"): an enquiry flagged private, with the group's size and month, whichever
intent the words got (an enquiry, the private-departures question)."""

from __future__ import annotations

from actions.common import Turn
from actions.context import first_enquiry_text, product_in_context
from backend import texts
from backend.domain.party import parse_group_size, parse_party
from backend.domain.wishes import asks_private
from backend.services import leads


def answer_private_request(turn: Turn, words: str | None = None) -> bool:
    """True when the message (or `words`: the enquiry's first message) asked for a private
    departure of a trek, and it was answered."""
    words = words or turn.text
    if not asks_private(words):
        return False
    product = product_in_context(turn)
    if product is None:
        return False
    said = parse_party(words)
    party = said.total if said else parse_group_size(turn.slot("group_size"))
    month = next(turn.tracker.get_latest_entity_values("travel_date"), None) or turn.slot(
        "travel_date"
    )
    lead = leads.lead_of_conversation(turn.session, turn.conversation)
    if lead is not None and lead.product_id == product.id:
        details: dict[str, object] = {"note": words}
        if party:
            details["party_size"] = party
        if month:
            details["dates"] = month
        leads.add_details(turn.session, lead, details, turn.actor)
        leads.ask_private(turn.session, lead, turn.actor)
    else:
        lead = leads.open_enquiry(
            turn.session,
            contact=turn.contact,
            conversation=turn.conversation,
            product=product,
            party_size=party,
            travel_date_text=month,
            enquiry_text=first_enquiry_text(turn.tracker) or turn.text,
            actor=turn.actor,
            private=True,
        )
    if party:
        turn.set_slot("group_size", str(party))
    turn.set_slot("trek", product.code)
    turn.say(texts.private_enquiry_received(lead))
    return True
