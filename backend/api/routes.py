"""The admin API's routes. Every handler runs in one transaction as an authenticated staff
member (see `endpoint`); the business work is a service call."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.api import serializers
from backend.api.common import EVERY_ROLE, ApiError, endpoint, staff_actor
from backend.config import get_settings
from backend.domain.enums import AssignmentRole, IncidentStatus, ObjectType, Role
from backend.http_common import get_or_404
from backend.models import (
    Assignment,
    Booking,
    Conversation,
    Departure,
    InboundMessage,
    Incident,
    Lead,
    OutboundMessage,
    Product,
    Staff,
)
from backend.services import (
    assignments,
    bookings,
    catalog,
    contacts,
    conversations,
    feedback,
    incidents,
    knowledge,
    leads,
    ledger,
    ledger_export,
    timeline,
    trips,
)
from backend.services import staff as staff_service
from backend.whatsapp import inbox, sender

api = Blueprint("admin_api", url_prefix="/api")


class QuoteBody(BaseModel):
    departure_id: str
    party_size: int = Field(ge=1, le=50)
    price_per_person_minor: int | None = Field(default=None, ge=0)
    discount_minor: int | None = Field(default=None, ge=0)
    # Required when the price or discount differs from the rule's (as in the console).
    override_reason: str | None = Field(default=None, max_length=300)


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
    text: str = Field(default="", max_length=3000)
    # Outside the 24-hour window: customer_update (the text as its parameter) or
    # conversation_followup, chosen on purpose (as in the console).
    template: str | None = None


class HandoffBody(BaseModel):
    paused: bool


class ProductBody(BaseModel):
    """A product's fields (PATCH: only those given change)."""

    name: str | None = Field(default=None, min_length=1, max_length=120)
    short_name: str | None = Field(default=None, min_length=1, max_length=60)
    aliases: list[str] | None = Field(default=None, max_length=30)
    days: int | None = Field(default=None, ge=1, le=60)
    price_per_person_minor: int | None = Field(default=None, ge=0, le=10**9)
    currency: str | None = Field(default=None, min_length=3, max_length=3)
    deposit_percent: int | None = Field(default=None, ge=0, le=100)
    early_bird_percent: int | None = Field(default=None, ge=0, le=50)
    early_bird_days_before: int | None = Field(default=None, ge=0, le=365)
    balance_due_days_before: int | None = Field(default=None, ge=0, le=365)
    active: bool | None = None


class NewProductBody(ProductBody):
    code: str = Field(min_length=2, max_length=8)
    name: str = Field(min_length=1, max_length=120)
    days: int = Field(ge=1, le=60)
    price_per_person_minor: int = Field(ge=0, le=10**9)


