"""Yes and no: a tapped button says what it answers; a typed word is read against the pending
question.

A tap carries `answer_to` (backend/domain/choices.py) and answers exactly that question: an
old message's button says it no longer applies, a second tap changes nothing. Typed, in order: a guide's open assignment offer (Accept / Decline), a cancellation waiting for
confirmation, a waitlist spot on offer (CONFIRM / DECLINE), a quote waiting for a go-ahead.
"""

from __future__ import annotations

from datetime import timedelta

from actions.booking import cancel_confirmed, place_hold_from_quote
from actions.common import TmsAction, Turn
from actions.contact_details import ask_for_email
from backend import clock, texts
from backend.domain import choices
from backend.domain.enums import (
    AssignmentStatus,
    BookingStatus,
    IncidentStatus,
    LeadStatus,
    ObjectType,
    WaitlistStatus,
)
from backend.models import Assignment, Booking, Incident, Lead
from backend.services import bookings, contacts, incidents, inventory, leads, trips, waitlist


def offered_booking(turn: Turn) -> Booking | None:
    return next(
        (
            b
            for b in bookings.bookings_of_contact(turn.session, turn.contact)
            if b.status == BookingStatus.OFFERED
        ),
        None,
    )


def held_from_the_waitlist(turn: Turn) -> Booking | None:
    """A booking of this customer's that left the waitlist and waits for payment."""
    for booking in bookings.bookings_of_contact(turn.session, turn.contact):
        entry = waitlist.entry_of(turn.session, booking) if booking.status == "HELD" else None
        if entry is not None and entry.status == WaitlistStatus.ACCEPTED:
            return booking
    return None


# A Yes / No this long after "Is the issue resolved?" is about something else.
RESOLVED_QUESTION_LIFETIME = timedelta(hours=6)


def answer_resolved_question(turn: Turn, pending: str, resolved: bool) -> bool:
    """The guide's Yes / No to "Is the issue resolved?" after an unclear UPDATE. False when
    the question no longer applies (asked too long ago, or the incident was closed meanwhile)."""
    turn.set_slot("pending_question", None)
    _, incident_id, _, asked = [*pending.split(":"), "", ""][:4]
    if not asked.isdigit() or clock.now().timestamp() - int(asked) > (
        RESOLVED_QUESTION_LIFETIME.total_seconds()
    ):
        return False
    incident = turn.session.get(Incident, incident_id)
    if turn.staff is None or incident is None or incident.status == IncidentStatus.RESOLVED:
        return False
    if resolved:
        incidents.resolve_from_field(
            turn.session, incident, "resolved (the guide confirmed)", turn.actor
        )
        turn.say(texts.incident_resolved(incident))
    else:
        turn.say(texts.update_still_open(incident.trip))
    return True


def answer_tapped(turn: Turn, tapped: choices.AnswerTo, yes: bool) -> None:
    """A Yes-or-No button: the question it names, checked to be the sender's and still open."""
    session = turn.session
    if tapped.kind == choices.ASSIGNMENT:
        assignment = session.get(Assignment, tapped.object_id)
        if assignment is None or turn.staff is None or assignment.staff_id != turn.staff.id:
            turn.say(texts.choice_expired())
        elif assignment.status != AssignmentStatus.OFFERED:
            turn.say(texts.assignment_already_answered(assignment))
        else:
            trips.respond_to_assignment(session, assignment, yes, turn.actor)
            turn.say(
                texts.assignment_accepted(assignment.trip, emailed=bool(turn.staff.email))
                if yes
                else texts.assignment_declined(assignment.trip)
            )
        return
    if tapped.kind == choices.WAITLIST_OFFER:
        booking = session.get(Booking, tapped.object_id)
        if booking is None or booking.contact_id != turn.contact.id:
            turn.say(texts.choice_expired())
        elif booking.status == BookingStatus.OFFERED:
            answer_waitlist_offer(turn, booking, yes)
        elif yes and held_from_the_waitlist(turn) is booking:
            hold = inventory.active_hold(session, booking)
            assert hold is not None
            turn.say(texts.waitlist_offer_accepted(booking, hold.expires_at))
        elif not yes and booking.status == BookingStatus.WAITLISTED:
            turn.say(texts.waitlist_offer_declined(booking))
        else:
            turn.say(texts.waitlist_offer_gone(booking))
        return
    if tapped.kind == choices.QUOTE:
        lead = session.get(Lead, tapped.object_id)
        if lead is None or lead.contact_id != turn.contact.id:
            turn.say(texts.choice_expired())
        elif not yes:
            turn.say(texts.hold_not_now())
        elif lead.status == LeadStatus.QUOTED:
            place_hold_from_quote(turn, lead)
        elif (held := leads.booking_of_lead(session, lead)) is not None:
            turn.say(texts.seats_already_held(held))
        else:
            turn.say(texts.choice_expired())
        return
    if tapped.kind == choices.RESOLVED:
        pending = choices.answer_to(tapped.kind, tapped.object_id, *tapped.extra)
        incident = session.get(Incident, tapped.object_id)
        if incident is None or not trips.is_assigned(session, incident.trip, turn.staff):
            turn.say(texts.choice_expired())
        elif not answer_resolved_question(turn, pending, yes):
            turn.say(
                texts.incident_resolved(incident)
                if incident.status == IncidentStatus.RESOLVED
                else texts.choice_expired()
            )
        return
    if tapped.kind == choices.CANCEL:
        booking = bookings.find_booking(session, tapped.object_id)
        turn.set_slot("pending_question", None)
        if booking.contact_id != turn.contact.id:
            turn.say(texts.choice_expired())
        elif booking.status == BookingStatus.CANCELLED:
            turn.say(texts.booking_status(booking))
        elif yes:
            cancel_confirmed(turn, booking.reference)
        else:
            turn.say(texts.cancel_kept(booking))
        return
    turn.say(texts.choice_expired())


