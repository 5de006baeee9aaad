"""Guide commands from the field: CHECKIN, ISSUE, UPDATE, CHECKOUT <ref> [text], and PAID
<booking ref> <amount> [currency] [CASH] for cash on arrival.

The sender must be staff with an accepted assignment on that trip. A reference that is not
theirs gets the same answer as one that does not exist (`assignments.trip_for_staff`), and a missing
or malformed one is answered with the right format.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from actions.common import TmsAction, Turn, wamid_of
from actions.handoff import PASSED_TO_TEAM, keep_for_staff
from actions.questions import ask_yes_no
from backend import clock, texts
from backend.domain import choices
from backend.domain.commands import parse_command, parse_paid_note
from backend.domain.errors import InvalidReference, NotFound
from backend.domain.money import minor_units
from backend.domain.severity import UpdateVerdict
from backend.models import Trip
from backend.services import assignments, attendance, cash, incidents, rates


class GuideCommand(TmsAction):
    COMMAND = ""

    def handle(self, turn: Turn) -> None:
        if (turn.slot("pending_question") or "").startswith("resolved:"):
            turn.set_slot("pending_question", None)  # a new command supersedes the question
        command = parse_command(turn.text)
        reference = (command.reference if command else None) or turn.reference_in_text()
        note = command.note if command else ""
        if turn.staff is None:
            # A customer whose message starts with "Issue ..." or "Update ...": not a
            # command of theirs; their words go to the team like any other request.
            keep_for_staff(turn, PASSED_TO_TEAM)
            turn.say(texts.passed_to_the_team())
            return
        mine = assignments.current_trips_of(turn.session, turn.staff)
        if not reference:
            turn.say(texts.guide_command_format(self.COMMAND) + texts.guide_trips(mine))
            return
        try:
            trip = assignments.trip_for_staff(turn.session, reference, turn.staff)
        except InvalidReference:
            turn.say(texts.guide_command_format(self.COMMAND) + texts.guide_trips(mine))
            return
        except NotFound:
            # Someone else's trip gets the same answer as no trip: nothing to probe.
            turn.say(texts.reference_not_found(reference) + texts.guide_trips(mine))
            return
        self.act(turn, trip, note)

    def act(self, turn: Turn, trip: Trip, note: str) -> None:  # pragma: no cover
        raise NotImplementedError


class ActionGuideCheckin(GuideCommand):
    """CHECKIN: trip IN_PROGRESS, attendance ON_TRIP, ops and every guest told."""

    NAME = "action_guide_checkin"
    COMMAND = "CHECKIN"

    def act(self, turn: Turn, trip: Trip, note: str) -> None:
        assert turn.staff is not None
        result = attendance.check_in(turn.session, trip, turn.staff, turn.actor)
        turn.say(texts.checked_in(trip, result.guests))


class ActionGuideIssue(GuideCommand):
    """ISSUE: an incident with its severity; ops alerted (urgent when HIGH or CRITICAL)."""

    NAME = "action_guide_issue"
    COMMAND = "ISSUE"

    def act(self, turn: Turn, trip: Trip, note: str) -> None:
        if not note:
            turn.say(texts.guide_command_format(self.COMMAND))
            return
        incident = incidents.report_incident(turn.session, trip, turn.staff, note, turn.actor)
        turn.say(texts.issue_logged(trip, incident))


class ActionGuideUpdate(GuideCommand):
    """UPDATE: added to the open incident; resolves it when the text says it is over."""

    NAME = "action_guide_update"
    COMMAND = "UPDATE"

    def act(self, turn: Turn, trip: Trip, note: str) -> None:
        if not note:
            turn.say(texts.guide_command_format(self.COMMAND))
            return
        incident, verdict = incidents.record_field_update(turn.session, trip, note, turn.actor)
        if incident is None:
            turn.say(texts.update_without_incident(trip))
        elif verdict == UpdateVerdict.RESOLVED:
            turn.say(texts.incident_resolved(incident))
        elif verdict == UpdateVerdict.NOT_RESOLVED:
            turn.say(texts.update_still_open(trip))
        else:
            # The words do not say: ask, and tell the guests nothing until the guide answers.
            at = str(int(clock.now().timestamp()))
            ask_yes_no(turn, texts.update_unclear(trip), choices.RESOLVED, incident.id, "at", at)


class ActionGuideCheckout(GuideCommand):
    """CHECKOUT: trip ENDED, attendance complete, payroll, bookings COMPLETED, feedback asked."""

    NAME = "action_guide_checkout"
    COMMAND = "CHECKOUT"

    def act(self, turn: Turn, trip: Trip, note: str) -> None:
        assert turn.staff is not None
        result = attendance.check_out(turn.session, trip, turn.staff, note, turn.actor)
        reply = texts.checked_out(result.payroll_of(turn.staff), trip.departure.product.currency)
        for incident in result.open_incidents:
            reply += texts.checkout_with_open_incident(trip, incident)
        turn.say(reply)


class ActionGuidePaid(TmsAction):
    """PAID <booking ref> <amount> [currency] [CASH]: cash received for a booking's balance,
    recorded by the trip's lead guide. The customer gets a receipt number in the chat, the
    guide a confirmation; the same message processed twice records once (its WhatsApp id is
    the idempotency key). Someone else's booking gets the same answer as an unknown one."""

    NAME = "action_guide_paid"

    def handle(self, turn: Turn) -> None:
        if turn.staff is None:
            # A customer writing "Paid EBC-2501234 ...": a person on the team answers.
            keep_for_staff(turn, PASSED_TO_TEAM)
            turn.say(texts.passed_to_the_team())
            return
        command = parse_command(turn.text)
        reference = (command.reference if command else None) or turn.reference_in_text()
        paid = parse_paid_note(command.note) if command else None
        mine = assignments.current_trips_of(turn.session, turn.staff)
        if not reference or paid is None:
            turn.say(texts.paid_command_format() + texts.guide_trips(mine))
            return
        try:
            booking = cash.find_booking_for(turn.session, reference, turn.staff, in_the_field=True)
            currency = paid.currency or booking.currency
            receipt = cash.record_cash(
                turn.session,
                reference,
                amount_minor=_minor_units(paid.amount, currency),
                currency=currency,
                actor=turn.actor,
                recorder=turn.staff,
                idempotency_key=f"wa:{_message_id(turn)}",
            )
        except InvalidReference:
            turn.say(texts.paid_command_format() + texts.guide_trips(mine))
            return
        except NotFound:
            turn.say(texts.reference_not_found(reference) + texts.guide_trips(mine))
            return
        except (cash.CashRefused, rates.NoRate) as refused:
            turn.say(str(refused))
            return
        if receipt.duplicate:
            turn.say(texts.cash_already_recorded(receipt.booking, receipt.receipt_number))
        elif receipt.receipt_number is None:
            turn.say(texts.cash_flagged(receipt.booking))
        else:
            turn.say(
                texts.cash_recorded(
                    receipt.booking, receipt.receipt_number, receipt.amount_minor, receipt.currency
                )
            )


def _minor_units(amount: str, currency: str) -> int:
    return minor_units(Decimal(amount), currency)


def _message_id(turn: Turn) -> str:
    """The inbound WhatsApp message's id (the same message processed twice has the same one);
    Rasa's own message id when there is none (the local chat), else a fresh one."""
    return str(
        wamid_of(turn.tracker) or turn.tracker.latest_message.get("message_id") or uuid.uuid4()
    )
