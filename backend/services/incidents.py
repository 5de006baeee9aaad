"""Incidents reported from the field: severity by rule, acknowledgement, resolution."""

from __future__ import annotations

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain.actor import Actor
from backend.domain.enums import IncidentStatus, ObjectType, Role, Severity, TimerKind
from backend.domain.errors import DomainError, NotFound
from backend.domain.severity import classify_severity, says_resolved
from backend.domain.states import INCIDENT
from backend.models import Booking, Incident, Staff, Trip
from backend.services import notifications, timeline, timers, trips
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
    if notify:
        urgent = incident.severity in (Severity.HIGH, Severity.CRITICAL)
        notifications.to_role(
            session,
            Role.OPS,
            texts.ops_incident_alert(trip, incident, reporter),
            purpose="ops_urgent_alert" if urgent else "ops_alert",
            object_type=ObjectType.INCIDENT,
            object_id=incident.id,
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


def guide_update(session: Session, incident: Incident, text: str, actor: Actor) -> bool:
    """UPDATE from the field: added to the incident; resolves it when the text says so.

    Returns whether the incident is now resolved.
    """
    timeline.record(
        session,
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
        event_type="UPDATE",
        action="tms.incident.field_update",
        actor=actor,
        content={"text": text},
    )
    if says_resolved(text):
        update_incident(session, incident, actor, status=IncidentStatus.RESOLVED, resolution=text)
        notifications.to_role(
            session,
            Role.OPS,
            texts.ops_incident_resolved(incident.trip, incident),
            purpose="ops_alert",
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
        return True
    return False


def get_incident(session: Session, incident_id: str) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"No incident {incident_id}")
    return incident


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
) -> tuple[Incident | None, bool]:
    """UPDATE <ref> <text>: onto the trip's open incident (resolving it when the text says so),
    or onto the trip's timeline when nothing is open. Returns (incident, resolved now)."""
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
        return None, False
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
        guide = guide or trips.lead_guide(session, trip)
        if guide is not None:
            sent["guide"] = len(
                notifications.to_staff(
                    session,
                    guide,
                    texts.guide_ops_update(message_to_guide),
                    purpose="staff_alert",
                    object_type=ObjectType.INCIDENT,
                    object_id=incident.id,
                )
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
        _record_guest_notice(session, incident, actor, [b.id for b in guests])
    for booking_id, text in (message_to_bookings or {}).items():
        booking = session.get(Booking, booking_id)
        if booking is None or booking.departure_id != trip.departure_id:
            raise DomainError(f"Booking {booking_id} is not on trip {trip.reference}")
        sent["bookings"] += len(
            notifications.to_guests(
                session, [booking], texts.affected_guest_update(text), purpose="customer_update"
            )
        )
    return sent


def _record_guest_notice(
    session: Session, incident: Incident, actor: Actor, booking_ids: list[str]
) -> None:
    timeline.record(
        session,
        object_type=ObjectType.INCIDENT,
        object_id=incident.id,
        event_type="GUESTS_NOTIFIED",
        action="tms.incident.guests_notified",
        actor=actor,
        content={"bookings": booking_ids},
    )


def guests_were_notified(session: Session, incident: Incident) -> bool:
    return any(
        e.action == "tms.incident.guests_notified"
        for e in timeline.for_object(session, "INCIDENT", incident.id)
    )


def escalate_unacknowledged(session: Session, incident: Incident, actor: Actor) -> str:
    """Nobody acknowledged the incident in time: admins and operations get an urgent alert."""
    if incident.status == IncidentStatus.RESOLVED or incident.acknowledged_at is not None:
        return "nothing to do: acknowledged or resolved"
    if not timers.record_notice(session, TimerKind.INCIDENT_ESCALATION, incident.id):
        return "nothing to do: already escalated"
    minutes = get_settings().incident_ack_minutes
    body = texts.incident_escalation(incident, minutes)
    for role in (Role.ADMIN, Role.OPS):
        notifications.to_role(
            session,
            role,
            body,
            purpose="ops_urgent_alert",
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