class DepartureBody(BaseModel):
    start_date: date | None = None
    capacity: int | None = Field(default=None, ge=1, le=500)
    meeting_point: str | None = Field(default=None, min_length=1, max_length=120)
    meeting_time: str | None = Field(default=None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class NewDepartureBody(DepartureBody):
    product: str = Field(min_length=2, max_length=8, description="the product's code")
    start_date: date
    capacity: int = Field(ge=1, le=500)


class NewStaffBody(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    phone: str = Field(min_length=5, max_length=40)
    roles: list[Role] = Field(min_length=1, max_length=5)
    email: str | None = Field(default=None, max_length=200)


class StaffChangeBody(BaseModel):
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=5)
    available: bool | None = None


class FaqBody(BaseModel):
    """A topic's answer, in general or for one product (its code)."""

    answer: str = Field(min_length=1, max_length=2000, pattern=r"\S")  # not only blanks
    product: str | None = Field(default=None, min_length=2, max_length=8)
    # The language it is written in: en (the default), de, fr or es.
    language: Literal["en", "de", "fr", "es"] = "en"


class RetryBody(BaseModel):
    """Which FAILED messages to put back: by id, by time (ISO 8601 with a timezone), or all."""

    # Row ids are positive BIGINTs: anything else is refused here (422), not by the database.
    ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(
        default_factory=list, max_length=1000
    )
    since: datetime | None = None
    until: datetime | None = None
    all: bool = False

    def chosen(self) -> bool:
        return bool(self.ids or self.since or self.until or self.all)


# -- leads (SALES) ------------------------------------------------------------------------------
@api.get("/leads")
@endpoint(Role.SALES, query=("status", "assignee"))
def list_leads(request: Request, session: Session, member: Staff) -> Any:
    """List leads (?status=NEW&assignee=<staff id>|me)."""
    assignee = request.args.get("assignee")
    if assignee == "me":
        assignee = member.id
    return {
        "leads": [
            serializers.lead(x)
            for x in leads.list_leads(
                session, status=request.args.get("status"), assignee_id=assignee
            )
        ]
    }


@api.get("/leads/<lead_id:str>")
@endpoint(Role.SALES)
def lead_detail(request: Request, session: Session, member: Staff, lead_id: str) -> Any:
    """A lead with its conversation's messages and timeline."""
    lead = get_or_404(session, Lead, lead_id, "lead")
    conversation = contacts.active_conversation(session, lead.contact)
    messages = (
        timeline.for_conversation(session, conversation.id, reader=member) if conversation else []
    )
    return {
        "lead": serializers.lead(lead),
        "conversationId": conversation.id if conversation else None,
        "messages": serializers.events(session, [e for e in messages if e.event_type == "MESSAGE"]),
        "timeline": serializers.events(
            session, timeline.for_object(session, ObjectType.LEAD, lead.id, reader=member)
        ),
    }


@api.post("/leads/<lead_id:str>/quote")
@endpoint(Role.SALES, body=QuoteBody)
def quote(request: Request, session: Session, member: Staff, lead_id: str, body: QuoteBody) -> Any:
    """Quote the lead and send the quote on WhatsApp (lead QUOTED)."""
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
        override_reason=body.override_reason,
    )
    return {
        "lead": serializers.lead(lead),
        "quote": {
            "total": serializers.money(result.total.minor, result.total.currency),
            "deposit": serializers.money(result.deposit.minor, result.deposit.currency),
            "discount": serializers.money(result.discount.minor, result.discount.currency),
        },
    }


@api.post("/leads/<lead_id:str>/hold")
@endpoint(Role.SALES)
def hold(request: Request, session: Session, member: Staff, lead_id: str) -> Any:
    """Hold Inventory: a 24 h hold from the quote, Lead WON, Booking HELD."""
    lead = get_or_404(session, Lead, lead_id, "lead")
    booking = leads.hold_and_send(session, lead, staff_actor(member))
    return {"lead": serializers.lead(lead), "booking": serializers.booking(session, booking)}


# -- departures and assignments (OPS) -----------------------------------------------------------
@api.get("/departures")
@endpoint(Role.OPS, Role.SALES)
def list_departures(request: Request, session: Session, member: Staff) -> Any:
    """Departures with capacity, confirmed, held, offered, waitlist, available."""
    return {
        "departures": [serializers.departure(session, d) for d in catalog.all_departures(session)]
    }


@api.get("/departures/<departure_id:str>")
@endpoint(Role.OPS, Role.SALES)
def departure_detail(request: Request, session: Session, member: Staff, departure_id: str) -> Any:
    """A departure with its bookings, manifest, trip and assignments."""
    departure = get_or_404(session, Departure, departure_id, "departure")
    found = list(
        session.scalars(
            select(Booking).where(Booking.departure_id == departure.id).order_by(Booking.created_at)
        )
    )
    trip = serializers.trip_summary(session, departure, reader=member)
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
        "departure": serializers.departure(session, departure),
        "trip": trip,
        "bookings": [serializers.booking(session, b) for b in found],
        "manifest": manifest,
        "assignments": [serializers.assignment(a, reader=member) for a in assignments],
    }


@api.post("/departures/<departure_id:str>/assignments")
@endpoint(Role.OPS, body=AssignBody)
def assign(
    request: Request, session: Session, member: Staff, departure_id: str, body: AssignBody
) -> Any:
    """Assign staff to the departure's trip; the offer goes out on WhatsApp."""
    departure = get_or_404(session, Departure, departure_id, "departure")
    worker = get_or_404(session, Staff, body.staff_id, "staff member")
    trip = trips.ensure_trip(session, departure, staff_actor(member))
    assignment = assignments.offer_assignment(
        session,
        trip,
        worker,
        body.role,
        body.compensation_minor,
        staff_actor(member),
        currency=body.currency.upper(),
    )
    return {"assignment": serializers.assignment(assignment), "trip": trip.reference}