def answer_waitlist_offer(turn: Turn, booking: Booking, yes: bool) -> None:
    """CONFIRM / DECLINE on a live waitlist offer."""
    if not yes:
        waitlist.decline_offer(turn.session, booking, turn.actor)
        turn.say(texts.waitlist_offer_declined(booking))
        return
    waitlist.accept_offer(turn.session, booking, turn.actor)
    contacts.bind_conversation(
        turn.session, turn.conversation, ObjectType.BOOKING, booking.id, turn.actor
    )
    hold = inventory.active_hold(turn.session, booking)
    assert hold is not None
    turn.say(texts.waitlist_offer_accepted(booking, hold.expires_at))
    ask_for_email(turn)


class ActionAffirm(TmsAction):
    """Yes / Accept / CONFIRM."""

    NAME = "action_affirm"

    def handle(self, turn: Turn) -> None:
        if turn.answer_to is not None:
            answer_tapped(turn, turn.answer_to, True)
            return
        pending = turn.slot("pending_question") or ""
        if turn.staff is not None:
            offer = trips.pending_offer_for(turn.session, turn.staff)
            if offer is not None:
                trips.respond_to_assignment(turn.session, offer, True, turn.actor)
                turn.say(texts.assignment_accepted(offer.trip, emailed=bool(turn.staff.email)))
                return
        if pending.startswith("resolved:") and answer_resolved_question(turn, pending, True):
            return
        if pending.startswith("cancel:"):
            cancel_confirmed(turn, pending.split(":", 1)[1])
            turn.set_slot("pending_question", None)
            return
        booking = offered_booking(turn)
        if booking is not None:
            answer_waitlist_offer(turn, booking, True)
            return
        confirmed_elsewhere = held_from_the_waitlist(turn)
        if confirmed_elsewhere is not None:
            # CONFIRM after confirming on the book page: the same answer again.
            hold = inventory.active_hold(turn.session, confirmed_elsewhere)
            assert hold is not None
            turn.say(texts.waitlist_offer_accepted(confirmed_elsewhere, hold.expires_at))
            return
        if pending == "email":
            turn.say(texts.ask_email())
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
        if turn.answer_to is not None:
            answer_tapped(turn, turn.answer_to, False)
            return
        pending = turn.slot("pending_question") or ""
        if turn.staff is not None:
            offer = trips.pending_offer_for(turn.session, turn.staff)
            if offer is not None:
                trips.respond_to_assignment(turn.session, offer, False, turn.actor)
                turn.say(texts.assignment_declined(offer.trip))
                return
        if pending.startswith("resolved:") and answer_resolved_question(turn, pending, False):
            return
        if pending.startswith("cancel:"):
            booking = bookings.find_booking(turn.session, pending.split(":", 1)[1])
            turn.say(texts.cancel_kept(booking))
            turn.set_slot("pending_question", None)
            return
        booking = offered_booking(turn)
        if booking is not None:
            answer_waitlist_offer(turn, booking, False)
            return
        if pending == "email":
            turn.set_slot("pending_question", None)
            turn.say(texts.email_skipped())
            return
        turn.say(texts.no_problem())
