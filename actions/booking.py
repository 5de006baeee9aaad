"""A customer's own booking: hold, options, waitlist, payment, status, cancel, feedback, handoff."""

from __future__ import annotations

import re
from collections.abc import Callable

from actions.catalogue import ActionAskDates
from actions.common import TmsAction, Turn
from actions.contact_details import ask_for_email
from actions.enquiry import first_enquiry_text
from actions.knowledge import answer_question, topic_by_words
from backend import texts
from backend.domain import choices
from backend.domain.enums import LeadStatus, ObjectType, Role
from backend.domain.errors import DomainError, NotEnoughSeats, NotFound
from backend.domain.party import parse_group_size
from backend.domain.ratings import rating_in
from backend.domain.states import OPEN_BOOKING_STATES
from backend.models import Booking, Departure, Lead
from backend.services import (
    bookings,
    contacts,
    feedback,
    inventory,
    leads,
    notifications,
    timeline,
    waitlist,
)
from backend.services import staff as staff_service

_ORDINALS = {"first": 1, "one": 1, "second": 2, "two": 2, "third": 3, "three": 3}


def option_chosen(turn: Turn) -> int | None:
    raw = next(turn.tracker.get_latest_entity_values("option_number"), None) or turn.text
    digits = re.search(r"\b([1-9])(?:st|nd|rd|th)?\b", raw or "")
    if digits:
        return int(digits.group(1))
    for word, number in _ORDINALS.items():
        if re.search(rf"\b{word}\b", (raw or "").lower()):
            return number
    return None


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
        booking = turn.session.get(Booking, turn.conversation.object_id)
        if booking is not None:
            return booking
    mine = bookings.bookings_of_contact(turn.session, turn.contact)
    return mine[0] if mine else None


def enquiry_text(turn: Turn) -> str:
    """The customer's enquiry, not the "2" that chose an option."""
    return first_enquiry_text(turn.tracker) or turn.text


def party_size_in_context(turn: Turn) -> int | None:
    """The party size the customer gave, if they did: never a guess (a family of four
    waitlisted as one would be offered a seat they cannot use)."""
    return parse_group_size(turn.slot("group_size"))


def answer_party_question(turn: Turn) -> bool:
    """The answer to "how many of you?" asked before an option of a full departure: carry on
    with that option. False when no such question is pending."""
    pending = turn.slot("pending_question") or ""
    if not pending.startswith("party_for:"):
        return False
    size = parse_group_size(turn.text) or parse_group_size(
        next(turn.tracker.get_latest_entity_values("group_size"), None)
    )
    if size is None:
        turn.say(texts.ask_party_size())
        return True
    turn.set_slot("group_size", str(size))
    run_option(turn, int(pending.split(":", 1)[1]), size)
    return True


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
        rep = leads.rep_of_conversation(turn.session, turn.conversation)
        if rep is not None:
            notifications.to_staff(
                turn.session,
                rep,
                texts.rep_hold_requested(lead),
                purpose="rep_alert",
                object_type=ObjectType.LEAD,
                object_id=lead.id,
            )
        else:
            notifications.to_role(
                turn.session,
                Role.SALES,
                texts.rep_hold_requested(lead),
                purpose="rep_alert",
                object_type=ObjectType.LEAD,
                object_id=lead.id,
            )
        turn.say(texts.hold_needs_quote(lead))
        return
    try:
        booking = leads.hold_from_quote(turn.session, lead, turn.actor)
    except NotEnoughSeats as exc:
        departure = turn.session.get(Departure, lead.quoted_departure_id)
        turn.say(texts.hold_failed_no_seats(departure, exc.available))
        return
    contacts.bind_conversation(
        turn.session, turn.conversation, ObjectType.BOOKING, booking.id, turn.actor
    )
    hold = inventory.active_hold(turn.session, booking)
    assert hold is not None
    turn.say(texts.hold_placed(booking, hold.expires_at))
    ask_for_email(turn)


class ActionRequestHold(TmsAction):
    """ "Please hold the spots": a 24 h hold from the quote (Lead WON, Booking HELD)."""

    NAME = "action_request_hold"

    def handle(self, turn: Turn) -> None:
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
        if turn.slot("pending_question") != "full_options":
            if not rate_last_trip(turn):
                turn.say(texts.ok_nothing_pending())
            return
        choice = option_chosen(turn)
        if choice not in (1, 2, 3):
            turn.say("Please reply 1, 2 or 3.")
            return
        ask_party_or_run(turn, choice, lambda size: run_option(turn, choice, size))