# -- bookings -----------------------------------------------------------------------------------
@api.get("/bookings/<booking_id:str>")
@endpoint(Role.SALES, Role.OPS)
def booking_detail(request: Request, session: Session, member: Staff, booking_id: str) -> Any:
    """A booking (by id or reference) with its timeline."""
    booking = _booking(session, booking_id)
    return {
        "booking": serializers.booking(session, booking),
        "timeline": serializers.events(
            session, timeline.for_object(session, ObjectType.BOOKING, booking.id, reader=member)
        ),
    }


@api.post("/bookings/<booking_id:str>/cancel")
@endpoint(Role.SALES, Role.OPS, body=CancelBody)
def cancel(
    request: Request, session: Session, member: Staff, booking_id: str, body: CancelBody
) -> Any:
    """Cancel a booking; the freed seats are offered to the waitlist."""
    booking = _booking(session, booking_id)
    freed = bookings.cancel_by_staff(
        session,
        booking,
        staff_actor(member),
        reason=body.reason,
        notify_customer=body.notify_customer,
    )
    return {"booking": serializers.booking(session, booking), "seatsFreed": freed}


@api.get("/bookings/<booking_id:str>/ledger")
@endpoint(Role.SALES, Role.OPS)
def booking_ledger(request: Request, session: Session, member: Staff, booking_id: str) -> Any:
    """A booking's ledger (by id or reference): every movement of money, oldest first, and what
    it has paid and still owes (derived from those entries)."""
    booking = _booking(session, booking_id)
    return {
        "booking": booking.reference,
        "entries": [serializers.ledger_entry(e) for e in ledger.entries_of(session, booking)],
        "paid": serializers.money(booking.paid_minor, booking.currency),
        "balance": serializers.money(booking.balance_minor, booking.currency),
    }


