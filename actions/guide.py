"""Guide commands from the field: CHECKIN, ISSUE, UPDATE, CHECKOUT <ref> [text].

The sender must be staff with an accepted assignment on that trip; anyone else is refused
politely, and a missing or unknown reference is answered with the right format.
"""

from __future__ import annotations

import re

from actions.common import TmsAction, Turn
from backend import texts
from backend.domain.errors import InvalidReference, NotFound
from backend.models import Trip
from backend.services import incidents, trips
from backend.services.trips import NotAssigned

COMMAND_RE = re.compile(
    r"^\s*(CHECKIN|CHECK-IN|CHECK IN|ISSUE|UPDATE|CHECKOUT|CHECK-OUT|CHECK OUT)\b[\s:,-]*"
    r"(?:([A-Za-z]{2,5}-?\d{7,})\b)?[\s:,-]*(.*)$",
    re.IGNORECASE | re.DOTALL,
)


class GuideCommand(TmsAction):
    COMMAND = ""

    def handle(self, turn: Turn) -> None:
        match = COMMAND_RE.match(turn.text or "")
        reference = (match.group(2) if match else None) or turn.reference_in_text()
        note = (match.group(3) if match else "").strip()
        if turn.staff is None:
            turn.say(texts.guide_command_not_staff())
            return
        if not reference:
            turn.say(texts.guide_command_format(self.COMMAND))
            return
        try:
            trip = trips.find_trip(turn.session, reference)
        except InvalidReference:
            turn.say(texts.guide_command_format(self.COMMAND))
            return
        except NotFound:
            turn.say(texts.reference_not_found(reference))
            return
        try:
            trips.accepted_assignment(turn.session, trip, turn.staff)
        except NotAssigned:
            turn.say(texts.guide_not_assigned(self.COMMAND, reference.upper()))
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
        result = trips.check_in(turn.session, trip, turn.staff, turn.actor)
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
        incident, resolved = incidents.record_field_update(turn.session, trip, note, turn.actor)
        if incident is None:
            turn.say(texts.update_without_incident(trip))
        elif resolved:
            turn.say(texts.incident_resolved(incident))
        else:
            turn.say(texts.update_logged(trip))


class ActionGuideCheckout(GuideCommand):
    """CHECKOUT: trip ENDED, attendance complete, payroll, bookings COMPLETED, feedback asked."""

    NAME = "action_guide_checkout"
    COMMAND = "CHECKOUT"

    def act(self, turn: Turn, trip: Trip, note: str) -> None:
        assert turn.staff is not None
        result = trips.check_out(turn.session, trip, turn.staff, note, turn.actor)
        turn.say(texts.checked_out(result.payroll_of(turn.staff), trip.departure.product.currency))
