"""A customer asks to move their booking to another date ("can we move to April instead?"):
the other departures with seats as a list, and the tapped row sent to the rep as a request
(backend/services/reschedules.py decides nothing here: the rep approves in the console).
No intent names this wish (it reads as dates, cancelling, status, a hold, details or nothing
known), so each of those actions asks `offer_other_dates` first: a customer with no booking
that could move gets that action's usual answer.
Imports no action module."""

from __future__ import annotations

import re

from actions.common import Turn
from actions.context import booking_in_context
from backend import clock, texts
from backend.domain import choices
from backend.domain.dates import parse_travel_date
from backend.domain.enums import MoveOfferStatus
from backend.domain.errors import NotEnoughSeats, NotFound
from backend.models import Booking, Departure, MoveOffer
from backend.services import departure_moves, reschedules

# Words that ask to move a booking, in the languages customers write (a booking must exist).
_MOVE_WORDS = re.compile(
    r"\b(move|moving|reschedul\w*|postpone\w*|chang\w* (?:the |our |my )?(?:date|departure)s?"
    r"|(?:another|other|different|later|earlier) (?:date|departure)s?|switch|instead"
    r"|verschieben|umbuchen|verlegen|changer|d[ée]placer|reporter|cambiar|mover|aplazar)\b",
    re.IGNORECASE,
)
LIST_ROWS = 10  # a WhatsApp list shows at most 10 rows


def asks_to_move(text: str) -> bool:
    return bool(_MOVE_WORDS.search(text or ""))


def offer_other_dates(turn: Turn) -> bool:
    """The list of departures the customer's booking could move to, when they ask to move it.
    False when it is not that (no such words, or no booking that could move)."""
    if not asks_to_move(turn.text):
        return False
    try:
        booking = booking_in_context(turn)
    except NotFound:
        return False
    if booking is None or not reschedules.can_move(booking):
        return False
    rows = reschedules.other_departures(turn.session, booking)
    named = next(turn.tracker.get_latest_entity_values("travel_date"), None)
    wish = parse_travel_date(named, clock.local_today()) if named else None
    if wish is not None:
        within = [(d, free) for d, free in rows if wish.start <= d.start_date <= wish.end]
        rows = within or rows
    rows = rows[:LIST_ROWS]
    fee = reschedules.change_fee(turn.session, booking)
    turn.say(
        texts.reschedule_choices(booking, rows),
        buttons=[
            {
                **choices.button(
                    texts.reschedule_row_title(departure),
                    "choose_option",
                    choices.answer_to(choices.RESCHEDULE, booking.id, departure.id),
                ),
                "description": texts.reschedule_row_about(free, fee, booking.currency),
            }
            for departure, free in rows
        ],
    )
    return True


def reschedule_tapped(turn: Turn, tapped: choices.AnswerTo) -> None:
    """A row of that list: the request goes to the rep (once; another row replaces it)."""
    booking = turn.session.get(Booking, tapped.object_id)
    target = turn.session.get(Departure, tapped.extra[0]) if tapped.extra else None
    if booking is None or target is None or booking.contact_id != turn.contact.id:
        turn.say(texts.choice_expired())
        return
    if not reschedules.can_move(booking):
        turn.say(texts.reschedule_not_possible(booking))
        return
    try:
        request, new = reschedules.request_reschedule(
            turn.session,
            booking,
            target.id,
            turn.actor,
            channel="chat",
            conversation=turn.conversation,
        )
    except NotEnoughSeats as exc:
        turn.say(texts.reschedule_full(booking, target, exc.available))
        return
    except reschedules.CannotReschedule:
        turn.say(texts.reschedule_not_possible(booking))
        return
    if new:
        turn.say(texts.reschedule_requested(booking, target, request.fee_minor))
    else:
        turn.say(texts.reschedule_already_requested(booking, target))


def move_offer_tapped(turn: Turn, tapped: choices.AnswerTo) -> None:
    """A button of a moved departure's offer (accept / other / cancel) or a row of its other
    departures (`to`, the departure): answered once; a full departure says what is left."""
    offer = turn.session.get(MoveOffer, tapped.object_id)
    choice = tapped.extra[0] if tapped.extra else ""
    if offer is None or offer.booking.contact_id != turn.contact.id:
        turn.say(texts.choice_expired())
        return
    if offer.status != MoveOfferStatus.OFFERED:
        turn.say(texts.move_answered())
        return
    booking = offer.booking
    if choice == "other":
        rows = departure_moves.other_departures(turn.session, offer)[:LIST_ROWS]
        answers = choices.answer_to(choices.MOVE, offer.id, "to")
        turn.say(
            texts.move_other_dates(booking, rows),
            buttons=[
                {
                    **choices.button(
                        texts.reschedule_row_title(departure),
                        "choose_option",
                        f"{answers}:{departure.id}",
                    ),
                    "description": texts.reschedule_row_about(free, 0, booking.currency),
                }
                for departure, free in rows
            ],
        )
        return
    if choice not in ("accept", "cancel", "to") or (choice == "to" and len(tapped.extra) < 2):
        turn.say(texts.choice_expired())
        return
    kw = {"departure_id": tapped.extra[1]} if choice == "to" else {}
    outcome = departure_moves.answer(turn.session, offer, choice, turn.actor, **kw)
    if outcome.outcome == "already":
        turn.say(texts.move_answered())
