"""Incidents reported from the field: severity by rule, acknowledgement, resolution."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain.actor import Actor
from backend.domain.enums import IncidentStatus, ObjectType, Severity, TimerKind
from backend.domain.errors import DomainError
from backend.domain.severity import UpdateVerdict, assess_update, classify_severity
from backend.domain.states import INCIDENT
from backend.models import Booking, Incident, Staff, Trip
from backend.services import (
    assignments,
    incident_rescue,
    notifications,
    routing,
    timeline,
    timers,
    trips,
)
from backend.services.state import change_state, log_created

_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.HIGH: 1, Severity.MEDIUM: 2, Severity.LOW: 3}


def report_incident(
    session: Session,
    trip: Trip,
    reporter: Staff | None,
    text: str,
    actor: Actor,
    *,
    notify: bool = True,
) -> Incident:
    """ISSUE: an incident with its severity by rule; operations alerted (urgent when HIGH+)."""
    incident = Incident(
        trip_id=trip.id,
        reported_by_staff_id=reporter.id if reporter else None,
        description=text.strip(),
        severity=str(classify_severity(text)),
        status=IncidentStatus.OPEN,
        reported_at=clock.now(),
    )
    session.add(incident)
    log_created(
        session,
        incident,
        ObjectType.INCIDENT,
        actor,
        trip=trip.reference,
        severity=incident.severity,
        text=incident.description,
    )
    timeline.record(
        session,
        object_type=ObjectType.TRIP,
        object_id=trip.id,
        event_type="INCIDENT",
        action="tms.trip.incident.reported",
        actor=actor,
        content={
            "incidentId": incident.id,
            "severity": incident.severity,
            "text": incident.description,
        },
    )
    incident_rescue.open_if_due(session, incident, actor)
    if notify:
        routing.alert(
            session,
            "tms.trip.incident.reported",
            texts.ops_incident_alert(trip, incident, reporter),
            object_type=ObjectType.INCIDENT,
            object_id=incident.id,
            urgent=incident.severity in (Severity.HIGH, Severity.CRITICAL),
        )
    return incident


def open_incident(session: Session, trip: Trip) -> Incident | None:
    """The trip's most recent incident that is not resolved."""
    return session.scalar(
        select(Incident)
        .where(Incident.trip_id == trip.id, Incident.status != IncidentStatus.RESOLVED)
        .order_by(Incident.reported_at.desc())
        .limit(1)
    )


def acknowledge(session: Session, incident: Incident, actor: Actor) -> None:
    if incident.acknowledged_at is None:
        incident.acknowledged_at = clock.now()
        timers.touch(session, ObjectType.INCIDENT, incident.id)
        timeline.record(
            session,
            object_type=ObjectType.INCIDENT,
            object_id=incident.id,
            event_type="ACKNOWLEDGED",
            action="tms.incident.acknowledged",
            actor=actor,
        )


def update_incident(
    session: Session,
    incident: Incident,
    actor: Actor,
    *,
    status: IncidentStatus | None = None,
    resolution: str | None = None,
    eta: str | None = None,
    note: str | None = None,
) -> None:
    """Staff's update: any update acknowledges; status moves by the state machine."""
    acknowledge(session, incident, actor)
    if resolution is not None:
        incident.resolution = resolution
    if eta is not None:
        incident.eta = eta
    if note or resolution or eta:
        timeline.record(
            session,
            object_type=ObjectType.INCIDENT,
            object_id=incident.id,
            event_type="UPDATE",
            action="tms.incident.updated",
            actor=actor,
            content={
                k: v for k, v in {"note": note, "resolution": resolution, "eta": eta}.items() if v
            },
        )
    if status is not None and status != incident.status:
        change_state(session, incident, INCIDENT, status, actor)
        if status == IncidentStatus.RESOLVED:
            incident.resolved_at = clock.now()


def guide_update(session: Session, incident: Incident, text: str, actor: Actor) -> UpdateVerdict:
    """UPDATE from the field: added to the incident, with what the words say about it.

    Only a clear "it is over" resolves it (and tells operations and the guests); "still going"
    is noted; anything unclear is noted and nothing is sent to guests until the guide answers
    the question the caller asks (see `resolve_from_field`)."""
    verdict = assess_update(text)
    timeline.record(
        session,
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
        event_type="UPDATE",
        action="tms.incident.field_update",
        actor=actor,
        content={"text": text, "verdict": str(verdict)},
    )
    incident_rescue.open_if_due(session, incident, actor)
    if verdict == UpdateVerdict.RESOLVED:
        resolve_from_field(session, incident, text, actor)
    return verdict


def resolve_from_field(session: Session, incident: Incident, text: str, actor: Actor) -> None:
    """The guide says it is over: RESOLVED, operations told, and the guests if they were told
    about the problem."""
    update_incident(session, incident, actor, status=IncidentStatus.RESOLVED, resolution=text)
    routing.alert(
        session,
        "tms.incident.status.resolved",
        texts.ops_incident_resolved(incident.trip, incident),
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
    )
    if guests_were_notified(session, incident):
        notifications.to_guests(
            session,
            trips.guests_of(session, incident.trip),
            texts.guests_all_set(),
            purpose="customer_update",
        )