def ask_party_or_run(turn: Turn, choice: int, run: Callable[[int], None]) -> None:
    """Options 1 and 2 need the party size: asked, never guessed, when it is not known."""
    size = party_size_in_context(turn)
    if choice in (1, 2) and size is None:
        turn.say(texts.ask_party_size())
        turn.set_slot("pending_question", f"party_for:{choice}")
        return
    run(size or 1)


def option_tapped(turn: Turn, tapped: choices.AnswerTo) -> None:
    """A row of the full-departure list (or a rating row): the departures come from the
    payload, so an old list still means what it said; a second tap repeats the answer."""
    if tapped.kind == choices.FEEDBACK:
        rate_tapped(turn, tapped)
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
            booking = leads.hold_for_enquiry(
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
        hold = inventory.active_hold(turn.session, booking)
        assert hold is not None
        turn.say(texts.hold_placed(booking, hold.expires_at))
    elif choice == 2 and full is not None:
        join_waitlist(turn, full, party_size)
    else:
        ActionAskDates().handle(turn)
        return
    turn.set_slot("pending_question", None)
    if choice == 1:
        ask_for_email(turn)


def join_waitlist(turn: Turn, departure: Departure, party_size: int) -> None:
    booking, position = leads.waitlist_for_enquiry(
        turn.session,
        contact=turn.contact,
        conversation=turn.conversation,
        departure=departure,
        party_size=party_size,
        enquiry_text=enquiry_text(turn),
        actor=turn.actor,
    )
    turn.say(texts.waitlist_joined(booking, position))


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
            turn.say(texts.ask_party_size())
            turn.set_slot("pending_question", "party_for:2")
            return
        join_waitlist(turn, full, size)
        turn.set_slot("pending_question", None)


class ActionAskPayment(TmsAction):
    """The payment link, the balance and its due date."""

    NAME = "action_ask_payment"

    def handle(self, turn: Turn) -> None:
        booking = booking_in_context(turn)
        if booking is not None:
            turn.say(texts.payment_info(booking))
            return
        # "Can I pay by bank transfer?" before booking is a policy question, not a lookup.
        if not answer_question(turn, topic_by_words("ask_payment", turn.text)):
            turn.say(texts.no_booking())


class ActionBookingStatus(TmsAction):
    """Where the customer's booking stands (with the waitlist position when waiting)."""

    NAME = "action_booking_status"

    def handle(self, turn: Turn) -> None:
        booking = booking_in_context(turn)
        if booking is None:
            turn.say(texts.no_booking())
            return
        turn.say(texts.booking_status(booking, waitlist.position_of(turn.session, booking)))


class ActionCancelBooking(TmsAction):
    """Asks for confirmation; the "yes" (action_affirm) cancels and frees the seats."""

    NAME = "action_cancel_booking"

    def handle(self, turn: Turn) -> None:
        booking = booking_in_context(turn)
        if booking is None:
            # "What if I have to cancel?" with nothing booked: the policy, not a lookup.
            if not answer_question(turn, "cancellation_policy"):
                turn.say(texts.no_booking())
            return
        if booking.status not in OPEN_BOOKING_STATES:
            turn.say(texts.booking_status(booking))
            return
        turn.say(
            texts.cancel_confirm_question(booking),
            buttons=choices.yes_no(choices.answer_to(choices.CANCEL, booking.reference)),
        )
        turn.set_slot("pending_question", f"cancel:{booking.reference}")


def cancel_confirmed(turn: Turn, reference: str) -> None:
    booking = bookings.find_booking(turn.session, reference)
    if booking.contact_id != turn.contact.id:
        raise DomainError("That booking is not on this number")
    bookings.cancel_booking(
        turn.session, booking, turn.actor, reason="cancelled by the customer on WhatsApp"
    )
    rep = leads.rep_of_conversation(turn.session, turn.conversation)
    alert = f"❌ {turn.contact.display_name} cancelled {booking.reference} ({booking.party_size} seats freed)"
    if rep is not None:
        notifications.to_staff(
            turn.session,
            rep,
            alert,
            purpose="rep_alert",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    turn.say(texts.cancelled(booking))


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
        contacts.set_bot_paused(turn.session, turn.conversation, True, turn.actor)
        rep = leads.rep_of_conversation(turn.session, turn.conversation)
        lead = leads.lead_of_conversation(turn.session, turn.conversation)
        alert = texts.rep_handoff(
            turn.contact.display_name,
            turn.contact.phone,
            lead.reference if lead else None,
            turn.text,
        )
        targets = (
            [rep] if rep else staff_service.with_role(turn.session, Role.SALES, available_only=True)
        )
        for member in targets:
            notifications.to_staff(
                turn.session,
                member,
                alert,
                purpose="rep_alert",
                object_type=ObjectType.CONVERSATION,
                object_id=turn.conversation.id,
            )
        turn.say(texts.handoff_started(rep))