@api.get("/ledger.csv")
@endpoint(Role.OPS, query=("from", "to"))
def ledger_csv(request: Request, session: Session, member: Staff) -> HTTPResponse:
    """The ledger for the accountant, as CSV with a header row: the entries recorded from the
    day `from` up to, not including, the day `to` (YYYY-MM-DD, in the operator's timezone).
    Times are in the operator's timezone; amounts are signed decimals (refunds negative)."""
    start, end = _local_day(request, "from"), _local_day(request, "to")
    if end < start:
        raise ApiError(422, "to must not be before from", fields={"to": "before from"})
    text = ledger_export.csv_text(session, start, end)
    name = f"ledger-{start.date().isoformat()}-{end.date().isoformat()}.csv"
    return response.text(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _local_day(request: Request, name: str) -> datetime:
    """The start of the day named `name` in the query (YYYY-MM-DD), in the operator's timezone."""
    raw = request.args.get(name) or ""
    try:
        day = date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(
            422, f"{name} must be a date (YYYY-MM-DD)", fields={name: "invalid"}
        ) from exc
    return datetime.combine(day, time.min, tzinfo=get_settings().tz)


def _booking(session: Session, key: str) -> Booking:
    """By id or by reference (EBC-2501234 in any spelling)."""
    booking = session.get(Booking, key)
    return booking if booking is not None else bookings.find_booking(session, key)


# -- incidents (OPS) ----------------------------------------------------------------------------
@api.get("/incidents")
@endpoint(Role.OPS)
def list_incidents(request: Request, session: Session, member: Staff) -> Any:
    """Incidents, open first, by severity."""
    return {"incidents": [serializers.incident(i) for i in incidents.list_incidents(session)]}


@api.post("/incidents/<incident_id:str>")
@endpoint(Role.OPS, body=IncidentUpdateBody)
def update_incident(
    request: Request, session: Session, member: Staff, incident_id: str, body: IncidentUpdateBody
) -> Any:
    """Update an incident; message the guide, all guests or chosen bookings."""
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
    return {"incident": serializers.incident(incident), "messagesQueued": sent}


# -- conversations (SALES) ----------------------------------------------------------------------
@api.post("/conversations/<conversation_id:str>/messages")
@endpoint(Role.SALES, Role.OPS, body=MessageBody)
def send_message(
    request: Request, session: Session, member: Staff, conversation_id: str, body: MessageBody
) -> Any:
    """A staff member's message to the customer: free text inside the 24-hour window, an
    approved template chosen on purpose outside it (`conversations.staff_reply`)."""
    conversation = get_or_404(session, Conversation, conversation_id, "conversation")
    rows = conversations.staff_reply(
        session,
        conversation.contact,
        text=body.text,
        template=body.template,
        object_type=conversation.object_type or ObjectType.CONVERSATION,
        object_id=conversation.object_id or conversation.id,
        actor=staff_actor(member),
    )
    return {"queued": [serializers.outbound(r) for r in rows]}


@api.post("/conversations/<conversation_id:str>/handoff")
@endpoint(Role.SALES, Role.OPS, body=HandoffBody)
def handoff(
    request: Request, session: Session, member: Staff, conversation_id: str, body: HandoffBody
) -> Any:
    """Pause or resume the assistant for a conversation."""
    conversation = get_or_404(session, Conversation, conversation_id, "conversation")
    contacts.set_bot_paused(session, conversation, body.paused, staff_actor(member))
    return {"conversationId": conversation.id, "botPaused": conversation.bot_paused}


def _moment(request: Request, name: str) -> datetime | None:
    """An optional ISO 8601 moment with its timezone from the query (422 otherwise)."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(422, f"{name} must be an ISO 8601 time", fields={name: "invalid"}) from exc
    if at.tzinfo is None:
        raise ApiError(422, f"{name} needs a timezone", fields={name: "no timezone"})
    return at


# -- timeline, outbox, staff --------------------------------------------------------------------
@api.get("/timeline")
@endpoint(
    Role.SALES, Role.OPS, query=("object_type", "object_id", "conversation_id", "start", "end")
)
def read_timeline(request: Request, session: Session, member: Staff) -> Any:
    """Timeline events by object (object_type, object_id), conversation_id, or start/end: those
    the caller's roles may read (an incident's events only for OPS, and so on)."""
    args = {key: request.args.get(key) for key in request.args}
    if args.get("object_type") and args.get("object_id"):
        found = timeline.for_object(
            session, args["object_type"].upper(), args["object_id"], reader=member
        )
    elif args.get("conversation_id"):
        found = timeline.for_conversation(session, args["conversation_id"], reader=member)
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
        found = timeline.between(
            session, start, end, object_type=args.get("object_type"), reader=member
        )
    else:
        raise ApiError(
            422,
            "give object_type and object_id, or conversation_id, or start and end",
            fields={"object_id": "missing"},
        )
    return {"events": serializers.events(session, found)}


@api.get("/outbox")
@endpoint(Role.SALES, Role.OPS, query=("status",))
def outbox_list(request: Request, session: Session, member: Staff) -> Any:
    """Outbound messages, newest first (?status=failed)."""
    status: Literal["queued", "sent", "delivered", "read", "failed"] | None = request.args.get(
        "status"
    )
    query = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(200)
    if status:
        query = query.where(OutboundMessage.status == status)
    return {"messages": [serializers.outbound(r) for r in session.scalars(query)]}


@api.get("/inbox")
@endpoint(Role.OPS, query=("status",))
def inbox_list(request: Request, session: Session, member: Staff) -> Any:
    """Inbound messages, newest first (?status=FAILED): what customers and guides sent."""
    query = select(InboundMessage).order_by(InboundMessage.id.desc()).limit(200)
    if request.args.get("status"):
        query = query.where(InboundMessage.status == request.args.get("status", "").upper())
    return {"messages": [serializers.inbound(r) for r in session.scalars(query)]}


def _retry(body: RetryBody, retry: Any, session: Session, member: Staff) -> Any:
    if not body.chosen():
        raise ApiError(422, "say which: ids, since/until, or all", fields={"ids": "missing"})
    for name, value in (("since", body.since), ("until", body.until)):
        if value is not None and value.tzinfo is None:
            raise ApiError(422, f"{name} needs a timezone", fields={name: "no timezone"})
    ids = retry(
        session,
        staff_actor(member),
        ids=body.ids,
        since=body.since,
        until=body.until,
        everything=body.all,
    )
    return {"retried": ids}


@api.post("/inbox/retry")
@endpoint(Role.OPS, body=RetryBody)
def inbox_retry(request: Request, session: Session, member: Staff, body: RetryBody) -> Any:
    """Put FAILED inbound messages back in the queue: they are processed again, in order."""
    return _retry(body, inbox.retry_failed, session, member)


@api.post("/outbox/retry")
@endpoint(Role.OPS, body=RetryBody)
def outbox_retry(request: Request, session: Session, member: Staff, body: RetryBody) -> Any:
    """Queue FAILED outbound messages again (not those already replaced by their template)."""
    return _retry(body, sender.retry_failed, session, member)


@api.get("/feedback/summary")
@endpoint(Role.SALES, Role.OPS, query=("since", "until"))
def feedback_summary(request: Request, session: Session, member: Staff) -> Any:
    """The guests' satisfaction figures: ratings given (by page or chat), their average and
    spread, how many finished guests answered, and each lead guide's rating ("Guide
    performance"). `since`/`until`: ISO moments bounding when the ratings were given."""
    return feedback.satisfaction(
        session, since=_moment(request, "since"), until=_moment(request, "until")
    )