def list_incidents(session: Session) -> list[Incident]:
    """Open first, then by severity (critical first), newest first."""
    severity_rank = case(_SEVERITY_ORDER, value=Incident.severity, else_=9)
    open_rank = case((Incident.status == IncidentStatus.RESOLVED, 1), else_=0)
    return list(
        session.scalars(
            select(Incident).order_by(open_rank, severity_rank, Incident.reported_at.desc())
        )
    )


def record_field_update(
    session: Session, trip: Trip, text: str, actor: Actor
) -> tuple[Incident | None, UpdateVerdict]:
    """UPDATE <ref> <text>: onto the trip's open incident (resolving it only when the text
    clearly says so), or onto the trip's timeline when nothing is open. Returns (incident,
    what the words say)."""
    incident = open_incident(session, trip)
    if incident is None:
        timeline.record(
            session,
            object_type=ObjectType.TRIP,
            object_id=trip.id,
            event_type="UPDATE",
            action="tms.trip.field_update",
            actor=actor,
            content={"text": text},
        )
        return None, UpdateVerdict.UNCLEAR
    return incident, guide_update(session, incident, text, actor)


def ops_update(
    session: Session,
    incident: Incident,
    actor: Actor,
    *,
    status: IncidentStatus | None = None,
    resolution: str | None = None,
    eta: str | None = None,
    message_to_guide: str | None = None,
    message_to_guests: str | None = None,
    message_to_bookings: dict[str, str] | None = None,
) -> dict[str, int]:
    """Operations update an incident (workflow 3 step 2-4, workflow 1 step 8): the incident
    moves, and the guide, all guests, or particular guests are told on WhatsApp."""
    update_incident(
        session,
        incident,
        actor,
        status=status,
        resolution=resolution,
        eta=eta,
        note=message_to_guide or message_to_guests,
    )
    sent = {"guide": 0, "guests": 0, "bookings": 0}
    trip = incident.trip
    if message_to_guide:
        guide = (
            session.get(Staff, incident.reported_by_staff_id)
            if incident.reported_by_staff_id
            else None
        )
        guide = guide or assignments.lead_guide(session, trip)
        if guide is not None:
            sent["guide"] = len(
                routing.alert(
                    session,
                    "tms.incident.updated",
                    texts.guide_ops_update(message_to_guide),
                    object_type=ObjectType.INCIDENT,
                    object_id=incident.id,
                    member=guide,
                ).rows
            )
    if message_to_guests:
        guests = trips.guests_of(session, trip)
        sent["guests"] = len(
            notifications.to_guests(
                session,
                guests,
                texts.guests_travel_update(trip, message_to_guests),
                purpose="customer_update",
            )
        )
        _record_guest_notice(session, incident, actor, [b.id for b in guests], message_to_guests)
    for booking_id, text in (message_to_bookings or {}).items():
        booking = session.get(Booking, booking_id)
        if booking is None or booking.departure_id != trip.departure_id:
            raise DomainError(f"Booking {booking_id} is not on trip {trip.reference}")
        sent["bookings"] += len(
            notifications.to_guests(
                session, [booking], texts.affected_guest_update(text), purpose="customer_update"
            )
        )
        _record_guest_notice(session, incident, actor, [booking.id], text, everyone=False)
    return sent


GUEST_NOTICE_ACTIONS = ("tms.incident.guests_notified", "tms.incident.guest_notified")


def _record_guest_notice(
    session: Session,
    incident: Incident,
    actor: Actor,
    booking_ids: list[str],
    text: str,
    *,
    everyone: bool = True,
) -> None:
    """On the incident's timeline: who was told what (the track page shows it to them).
    `everyone`: all the trip's guests (they hear "All set" when it is resolved)."""
    timeline.record(
        session,
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
        event_type="GUESTS_NOTIFIED" if everyone else "GUEST_NOTIFIED",
        action=GUEST_NOTICE_ACTIONS[0] if everyone else GUEST_NOTICE_ACTIONS[1],
        actor=actor,
        content={"bookings": booking_ids, "text": text.strip()},
    )


def guests_were_notified(session: Session, incident: Incident) -> bool:
    return any(
        e.action == GUEST_NOTICE_ACTIONS[0]
        for e in timeline.for_object(session, "INCIDENT", incident.id)
    )


def notice_for(session: Session, incident: Incident, booking: Booking) -> str | None:
    """The latest notice the booking's guests got about this incident (all guests, or them)."""
    for event in reversed(timeline.for_object(session, ObjectType.INCIDENT, incident.id)):
        content = event.content or {}
        if event.action in GUEST_NOTICE_ACTIONS and booking.id in (content.get("bookings") or []):
            return content.get("text")
    return None


def escalate_unacknowledged(session: Session, incident: Incident, actor: Actor) -> str:
    """Nobody acknowledged the incident in time: admins and operations get an urgent alert."""
    if incident.status == IncidentStatus.RESOLVED or incident.acknowledged_at is not None:
        return "nothing to do: acknowledged or resolved"
    if not timers.record_notice(session, TimerKind.INCIDENT_ESCALATION, incident.id):
        return "nothing to do: already escalated"
    minutes = get_settings().incident_ack_minutes
    routing.alert(
        session,
        "tms.incident.escalated",
        texts.incident_escalation(incident, minutes),
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
    )
    timeline.record(
        session,
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
        event_type="ESCALATED",
        action="tms.incident.escalated",
        actor=actor,
        content={"minutes": minutes},
    )
    return "escalated to admins and operations"
