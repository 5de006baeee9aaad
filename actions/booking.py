"""A customer's own booking: hold, options, waitlist, payment, status, cancel, feedback, handoff."""

from __future__ import annotations

import re

from actions.catalogue import ActionAskDates
from actions.common import YES_NO, TmsAction, Turn
from actions.enquiry import first_enquiry_text
from backend import texts
from backend.domain.enums import BookingStatus, LeadStatus, ObjectType, Role
from backend.domain.errors import DomainError, NotEnoughSeats, NotFound
from backend.domain.party import parse_group_size
from backend.domain.states import OPEN_BOOKING_STATES
from backend.models import Booking, Departure
from backend.services import (
    bookings,
    contacts,
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


def party_size_in_context(turn: Turn) -> int:
    return parse_group_size(turn.slot("group_size")) or 1


def place_hold_from_quote(turn: Turn) -> None:
    """Shared by "please hold" and a "yes" to the quote: hold from the lead's quote, or tell the
    rep the customer is ready when there is no quote yet."""
    lead = leads.lead_of_conversation(turn.session, turn.conversation) or leads.open_lead_of(
        turn.session, turn.contact
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


class ActionRequestHold(TmsAction):
    """ "Please hold the spots": a 24 h hold from the quote (Lead WON, Booking HELD)."""

    NAME = "action_request_hold"

    def handle(self, turn: Turn) -> None:
        place_hold_from_quote(turn)


class ActionChooseOption(TmsAction):
    """Reply 1, 2 or 3 to the full-departure options (workflow 2 step 1)."""

    NAME = "action_choose_option"

    def handle(self, turn: Turn) -> None:
        if turn.slot("pending_question") != "full_options":
            turn.say(texts.ok_nothing_pending())
            return
        choice = option_chosen(turn)
        full = turn.session.get(Departure, turn.slot("full_departure_id") or "")
        alternative = turn.session.get(Departure, turn.slot("alternative_departure_id") or "")
        if choice == 1 and alternative is not None:
            try:
                booking = leads.hold_for_enquiry(
                    turn.session,
                    contact=turn.contact,
                    conversation=turn.conversation,
                    departure=alternative,
                    party_size=party_size_in_context(turn),
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
            join_waitlist(turn, full)
        elif choice == 3 or (choice == 1 and alternative is None):
            ActionAskDates().handle(turn)
            return
        else:
            turn.say("Please reply 1, 2 or 3.")
            return
        turn.set_slot("pending_question", None)


def join_waitlist(turn: Turn, departure: Departure) -> None:
    booking, position = leads.waitlist_for_enquiry(
        turn.session,
        contact=turn.contact,
        conversation=turn.conversation,
        departure=departure,
        party_size=party_size_in_context(turn),
        enquiry_text=enquiry_text(turn),
        actor=turn.actor,
    )
    turn.say(texts.waitlist_joined(booking, position))


class ActionJoinWaitlist(TmsAction):
    """ "Put me on the waitlist" for the full departure just discussed."""

    NAME = "action_join_waitlist"

    def handle(self, turn: Turn) -> None:
        full = turn.session.get(Departure, turn.slot("full_departure_id") or "")
        if full is None:
            turn.say("Which trek and date would you like to join the waitlist for?")
            return
        join_waitlist(turn, full)
        turn.set_slot("pending_question", None)


class ActionAskPayment(TmsAction):
    """The payment link, the balance and its due date."""

    NAME = "action_ask_payment"

    def handle(self, turn: Turn) -> None:
        booking = booking_in_context(turn)
        turn.say(texts.payment_info(booking) if booking else texts.no_booking())


class ActionBookingStatus(TmsAction):
    """Where the customer's booking stands (with the waitlist position when waiting)."""

    NAME = "action_booking_status"

    def handle(self, turn: Turn) -> None:
        booking = booking_in_context(turn)
        if booking is None:
            turn.say(texts.no_booking())
            return
        entry = waitlist.entry_of(turn.session, booking)
        position = (
            waitlist.position(turn.session, entry)
            if entry is not None and booking.status == BookingStatus.WAITLISTED
            else None
        )
        turn.say(texts.booking_status(booking, position))


class ActionCancelBooking(TmsAction):
    """Asks for confirmation; the "yes" (action_affirm) cancels and frees the seats."""

    NAME = "action_cancel_booking"

    def handle(self, turn: Turn) -> None:
        booking = booking_in_context(turn)
        if booking is None:
            turn.say(texts.no_booking())
            return
        if booking.status not in OPEN_BOOKING_STATES:
            turn.say(texts.booking_status(booking))
            return
        turn.say(texts.cancel_confirm_question(booking), buttons=YES_NO)
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


class ActionGiveFeedback(TmsAction):
    """Feedback is stored on the customer's booking and thanked."""

    NAME = "action_give_feedback"

    def handle(self, turn: Turn) -> None:
        booking = booking_in_context(turn)
        if booking is not None:
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