@api.get("/staff")
@endpoint(Role.SALES, Role.OPS)
def list_staff(request: Request, session: Session, member: Staff) -> Any:
    """Staff members (their phones and roles for OPS and ADMIN; names for SALES)."""
    return {
        "staff": [
            serializers.staff(s, reader=member)
            for s in session.scalars(select(Staff).order_by(Staff.name))
        ],
        "me": serializers.staff(member),
    }


@api.get("/me")
@endpoint(*EVERY_ROLE)
def me(request: Request, session: Session, member: Staff) -> Any:
    """The caller's own profile and assignments: all a guide's or porter's token reaches."""
    own = session.scalars(
        select(Assignment)
        .where(Assignment.staff_id == member.id)
        .order_by(Assignment.offered_at.desc())
    )
    return {
        "me": serializers.staff(member),
        "assignments": [serializers.assignment(a) for a in own],
    }


@api.post("/me/rotate-token")
@endpoint(*EVERY_ROLE)
def rotate_my_token(request: Request, session: Session, member: Staff) -> Any:
    """A new token for the caller (shown once); the one used for this call stops working."""
    return {"token": staff_service.rotate_token(session, member, staff_actor(member))}


@api.get("/me/tokens")
@endpoint(*EVERY_ROLE)
def my_tokens(request: Request, session: Session, member: Staff) -> Any:
    """The caller's API tokens that still work (never the tokens themselves)."""
    return {"tokens": [serializers.api_token(t) for t in staff_service.tokens_of(session, member)]}


@api.post("/me/tokens/<token_id:str>/revoke")
@endpoint(*EVERY_ROLE)
def revoke_my_token(request: Request, session: Session, member: Staff, token_id: str) -> Any:
    """Revoke one of the caller's tokens; it stops working with this call."""
    number = int(token_id) if token_id.isascii() and token_id.isdigit() else 0  # 0: no token
    found = staff_service.revoke_token(session, member, number, staff_actor(member))
    return {"token": serializers.api_token(found)}


@api.post("/staff/<staff_id:str>/rotate-token")
@endpoint(Role.ADMIN)
def rotate_token(request: Request, session: Session, member: Staff, staff_id: str) -> Any:
    """A new API token for a staff member (shown once); the old one stops working."""
    worker = get_or_404(session, Staff, staff_id, "staff member")
    return {
        "staff": serializers.staff(worker),
        "token": staff_service.rotate_token(session, worker, staff_actor(member)),
    }


@api.post("/staff/<staff_id:str>/deactivate")
@endpoint(Role.ADMIN)
def deactivate_staff(request: Request, session: Session, member: Staff, staff_id: str) -> Any:
    """Deactivate a staff member: their token stops working at once."""
    worker = get_or_404(session, Staff, staff_id, "staff member")
    staff_service.deactivate(session, worker, staff_actor(member))
    return {"staff": serializers.staff(worker)}


@api.get("/events/latest")
@endpoint(Role.SALES, Role.OPS)
def latest_events(request: Request, session: Session, member: Staff) -> Any:
    """The 50 latest timeline events the caller's roles may read."""
    return {
        "events": serializers.events(session, timeline.latest(session, reader=member, limit=50))
    }


# -- administration: products, departures, staff (ADMIN) -----------------------------------------
@api.get("/products")
@endpoint(Role.SALES, Role.OPS)
def list_products(request: Request, session: Session, member: Staff) -> Any:
    """Products with their pricing rules."""
    return {
        "products": [
            serializers.product(p) for p in session.scalars(select(Product).order_by(Product.code))
        ]
    }


@api.post("/products")
@endpoint(Role.ADMIN, body=NewProductBody)
def add_product(request: Request, session: Session, member: Staff, body: NewProductBody) -> Any:
    """Add a product (code, name, aliases, days, price, deposit %, early bird, balance due)."""
    values = body.model_dump(exclude={"code"}, exclude_none=True)
    product = catalog.create_product(session, code=body.code, actor=staff_actor(member), **values)
    return {"product": serializers.product(product)}


