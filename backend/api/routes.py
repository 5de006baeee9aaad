"""The admin API's routes. Every handler runs in one transaction as an authenticated staff
member (see `endpoint`); the business work is a service call."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import texts
from backend.api import views
from backend.api.common import ApiError, endpoint, get_or_404, parse_body, staff_actor
from backend.domain.enums import AssignmentRole, IncidentStatus, ObjectType, Role
from backend.models import (
    Assignment,
    Booking,
    Conversation,
    Departure,
    Incident,
    Lead,
    OutboundMessage,
    Staff,
    TimelineEvent,
)
from backend.services import (
    bookings,
    catalog,
    contacts,
    incidents,
    leads,
    notifications,
    timeline,
    trips,
)

api = Blueprint("admin_api", url_prefix="/api")


class QuoteBody(BaseModel):
    departure_id: str
    party_size: int = Field(ge=1, le=50)
    price_per_person_minor: int | None = Field(default=None, ge=0)
    discount_minor: int | None = Field(default=None, ge=0)


class AssignBody(BaseModel):
    staff_id: str
    role: AssignmentRole
    compensation_minor: int = Field(ge=0)
    currency: str = Field(default="USD", min_length=3, max_length=3)


class CancelBody(BaseModel):
    reason: str = Field(default="cancelled by staff", max_length=500)
    notify_customer: bool = True


class IncidentUpdateBody(BaseModel):
    status: IncidentStatus | None = None
    resolution: str | None = Field(default=None, max_length=2000)
    eta: str | None = Field(default=None, max_length=60)
    message_to_guide: str | None = Field(default=None, max_length=3000)
    message_to_guests: str | None = Field(default=None, max_length=3000)
    message_to_bookings: dict[str, str] | None = None


class MessageBody(BaseModel):
    text: str = Field(min_length=1, max_length=20000)


class HandoffBody(BaseModel):
    paused: bool


# -- leads (SALES) ------------------------------------------------------------------------------
@api.get("/leads")
@endpoint(Role.SALES)
def list_leads(request: Request, session: Session, member: Staff) -> Any:
    assignee = request.args.get("assignee")
    if assignee == "me":
        assignee = member.id
    return {
        "leads": [
            views.lead(x)
            for x in leads.list_leads(
                session, status=request.args.get("status"), assignee_id=assignee
            )
        ]
    }


@api.get("/leads/<lead_id:str>")
@endpoint(Role.SALES)
def lead_detail(request: Request, session: Session, member: Staff, lead_id: str) -> Any:
    lead = get_or_404(session, Lead, lead_id, "lead")
    conversation = contacts.active_conversation(session, lead.contact)
    messages = timeline.for_conversation(session, conversation.id) if conversation else []
    return {
        "lead": views.lead(lead),
        "conversationId": conversation.id if conversation else None,
        "messages": views.events([e for e in messages if e.event_type == "MESSAGE"]),
        "timeline": views.events(timeline.for_object(session, ObjectType.LEAD, lead.id)),
    }


@api.post("/leads/<lead_id:str>/quote")
@endpoint(Role.SALES)
def quote(request: Request, session: Session, member: Staff, lead_id: str) -> Any:
    body = parse_body(request, QuoteBody)
    lead = get_or_404(session, Lead, lead_id, "lead")
    departure = get_or_404(session, Departure, body.departure_id, "departure")
    result = leads.send_quote(
        session,
        lead,
        departure,
        body.party_size,
        staff_actor(member),
        price_per_person_minor=body.price_per_person_minor,
        discount_minor=body.discount_minor,
    )
    return {
        "lead": views.lead(lead),
        "quote": {
            "total": views.money(result.total.minor, result.total.currency),
            "deposit": views.money(result.deposit.minor, result.deposit.currency),
            "discount": views.money(result.discount.minor, result.discount.currency),
        },
    }


@api.post("/leads/<lead_id:str>/hold")
@endpoint(Role.SALES)
def hold(request: Request, session: Session, member: Staff, lead_id: str) -> Any:
    lead = get_or_404(session, Lead, lead_id, "lead")
    booking = leads.hold_and_send(session, lead, staff_actor(member))
    return {"lead": views.lead(lead), "booking": views.booking(session, booking)}


# -- departures and assignments (OPS) -----------------------------------------------------------
@api.get("/departures")
@endpoint(Role.OPS, Role.SALES)
def list_departures(request: Request, session: Session, member: Staff) -> Any:
    return {"departures": [views.departure(session, d) for d in catalog.all_departures(session)]}


@api.get("/departures/<departure_id:str>")
@endpoint(Role.OPS, Role.SALES)
def departure_detail(request: Request, session: Session, member: Staff, departure_id: str) -> Any:
    departure = get_or_404(session, Departure, departure_id, "departure")
    found = list(
        session.scalars(
            select(Booking).where(Booking.departure_id == departure.id).order_by(Booking.created_at)
        )
    )
    trip = views.trip_summary(session, departure)
    assignments = (
        list(session.scalars(select(Assignment).where(Assignment.trip_id == trip["id"])))
        if trip
        else []
    )
    manifest = [
        {
            "booking": b.reference,
            "name": b.contact.display_name,
            "phone": b.contact.phone,
            "people": b.party_size,
        }
        for b in found
        if b.status in ("CONFIRMED", "COMPLETED")
    ]
    return {
        "departure": views.departure(session, departure),
        "trip": trip,
        "bookings": [views.booking(session, b) for b in found],
        "manifest": manifest,
        "assignments": [views.assignment(a) for a in assignments],
    }


@api.post("/departures/<departure_id:str>/assignments")
@endpoint(Role.OPS)
def assign(request: Request, session: Session, member: Staff, departure_id: str) -> Any:
    body = parse_body(request, AssignBody)
    departure = get_or_404(session, Departure, departure_id, "departure")
    worker = get_or_404(session, Staff, body.staff_id, "staff member")
    trip = trips.ensure_trip(session, departure, staff_actor(member))
    assignment = trips.offer_assignment(
        session,
        trip,
        worker,
        body.role,
        body.compensation_minor,
        staff_actor(member),
        currency=body.currency.upper(),
    )
    return {"assignment": views.assignment(assignment), "trip": trip.reference}


# -- bookings -----------------------------------------------------------------------------------
@api.get("/bookings/<booking_id:str>")
@endpoint(Role.SALES, Role.OPS)
def booking_detail(request: Request, session: Session, member: Staff, booking_id: str) -> Any:
    booking = _booking(session, booking_id)
    return {
        "booking": views.booking(session, booking),
        "timeline": views.events(timeline.for_object(session, ObjectType.BOOKING, booking.id)),
    }


@api.post("/bookings/<booking_id:str>/cancel")
@endpoint(Role.SALES, Role.OPS)
def cancel(request: Request, session: Session, member: Staff, booking_id: str) -> Any:
    body = parse_body(request, CancelBody)
    booking = _booking(session, booking_id)
    freed = bookings.cancel_booking(session, booking, staff_actor(member), reason=body.reason)
    if body.notify_customer:
        notifications.to_contact(
            session,
            booking.contact,
            texts.cancelled(booking),
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    return {"booking": views.booking(session, booking), "seatsFreed": freed}


def _booking(session: Session, key: str) -> Booking:
    """By id or by reference (EBC-2501234 in any spelling)."""
    booking = session.get(Booking, key)
    return booking if booking is not None else bookings.find_booking(session, key)


# -- incidents (OPS) ----------------------------------------------------------------------------
@api.get("/incidents")
@endpoint(Role.OPS)
def list_incidents(request: Request, session: Session, member: Staff) -> Any:
    return {"incidents": [views.incident(i) for i in incidents.list_incidents(session)]}


@api.post("/incidents/<incident_id:str>")
@endpoint(Role.OPS)
def update_incident(request: Request, session: Session, member: Staff, incident_id: str) -> Any:
    body = parse_body(request, IncidentUpdateBody)
    incident = get_or_404(session, Incident, incident_id, "incident")
    sent = incidents.ops_update(
        session,
        incident,
        staff_actor(member),
        status=body.status,
        resolution=body.resolution,
        eta=body.eta,
        message_to_guide=body.message_to_guide,
        message_to_guests=body.message_to_guests,
        message_to_bookings=body.message_to_bookings,
    )
    return {"incident": views.incident(incident), "messagesQueued": sent}


# -- conversations (SALES) ----------------------------------------------------------------------
@api.post("/conversations/<conversation_id:str>/messages")
@endpoint(Role.SALES, Role.OPS)
def send_message(request: Request, session: Session, member: Staff, conversation_id: str) -> Any:
    body = parse_body(request, MessageBody)
    conversation = get_or_404(session, Conversation, conversation_id, "conversation")
    rows = notifications.to_contact(
        session,
        conversation.contact,
        body.text,
        purpose="staff_message",
        object_type=conversation.object_type,
        object_id=conversation.object_id,
    )
    for row in rows:
        row.conversation_id = conversation.id
    return {"queued": [views.outbound(r) for r in rows]}


@api.post("/conversations/<conversation_id:str>/handoff")
@endpoint(Role.SALES, Role.OPS)
def handoff(request: Request, session: Session, member: Staff, conversation_id: str) -> Any:
    body = parse_body(request, HandoffBody)
    conversation = get_or_404(session, Conversation, conversation_id, "conversation")
    contacts.set_bot_paused(session, conversation, body.paused, staff_actor(member))
    return {"conversationId": conversation.id, "botPaused": conversation.bot_paused}


# -- timeline, outbox, staff --------------------------------------------------------------------
@api.get("/timeline")
@endpoint()
def read_timeline(request: Request, session: Session, member: Staff) -> Any:
    args = {key: request.args.get(key) for key in request.args}
    if args.get("object_type") and args.get("object_id"):
        found = timeline.for_object(session, args["object_type"].upper(), args["object_id"])
    elif args.get("conversation_id"):
        found = timeline.for_conversation(session, args["conversation_id"])
    elif args.get("start") and args.get("end"):
        try:
            start, end = datetime.fromisoformat(args["start"]), datetime.fromisoformat(args["end"])
        except ValueError as exc:
            raise ApiError(
                422,
                "start and end must be ISO 8601 times",
                fields={"start": "invalid", "end": "invalid"},
            ) from exc
        if start.tzinfo is None or end.tzinfo is None:
            raise ApiError(422, "start and end need a timezone", fields={"start": "no timezone"})
        found = timeline.between(session, start, end, object_type=args.get("object_type"))
    else:
        raise ApiError(
            422,
            "give object_type and object_id, or conversation_id, or start and end",
            fields={"object_id": "missing"},
        )
    return {"events": views.events(found)}


@api.get("/outbox")
@endpoint(Role.SALES, Role.OPS)
def outbox_list(request: Request, session: Session, member: Staff) -> Any:
    status: Literal["queued", "sent", "delivered", "read", "failed"] | None = request.args.get(
        "status"
    )  # type: ignore[assignment]
    query = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(200)
    if status:
        query = query.where(OutboundMessage.status == status)
    return {"messages": [views.outbound(r) for r in session.scalars(query)]}


@api.get("/staff")
@endpoint()
def list_staff(request: Request, session: Session, member: Staff) -> Any:
    return {
        "staff": [views.staff(s) for s in session.scalars(select(Staff).order_by(Staff.name))],
        "me": views.staff(member),
    }


@api.get("/events/latest")
@endpoint()
def latest_events(request: Request, session: Session, member: Staff) -> Any:
    return {
        "events": views.events(
            list(session.scalars(select(TimelineEvent).order_by(TimelineEvent.id.desc()).limit(50)))
        )
    }
