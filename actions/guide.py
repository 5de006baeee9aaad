"""Guide commands from the field: CHECKIN, ISSUE, UPDATE, CHECKOUT <ref> [text].

The sender must be staff with an accepted assignment on that trip. A reference that is not
theirs gets the same answer as one that does not exist (`assignments.trip_for_staff`), and a missing
or malformed one is answered with the right format.
"""

from __future__ import annotations

from actions.common import TmsAction, Turn
from actions.handoff import keep_for_staff
from actions.questions import ask_yes_no
from backend import clock, texts
from backend.domain import choices
from backend.domain.commands import parse_command
from backend.domain.errors import InvalidReference, NotFound
from backend.domain.severity import UpdateVerdict
from backend.models import Trip
from backend.services import assignments, attendance, incidents
from backend.services.routing import StaffEvent


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
            keep_for_staff(turn, StaffEvent.PASSED_TO_TEAM)
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
