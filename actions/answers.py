"""Yes and no: the pending question decides what they mean.

In order: a guide's open assignment offer (Accept / Decline), a cancellation waiting for
confirmation, a waitlist spot on offer (CONFIRM / DECLINE), a quote waiting for a go-ahead.
"""

from __future__ import annotations

from actions.booking import cancel_confirmed, place_hold_from_quote
from actions.common import TmsAction, Turn
from backend import texts
from backend.domain.enums import BookingStatus, LeadStatus, ObjectType
from backend.models import Booking
from backend.services import bookings, contacts, inventory, leads, trips, waitlist


def offered_booking(turn: Turn) -> Booking | None:
    return next(
        (
            b
            for b in bookings.bookings_of_contact(turn.session, turn.contact)
            if b.status == BookingStatus.OFFERED
        ),
        None,
    )


class ActionAffirm(TmsAction):
    """Yes / Accept / CONFIRM."""

    NAME = "action_affirm"

    def handle(self, turn: Turn) -> None:
        pending = turn.slot("pending_question") or ""
        if turn.staff is not None:
            offer = trips.pending_offer_for(turn.session, turn.staff)
            if offer is not None:
                trips.respond_to_assignment(turn.session, offer, True, turn.actor)
                turn.say(texts.assignment_accepted(offer.trip))
                return
        if pending.startswith("cancel:"):
            cancel_confirmed(turn, pending.split(":", 1)[1])
            turn.set_slot("pending_question", None)
            return
        booking = offered_booking(turn)
        if booking is not None:
            waitlist.accept_offer(turn.session, booking, turn.actor)
            contacts.bind_conversation(
                turn.session, turn.conversation, ObjectType.BOOKING, booking.id, turn.actor
            )
            hold = inventory.active_hold(turn.session, booking)
            assert hold is not None
            turn.say(texts.waitlist_offer_accepted(booking, hold.expires_at))
            return
        lead = leads.lead_of_conversation(turn.session, turn.conversation)
        if lead is not None and lead.status == LeadStatus.QUOTED:
            place_hold_from_quote(turn)
            return
        turn.say(texts.ok_nothing_pending())


class ActionDeny(TmsAction):
    """No / Decline / DECLINE."""

    NAME = "action_deny"

    def handle(self, turn: Turn) -> None:
        pending = turn.slot("pending_question") or ""
        if turn.staff is not None:
            offer = trips.pending_offer_for(turn.session, turn.staff)
            if offer is not None:
                trips.respond_to_assignment(turn.session, offer, False, turn.actor)
                turn.say(texts.assignment_declined(offer.trip))
                return
        if pending.startswith("cancel:"):
            booking = bookings.find_booking(turn.session, pending.split(":", 1)[1])
            turn.say(texts.cancel_kept(booking))
            turn.set_slot("pending_question", None)
            return
        booking = offered_booking(turn)
        if booking is not None:
            waitlist.decline_offer(turn.session, booking, turn.actor)
            turn.say(texts.waitlist_offer_declined(booking))
            return
        turn.say(texts.no_problem())
