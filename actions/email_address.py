"""The customer gives their e-mail address (asked for when a booking is held, or offered in
the confirmation): stored on the contact, and any confirmation it was missing is sent."""

from __future__ import annotations

from actions.common import TmsAction, Turn
from actions.context import pending_question
from backend import texts
from backend.domain import choices
from backend.domain.email_addresses import email_in
from backend.domain.enums import BookingStatus
from backend.domain.errors import DomainError
from backend.services import bookings, contacts, emails


class ActionSaveEmail(TmsAction):
    NAME = "action_save_email"

    def handle(self, turn: Turn) -> None:
        raw = next(turn.tracker.get_latest_entity_values("email"), None)
        found = email_in(raw or turn.text)
        if found is None:
            turn.say(texts.email_not_understood())
            return
        try:
            address = contacts.set_email(turn.session, turn.contact, found.address, turn.actor)
        except DomainError:
            turn.say(texts.email_not_understood())
            return
        pending = pending_question(turn)
        if pending is not None and pending.kind == choices.EMAIL:
            turn.set_slot("pending_question", None)
        sent = []
        for booking in bookings.bookings_of_contact(turn.session, turn.contact):
            if booking.status == BookingStatus.CONFIRMED and emails.booking_confirmation(
                turn.session, booking, turn.actor
            ):
                sent.append(booking.reference)
        turn.say(texts.email_saved(address, sent))
