"""Seats held from the chat, phrased: the hold itself is `leads.place_hold` (the console and
the API call the same). Imports no action module."""

from __future__ import annotations

from actions.common import Turn
from backend import texts
from backend.domain import choices
from backend.domain.enums import LeadStatus, ObjectType
from backend.domain.errors import DepartureClosed, NotEnoughSeats
from backend.models import Departure, Lead
from backend.services import leads, routing
from backend.services.leads import PlacedHold


def ask_for_email(turn: Turn) -> None:
    """After a hold: ask where to send the confirmation, unless we know already. The pending
    question is the contact's `email` question (see actions/questions.py)."""
    if turn.contact.email:
        return
    turn.say(texts.ask_email())
    turn.set_slot("pending_question", choices.answer_to(choices.EMAIL, turn.contact.id))


def say_hold_placed(turn: Turn, placed: PlacedHold) -> None:
    turn.say(texts.hold_placed(placed.booking, placed.expires_at))
    ask_for_email(turn)


def place_hold_from_quote(turn: Turn, lead: Lead | None = None) -> None:
    """Shared by "please hold", a "yes" to the quote and its *Hold my seats* button: hold from
    the lead's quote, or tell the rep the customer is ready when there is no quote yet."""
    lead = (
        lead
        or leads.lead_of_conversation(turn.session, turn.conversation)
        or leads.open_lead_of(turn.session, turn.contact)
    )
    if lead is None:
        turn.say(texts.no_open_enquiry())
        return
    if lead.status != LeadStatus.QUOTED:
        routing.alert(
            turn.session,
            "tms.lead.hold_requested",
            texts.rep_hold_requested(lead),
            object_type=ObjectType.LEAD,
            object_id=lead.id,
            conversation=turn.conversation,
        )
        turn.say(texts.hold_needs_quote(lead))
        return
    try:
        placed = leads.place_hold(turn.session, lead, turn.actor, conversation=turn.conversation)
    except (NotEnoughSeats, DepartureClosed) as exc:
        departure = turn.session.get(Departure, lead.quoted_departure_id)
        assert departure is not None  # a quoted lead names its departure
        if isinstance(exc, DepartureClosed):
            turn.say(texts.departure_closed(departure, exc.why))
        else:
            turn.say(texts.hold_failed_no_seats(departure, exc.available))
        return
    say_hold_placed(turn, placed)
