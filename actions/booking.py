"""A customer's own booking: hold, options, waitlist, payment, status, cancel, feedback, handoff."""

from __future__ import annotations

from actions import handoff, questions
from actions.common import TmsAction, Turn
from actions.context import (
    FULL_OPTIONS,
    booking_in_context,
    option_chosen,
    party_size_in_context,
)
from actions.faq import answer_question, topic_by_words
from actions.holds import place_hold_from_quote
from actions.options import (
    answer_party_question,
    ask_party_or_run,
    ask_party_size_for,
    join_waitlist,
    run_option,
    run_option_on,
)
from actions.reschedule import move_offer_tapped, offer_other_dates, reschedule_tapped
from backend import texts
from backend.domain import choices
from backend.domain.enums import ObjectType
from backend.domain.ratings import rating_in
from backend.domain.states import OPEN_BOOKING_STATES
from backend.models import Booking, Departure
from backend.services import bookings, feedback, timeline, waitlist


class ActionRequestHold(TmsAction):
    """ "Please hold the spots": a 24 h hold from the quote (Lead WON, Booking HELD)."""

    NAME = "action_request_hold"

    def handle(self, turn: Turn) -> None:
        if offer_other_dates(turn):
            return  # "can you put us on April instead?" from a customer who has booked
        place_hold_from_quote(turn)


class ActionChooseOption(TmsAction):
    """Reply 1, 2 or 3 to the full-departure options (workflow 2 step 1)."""

    NAME = "action_choose_option"

    def handle(self, turn: Turn) -> None:
        tapped = turn.answer_to
        if tapped is not None:
            option_tapped(turn, tapped)
            return
        if answer_party_question(turn):
            return
        if turn.slot("pending_question") != FULL_OPTIONS:
            if not rate_last_trip(turn):
                turn.say(texts.ok_nothing_pending())
            return
        choice = option_chosen(turn)
        if choice not in (1, 2, 3):
            turn.say("Please reply 1, 2 or 3.")
            return
        ask_party_or_run(turn, choice, lambda size: run_option(turn, choice, size))


def option_tapped(turn: Turn, tapped: choices.AnswerTo) -> None:
    """A row of the full-departure list (or a rating row): the departures come from the
    payload, so an old list still means what it said; a second tap repeats the answer."""
    if tapped.kind == choices.FEEDBACK:
        rate_tapped(turn, tapped)
        return
    if tapped.kind == choices.RESCHEDULE:
        reschedule_tapped(turn, tapped)
        return
    if tapped.kind == choices.MOVE:
        move_offer_tapped(turn, tapped)
        return
    full = turn.session.get(Departure, tapped.object_id)
    alternative_id = tapped.extra[0] if tapped.extra else "-"
    choice = option_chosen(turn)
    if tapped.kind != choices.FULL_DEPARTURE or full is None or choice not in (1, 2, 3):
        turn.say(texts.choice_expired())
        return
    turn.set_slot("full_departure_id", full.id)
    turn.set_slot("alternative_departure_id", None if alternative_id == "-" else alternative_id)
    target = full if choice == 2 else turn.session.get(Departure, alternative_id)
    existing = (
        bookings.open_booking_on(turn.session, turn.contact, target) if target is not None else None
    )
    if existing is not None and choice in (1, 2):
        turn.say(texts.booking_status(existing, waitlist.position_of(turn.session, existing)))
        return
    alternative = turn.session.get(Departure, alternative_id)
    ask_party_or_run(
        turn, choice, lambda size: run_option_on(turn, choice, size, full, alternative)
    )


class ActionJoinWaitlist(TmsAction):
    """ "Put me on the waitlist" for the full departure just discussed."""

    NAME = "action_join_waitlist"

    def handle(self, turn: Turn) -> None:
        if answer_party_question(turn):
            return
        full = turn.session.get(Departure, turn.slot("full_departure_id") or "")
        if full is None:
            turn.say("Which trek and date would you like to join the waitlist for?")
            return
        size = party_size_in_context(turn)
        if size is None:
            ask_party_size_for(turn, 2)
            return
        join_waitlist(turn, full, size)
        turn.set_slot("pending_question", None)


