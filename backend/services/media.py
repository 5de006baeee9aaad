"""Photos, voice notes, documents and locations: kept from everyone, filed where they belong.

A guide's media goes onto the open incident of their trip (the trip a caption names, else the
one whose issue is open, else the one under way); a location moves the trip's last known
position (and the incident's), and the first one after CHECKIN records where the group set
off. A customer's media is kept on their conversation for staff. The file itself is fetched
by the media fetcher (backend/whatsapp/media.py): this module only writes the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import Actor
from backend.domain.commands import reference_in
from backend.domain.enums import ObjectType, Source, TripStatus
from backend.domain.errors import DomainError
from backend.models import Contact, InboundMessage, Incident, MediaAttachment, Staff, Trip
from backend.services import assignments, incidents, timeline, trips
from backend.services import staff as staff_service

FILE_KINDS = {"image", "audio", "video", "document", "sticker"}
LOCATION = "location"
PENDING, STORED, FAILED, NO_FILE = "PENDING", "STORED", "FAILED", "NO_FILE"
# A traveller's photo: its bytes went sealed into the traveller file, never to the media folder.
SEALED = "SEALED"


@dataclass(frozen=True)
class Filed:
    attachment: MediaAttachment
    trip: Trip | None
    incident: Incident | None
    started_here: bool = False  # a location that recorded where the trip set off


def receive(session: Session, row: InboundMessage, contact: Contact) -> Filed | None:
    """Keep what a media or location message carries; None for other messages."""
    if row.message_type not in FILE_KINDS and row.message_type != LOCATION:
        return None
    existing = session.scalar(
        select(MediaAttachment).where(MediaAttachment.inbound_message_id == row.id)
    )
    content: dict[str, Any] = (row.payload or {}).get(row.message_type) or {}
    if not isinstance(content, dict):
        content = {}
    caption = _text(content.get("caption"), 2000)
    staff = staff_service.by_phone(session, contact.phone)
    trip = _trip_of(session, staff, caption) if staff else None
    incident = incidents.open_incident(session, trip) if trip else None
    if existing is not None:  # processed before (a retry): file it the same way again
        return Filed(existing, trip, incident)
    attachment = MediaAttachment(
        inbound_message_id=row.id,
        from_phone=contact.address,
        kind=row.message_type,
        caption=caption,
        staff_id=staff.id if staff else None,
        trip_id=trip.id if trip else None,
        incident_id=incident.id if incident else None,
        attempts=0,
    )
    started_here = False
    if row.message_type == LOCATION:
        attachment.status = NO_FILE
        attachment.latitude = _coordinate(content.get("latitude"), 90)
        attachment.longitude = _coordinate(content.get("longitude"), 180)
        attachment.place = _text(
            ", ".join(str(p) for p in (content.get("name"), content.get("address")) if p), 300
        )
        if (
            trip is not None
            and attachment.latitude is not None
            and attachment.longitude is not None
        ):
            started_here = _move(trip, incident, attachment.latitude, attachment.longitude)
    else:
        media_id = _text(content.get("id"), 120)
        attachment.media_id = media_id
        attachment.mime_type = _text(content.get("mime_type"), 120)
        attachment.filename = _text(content.get("filename"), 240)
        attachment.sha256 = None  # set from the bytes once fetched (Meta's own is checked then)
        attachment.status = PENDING if media_id else FAILED
        attachment.last_error = None if media_id else "the message carried no media id"
    session.add(attachment)
    session.flush()
    _log(session, attachment, trip, incident, contact, started_here)
    return Filed(attachment, trip, incident, started_here)


def _trip_of(session: Session, staff: Staff, caption: str | None) -> Trip | None:
    """The trip a guide's media is about: the one the caption names (if theirs), else the one
    with the latest open issue, else the one under way."""
    reference = reference_in(caption)
    if reference:
        try:
            named = trips.find_trip(session, reference)
        except DomainError:
            named = None
        if named is not None and assignments.is_assigned(session, named, staff):
            return named
    current = assignments.current_trips_of(session, staff)
    with_issue = [(t, incidents.open_incident(session, t)) for t in current]
    open_ones = [(t, i) for t, i in with_issue if i is not None]
    if open_ones:
        return max(open_ones, key=lambda pair: pair[1].reported_at)[0]
    under_way = [t for t in current if t.status == TripStatus.IN_PROGRESS]
    return under_way[0] if under_way else None


def _move(trip: Trip, incident: Incident | None, latitude: float, longitude: float) -> bool:
    """The trip's (and incident's) last known position; the first after CHECKIN is where the
    group set off. Returns whether it was that first one."""
    trip.last_latitude, trip.last_longitude = latitude, longitude
    trip.last_position_at = clock.now()
    if incident is not None:
        incident.latitude, incident.longitude = latitude, longitude
    if trip.status == TripStatus.IN_PROGRESS and trip.start_latitude is None:
        trip.start_latitude, trip.start_longitude = latitude, longitude
        return True
    return False


def _log(
    session: Session,
    attachment: MediaAttachment,
    trip: Trip | None,
    incident: Incident | None,
    contact: Contact,
    started_here: bool,
) -> None:
    if incident is not None:
        where = (ObjectType.INCIDENT, incident.id, "tms.incident.media.attached")
    elif trip is not None:
        where = (ObjectType.TRIP, trip.id, "tms.trip.media.attached")
    else:
        where = (
            ObjectType.CONTACT,
            contact.id,
            "tms.contact.media.received",
        )
    content: dict[str, Any] = {"attachment": attachment.id, "kind": attachment.kind}
    if attachment.caption:
        content["caption"] = attachment.caption[:300]
    if attachment.latitude is not None:
        content |= {"latitude": attachment.latitude, "longitude": attachment.longitude}
        if started_here:
            content["start_position"] = True
    timeline.record(
        session,
        object_type=where[0],
        object_id=where[1],
        event_type="MEDIA",
        action=where[2],
        actor=Actor(Source.WHATSAPP, phone=contact.phone),
        content=content,
    )


def attachments_of_incident(session: Session, incident: Incident) -> list[MediaAttachment]:
    return list(
        session.scalars(
            select(MediaAttachment)
            .where(MediaAttachment.incident_id == incident.id)
            .order_by(MediaAttachment.created_at)
        )
    )


def _text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.replace("\x00", "").strip()[:limit]


def _coordinate(value: Any, bound: float) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if -bound <= number <= bound else None
