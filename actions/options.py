"""A full departure's three options (hold the alternative date, join the waitlist, other
dates) and the "how many of you?" asked before the first two. Shared by choosing an option
(typed or tapped), joining the waitlist and giving details. Imports no action module."""

from __future__ import annotations

import re
from collections.abc import Callable

from actions.common import Turn
from actions.context import enquiry_text, party_size_in_context, pending_question
from actions.dates import answer_dates
from actions.holds import say_hold_placed
from backend import texts
from backend.domain import choices
from backend.domain.errors import DepartureClosed, NotEnoughSeats
from backend.domain.party import parse_group_size
from backend.models import Departure
from backend.services import leads


def answer_party_question(turn: Turn) -> bool:
    """The answer to "how many of you?" asked before an option of a full departure: carry on
    with that option. False when no such question is pending."""
    pending = pending_question(turn)
    if pending is None or pending.kind != choices.PARTY_FOR or not pending.object_id.isdigit():
        return False
    size = parse_group_size(turn.text) or parse_group_size(
        next(turn.tracker.get_latest_entity_values("group_size"), None)
    )
    if size is None:
        turn.say(texts.ask_party_size())
        return True
    turn.set_slot("group_size", str(size))
    run_option(turn, int(pending.object_id), size)
    return True


# Words that make a message about the party a question of its own ("how much for 4 of us?").
_ASKS_A_PRICE = re.compile(
    r"\b(price|prices|cost|costs|how much|rate|kitna|combien|prix|cu[aá]nto|precio|kostet|preis)\b"
    r"|[$€£?]",
    re.IGNORECASE,
)


def states_the_party_asked_for(turn: Turn) -> bool:
    """ "We are a family of four" while "how many of you?" waits: the answer to it, whatever
    intent the NLU read the message as. A question in it (a price, a "?") is its own."""
    pending = pending_question(turn)
    if pending is None or pending.kind != choices.PARTY_FOR or _ASKS_A_PRICE.search(turn.text):
        return False
    return parse_group_size(turn.text) is not None


def ask_party_size_for(turn: Turn, choice: int) -> None:
    turn.say(texts.ask_party_size())
    turn.set_slot("pending_question", choices.answer_to(choices.PARTY_FOR, str(choice)))


def ask_party_or_run(turn: Turn, choice: int, run: Callable[[int], None]) -> None:
    """Options 1 and 2 need the party size: asked, never guessed, when it is not known."""
    size = party_size_in_context(turn)
    if choice in (1, 2) and size is None:
        ask_party_size_for(turn, choice)
        return
    run(size or 1)


def run_option(turn: Turn, choice: int, party_size: int) -> None:
    """Option 1 (hold the alternative date), 2 (the waitlist) or 3 (other dates)."""
    full = turn.session.get(Departure, turn.slot("full_departure_id") or "")
    alternative = turn.session.get(Departure, turn.slot("alternative_departure_id") or "")
    run_option_on(turn, choice, party_size, full, alternative)


def run_option_on(
    turn: Turn,
    choice: int,
    party_size: int,
    full: Departure | None,
    alternative: Departure | None,
) -> None:
    if choice == 1 and alternative is not None:
        try:
            placed = leads.hold_for_enquiry(
                turn.session,
                contact=turn.contact,
                conversation=turn.conversation,
                departure=alternative,
                party_size=party_size,
                enquiry_text=enquiry_text(turn),
                actor=turn.actor,
            )
        except NotEnoughSeats as exc:
            turn.say(texts.hold_failed_no_seats(alternative, exc.available))
            return
        except DepartureClosed as closed:
            turn.say(texts.departure_closed(alternative, closed.why))
            return
        # The options question is answered before the e-mail question is asked.
        turn.set_slot("pending_question", None)
        say_hold_placed(turn, placed)
    elif choice == 2 and full is not None:
        join_waitlist(turn, full, party_size)
        turn.set_slot("pending_question", None)
    else:
        answer_dates(turn)


def join_waitlist(turn: Turn, departure: Departure, party_size: int) -> None:
    try:
        booking, position = leads.waitlist_for_enquiry(
            turn.session,
            contact=turn.contact,
            conversation=turn.conversation,
            departure=departure,
            party_size=party_size,
            enquiry_text=enquiry_text(turn),
            actor=turn.actor,
        )
    except DepartureClosed as closed:
        turn.say(texts.departure_closed(departure, closed.why))
        return
    turn.say(texts.waitlist_joined(booking, position))