class ActionAskPayment(TmsAction):
    """The payment link, the balance and its due date."""

    NAME = "action_ask_payment"

    def handle(self, turn: Turn) -> None:
        topic = topic_by_words("ask_payment", turn.text)
        if topic == "children" and answer_question(turn, topic):
            return  # "how much does the kid pay?": a price, booked or not
        booking = booking_in_context(turn)
        if booking is not None:
            turn.say(texts.payment_info(booking))
            return
        # "Can I pay by bank transfer?" before booking is a policy question, not a lookup.
        if not answer_question(turn, topic):
            turn.say(texts.no_booking())


class ActionBookingStatus(TmsAction):
    """Where the customer's booking stands (with the waitlist position when waiting)."""

    NAME = "action_booking_status"

    def handle(self, turn: Turn) -> None:
        if offer_other_dates(turn):
            return  # "is our booking ok? we need to change the dates"
        booking = booking_in_context(turn)
        if booking is None:
            turn.say(texts.no_booking())
            return
        turn.say(texts.booking_status(booking, waitlist.position_of(turn.session, booking)))


class ActionCancelBooking(TmsAction):
    """Asks for confirmation; the "yes" (action_affirm) cancels and frees the seats."""

    NAME = "action_cancel_booking"

    def handle(self, turn: Turn) -> None:
        if offer_other_dates(turn):
            return  # "cancel or move us to May?": moving is offered first
        booking = booking_in_context(turn)
        if booking is None:
            # "What if I have to cancel?" with nothing booked: the policy, not a lookup.
            if not answer_question(turn, "cancellation_policy"):
                turn.say(texts.no_booking())
            return
        if booking.status not in OPEN_BOOKING_STATES:
            turn.say(texts.booking_status(booking))
            return
        questions.ask_yes_no(
            turn, texts.cancel_confirm_question(booking), choices.CANCEL, booking.reference
        )


def rate_tapped(turn: Turn, tapped: choices.AnswerTo) -> None:
    """A row of the rating list: rates the booking it names, once."""
    booking = turn.session.get(Booking, tapped.object_id)
    rating = rating_in(next(turn.tracker.get_latest_entity_values("rating"), None) or "")
    if booking is None or booking.contact_id != turn.contact.id or not rating:
        turn.say(texts.choice_expired())
    elif booking.feedback_rating is not None:
        turn.say(texts.already_rated(booking.feedback_rating))
    elif not feedback.can_rate(booking):
        turn.say(texts.choice_expired())
    else:
        feedback.give(
            turn.session, booking, rating=rating, comment=None, actor=turn.actor, channel="chat"
        )
        turn.say(texts.rating_thanks(rating, turn.name))
        if rating >= 4:
            questions.offer_departure_news(turn)


def rate_last_trip(turn: Turn) -> bool:
    """A rating ("5", "4 stars", "⭐⭐⭐") from a guest whose finished trip is not rated yet:
    stored like the feedback page's. False when it is not that."""
    rating = rating_in(turn.text)
    booking = feedback.awaiting_rating(turn.session, turn.contact) if rating else None
    if rating is None or booking is None:
        return False
    comment = turn.text if len(turn.text.strip()) > 12 else None
    feedback.give(
        turn.session, booking, rating=rating, comment=comment, actor=turn.actor, channel="chat"
    )
    turn.say(texts.rating_thanks(rating, turn.name))
    if rating >= 4:
        questions.offer_departure_news(turn)
    return True


class ActionGiveFeedback(TmsAction):
    """Feedback is stored on the customer's booking and thanked; a rating rates their last
    finished trip (the feedback request asks for one)."""

    NAME = "action_give_feedback"

    def handle(self, turn: Turn) -> None:
        if turn.answer_to is not None:
            option_tapped(turn, turn.answer_to)
            return
        if rate_last_trip(turn):
            return
        booking = booking_in_context(turn)
        if booking is not None and feedback.can_rate(booking):
            feedback.give(
                turn.session,
                booking,
                rating=None,
                comment=turn.text,
                actor=turn.actor,
                channel="chat",
            )
        elif booking is not None:
            bookings.record_feedback(turn.session, booking, turn.text, turn.actor)
        else:
            timeline.record(
                turn.session,
                object_type=ObjectType.CONVERSATION,
                object_id=turn.conversation.id,
                event_type="FEEDBACK",
                action="tms.conversation.feedback",
                actor=turn.actor,
                content={"text": turn.text},
            )
        turn.say(texts.feedback_thanks(turn.name))


class ActionHumanHandoff(TmsAction):
    """Pause the bot for this conversation and alert the assigned rep (staff resume it)."""

    NAME = "action_human_handoff"

    def handle(self, turn: Turn) -> None:
        handoff.hand_off(turn)