@api.patch("/products/<product_id:str>")
@endpoint(Role.ADMIN, body=ProductBody)
def change_product(
    request: Request, session: Session, member: Staff, product_id: str, body: ProductBody
) -> Any:
    """Change a product's fields (those given); bookings and quotes keep their prices."""
    product = get_or_404(session, Product, product_id, "product")
    changed = catalog.update_product(
        session, product, staff_actor(member), **body.model_dump(exclude_none=True)
    )
    return {"product": serializers.product(product), "changed": changed}


@api.post("/departures")
@endpoint(Role.ADMIN, body=NewDepartureBody)
def add_departure(request: Request, session: Session, member: Staff, body: NewDepartureBody) -> Any:
    """Add a departure of a product (start date, capacity, meeting point and time)."""
    product = catalog.get_product(session, body.product)
    departure = catalog.create_departure(
        session,
        product,
        start_date=body.start_date,
        capacity=body.capacity,
        meeting_point=body.meeting_point,
        meeting_time=body.meeting_time,
        actor=staff_actor(member),
    )
    return {"departure": serializers.departure(session, departure)}


@api.patch("/departures/<departure_id:str>")
@endpoint(Role.ADMIN, body=DepartureBody)
def change_departure(
    request: Request, session: Session, member: Staff, departure_id: str, body: DepartureBody
) -> Any:
    """Change a departure: capacity (not below the seats taken), meeting point and time,
    dates (only while nobody is booked)."""
    departure = get_or_404(session, Departure, departure_id, "departure")
    changed = catalog.update_departure(
        session, departure, staff_actor(member), **body.model_dump(exclude_none=True)
    )
    return {"departure": serializers.departure(session, departure), "changed": changed}


@api.post("/staff")
@endpoint(Role.ADMIN, body=NewStaffBody)
def add_staff(request: Request, session: Session, member: Staff, body: NewStaffBody) -> Any:
    """Add a staff member; their API token is in the answer, once."""
    worker, token = staff_service.add_staff(
        session,
        name=body.name,
        phone=body.phone,
        roles=body.roles,
        email=body.email,
        actor=staff_actor(member),
    )
    return {"staff": serializers.staff(worker), "token": token}


# -- the operator's knowledge (answers to travellers' practical questions) ----------------------
@api.get("/faq")
@endpoint(Role.SALES, Role.OPS)
def list_faq(request: Request, session: Session, member: Staff) -> Any:
    """Every topic the assistant answers, with the general answer and each product's own."""
    found: dict[str, list[dict[str, Any]]] = {}
    for answer in knowledge.all_answers(session):
        found.setdefault(answer.topic, []).append(
            {
                "product": answer.product_code or None,
                "language": answer.language,
                "answer": answer.answer,
                "updatedAt": answer.updated_at.isoformat(),
            }
        )
    return {
        "topics": [
            {"topic": key, "title": topic.title, "answers": found.get(key, [])}
            for key, topic in knowledge.topics().items()
        ]
    }


@api.put("/faq/<topic:str>")
@endpoint(Role.ADMIN, body=FaqBody)
def set_faq(request: Request, session: Session, member: Staff, topic: str, body: FaqBody) -> Any:
    """Change a topic's answer (general, or for one product; in English or another language
    customers are answered in): the assistant uses it at once."""
    row = knowledge.set_answer(
        session,
        topic,
        body.answer,
        staff_actor(member),
        product_code=body.product or "",
        language=body.language,
    )
    return {
        "topic": row.topic,
        "product": row.product_code or None,
        "language": row.language,
        "answer": row.answer,
    }


@api.patch("/staff/<staff_id:str>")
@endpoint(Role.ADMIN, body=StaffChangeBody)
def change_staff(
    request: Request, session: Session, member: Staff, staff_id: str, body: StaffChangeBody
) -> Any:
    """Change a staff member's roles or availability (away: no new leads or offers)."""
    worker = get_or_404(session, Staff, staff_id, "staff member")
    if body.roles is not None:
        staff_service.set_roles(session, worker, body.roles, staff_actor(member))
    if body.available is not None:
        staff_service.set_available(session, worker, body.available, staff_actor(member))
    return {"staff": serializers.staff(worker)}
