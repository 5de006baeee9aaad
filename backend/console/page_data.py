"""What the console's pages show, assembled from the models and services (no HTML here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain.enums import LeadStatus, ObjectType
from backend.models import (
    Assignment,
    Attendance,
    Booking,
    Contact,
    Departure,
    Hold,
    InboundMessage,
    Incident,
    Lead,
    OutboundMessage,
    Payment,
    Staff,
    TimelineEvent,
    Trip,
)
from backend.models.messaging import SECRET_PURPOSES
from backend.services import catalog, contacts, inventory, timeline, trips, waitlist
from backend.whatsapp.templates import template_for

# Oldest first, newest last: the way a chat reads.
CONVERSATION_LENGTH = 200


@dataclass(frozen=True)
class ChatLine:
    at: datetime
    inbound: bool
    text: str
    status: str | None = None  # queued, sent, delivered, read, failed (outbound only)
    template: str | None = None
    who: str | None = None


def conversation(session: Session, contact: Contact) -> list[ChatLine]:
    """Everything said with this contact, both ways, by their phone or their BSUID (a
    username's messages before their phone was known), with the delivery ticks and template
    messages marked."""
    addresses = [known for known in (contact.phone, contact.user_id) if known]
    inbound = session.scalars(
        select(InboundMessage)
        .where(InboundMessage.from_phone.in_(addresses))
        .order_by(InboundMessage.id.desc())
        .limit(CONVERSATION_LENGTH)
    )
    outbound = session.scalars(
        select(OutboundMessage)
        .where(OutboundMessage.recipient_phone.in_(addresses))
        .order_by(OutboundMessage.id.desc())
        .limit(CONVERSATION_LENGTH)
    )
    lines = [
        ChatLine(
            at=m.sent_at or m.stored_at,
            inbound=True,
            text=m.text or f"[{m.message_type}]",
            status=m.status,
        )
        for m in inbound
    ]
    for m in outbound:
        if m.purpose in SECRET_PURPOSES:
            shown = m.shown_body
        elif m.kind == "template" or m.template_name:
            spec = template_for(m.purpose)
            shown = spec.render(m.template_params) if spec and m.template_params else m.body
        else:
            shown = m.shown_body
        lines.append(
            ChatLine(
                at=m.created_at,
                inbound=False,
                text=shown or "",
                status=m.status,
                template=m.template_name,
            )
        )
    lines.sort(key=lambda line: line.at)
    return lines[-CONVERSATION_LENGTH:]


def minutes_since(at: datetime) -> int:
    return max(int((clock.now() - at).total_seconds() // 60), 0)


def contact_deadline(lead: Lead) -> datetime:
    return lead.created_at + timedelta(hours=get_settings().lead_sla_hours)


@dataclass(frozen=True)
class LeadRow:
    lead: Lead
    age_minutes: int
    deadline: datetime | None  # the 2-hour contact deadline while nobody has been in touch
    overdue: bool


def lead_rows(
    session: Session,
    *,
    mine_of: str | None,
    status: str | None,
    product: str | None,
    month: str | None,
    limit: int = 200,
) -> list[LeadRow]:
    query = select(Lead).order_by(Lead.created_at.desc()).limit(limit)
    if mine_of:
        query = query.where(Lead.assigned_staff_id == mine_of)
    if status:
        query = query.where(Lead.status == status.upper())
    if product:
        query = query.join(Lead.product).where(Lead.product.has(code=product.upper()))
    if month:
        start = _month_start(month)
        if start is not None:
            end = (start + timedelta(days=32)).replace(day=1)
            query = query.where(Lead.created_at >= _utc(start), Lead.created_at < _utc(end))
    now = clock.now()
    rows = []
    for lead in session.scalars(query):
        waiting = lead.status == LeadStatus.NEW and lead.contacted_at is None
        deadline = contact_deadline(lead) if waiting else None
        rows.append(
            LeadRow(
                lead, minutes_since(lead.created_at), deadline, bool(deadline and deadline <= now)
            )
        )
    return rows


def _month_start(month: str) -> date | None:
    try:
        year, number = (int(p) for p in month.split("-", 1))
        return date(year, number, 1) if 2000 <= year <= 2100 else None
    except ValueError:
        return None


def _utc(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=get_settings().tz)


@dataclass(frozen=True)
class DepartureRow:
    departure: Departure
    counts: inventory.SeatCounts
    trip: Trip | None
    staff_accepted: int
    staff_offered: int

    @property
    def bar(self) -> dict[str, float]:
        """Seat bar widths in % of capacity."""
        cap = max(self.counts.capacity, 1)
        return {
            "confirmed": 100 * self.counts.confirmed / cap,
            "held": 100 * self.counts.held / cap,
            "offered": 100 * self.counts.offered / cap,
        }


def departure_row(session: Session, departure: Departure) -> DepartureRow:
    trip = session.scalar(select(Trip).where(Trip.departure_id == departure.id))
    assignments = (
        list(session.scalars(select(Assignment).where(Assignment.trip_id == trip.id)))
        if trip
        else []
    )
    return DepartureRow(
        departure,
        inventory.seat_counts(session, departure),
        trip,
        sum(1 for a in assignments if a.status in ("ACCEPTED", "COMPLETED")),
        sum(1 for a in assignments if a.status == "OFFERED"),
    )


def departure_rows(session: Session, *, product_id: str | None = None) -> list[DepartureRow]:
    today = clock.now().astimezone(get_settings().tz).date()
    found = catalog.all_departures(session, from_date=today)
    if product_id:
        found = [d for d in found if d.product_id == product_id]
    return [departure_row(session, d) for d in found]


# Staff a departure needs: a lead guide, and a porter for every 4 guests beyond the first 2.
def staff_needed(counts: inventory.SeatCounts) -> int:
    guests = counts.confirmed + counts.held
    return 1 + max(guests - 2, 0) // 4 + (1 if max(guests - 2, 0) % 4 else 0) if guests else 1


def booking_search(session: Session, query: str, limit: int = 50) -> list[Booking]:
    text = query.strip()
    statement = select(Booking).order_by(Booking.created_at.desc()).limit(limit)
    if text:
        key = "".join(ch for ch in text.upper() if ch.isalnum())
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions: list[ColumnElement[bool]] = [Booking.ref_key.like(f"%{key}%")] if key else []
        if len(digits) >= 4:
            conditions.append(Booking.contact.has(contacts_phone_like(digits)))
        if not conditions:
            return []
        statement = statement.where(or_(*conditions))
    return list(session.scalars(statement))


def contacts_phone_like(digits: str) -> Any:
    from backend.models import Contact

    return Contact.phone.like(f"%{digits}%")


@dataclass(frozen=True)
class BookingPage:
    booking: Booking
    payments: list[Payment]
    holds: list[Hold]
    waitlist_status: str | None
    waitlist_position: int | None
    events: list[TimelineEvent]
    sentences: dict[int, str]  # each event's sentence, by event id (`timeline.describe`)


def booking_page(session: Session, booking: Booking, reader: Staff) -> BookingPage:
    """The booking page's data, with the timeline events `reader` may see and their sentences."""
    entry = waitlist.entry_of(session, booking)
    events = timeline.for_object(session, ObjectType.BOOKING, booking.id, reader=reader)
    payments = select(Payment).where(Payment.booking_id == booking.id)
    holds = select(Hold).where(Hold.booking_id == booking.id)
    return BookingPage(
        booking,
        list(session.scalars(payments.order_by(Payment.received_at))),
        list(session.scalars(holds.order_by(Hold.created_at))),
        entry.status if entry else None,
        waitlist.position(session, entry) if entry and entry.status == "WAITING" else None,
        events,
        timeline.describe(session, events),
    )


@dataclass(frozen=True)
class TodayTrip:
    trip: Trip | None
    departure: Departure
    guides: list[Assignment]
    checked_in: set[str]
    late: bool  # past the meeting time and no guide has checked in
    # Each guest booking's latest trip notice (started, updates) with its tick, once under way.
    notices: list[GuestNotice] = field(default_factory=list)


def today(session: Session) -> list[TodayTrip]:
    """Trips in progress and departures starting today, with who has checked in."""
    settings = get_settings()
    now = clock.now()
    local_today = now.astimezone(settings.tz).date()
    departures = [
        d
        for d in catalog.all_departures(session, from_date=local_today - timedelta(days=40))
        if d.start_date <= local_today <= d.end_date
    ]
    result = []
    for departure in departures:
        trip = session.scalar(select(Trip).where(Trip.departure_id == departure.id))
        guides = (
            list(
                session.scalars(
                    select(Assignment).where(
                        Assignment.trip_id == trip.id,
                        Assignment.status.in_(("ACCEPTED", "COMPLETED")),
                    )
                )
            )
            if trip
            else []
        )
        checked = (
            set(session.scalars(select(Attendance.staff_id).where(Attendance.trip_id == trip.id)))
            if trip
            else set()
        )
        hour, minute = (int(x) for x in departure.meeting_time.split(":"))
        meet = datetime.combine(departure.start_date, datetime.min.time(), tzinfo=settings.tz)
        meet = meet.replace(hour=hour, minute=minute)
        late = (
            departure.start_date == local_today
            and now > meet + timedelta(minutes=settings.checkin_grace_minutes)
            and not checked
        )
        notices = (
            latest_notices(
                session,
                trips.guests_of(session, trip),
                since=trip.started_at,
                purposes=TRIP_NOTICES,
            )
            if trip is not None and trip.started_at is not None
            else []
        )
        result.append(TodayTrip(trip, departure, guides, checked, late, notices))
    return result


SEVERITY_ORDER = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}


def incident_board(session: Session) -> list[Incident]:
    found = list(session.scalars(select(Incident)))
    return sorted(
        found,
        key=lambda i: (
            i.status in ("RESOLVED", "CLOSED"),
            SEVERITY_ORDER.get(i.severity, 9),
            -(i.reported_at.timestamp()),
        ),
    )


def guests_affected(session: Session, incident: Incident) -> int:
    return trips.group_size(session, incident.trip)


def window_open(session: Session, lead: Lead) -> bool:
    return contacts.window_open(lead.contact)


def local(value: datetime | None) -> str:
    return texts.local_datetime(value) if value else ""


@dataclass(frozen=True)
class GuestNotice:
    """What a guest booking has been told since the incident, and whether they read it."""

    booking: Booking
    status: str | None  # the latest notice's: queued, sent, delivered, read, failed; None: not told
    sent_at: datetime | None
    unread_too_long: bool


UNREAD_ALERT = timedelta(minutes=15)


def guest_notices(session: Session, incident: Incident, guests: list[Booking]) -> list[GuestNotice]:
    """Per guest booking, the latest trip update sent to them since the incident was reported,
    with its delivery tick; unread after 15 minutes is flagged so ops can resend or call."""
    return latest_notices(
        session, guests, since=incident.reported_at, purposes=("customer_update",)
    )


# What guests are told during a trip: that it started, and the updates (incidents, resolution).
TRIP_NOTICES = ("trip_started", "customer_update")


def latest_notices(
    session: Session, guests: list[Booking], *, since: datetime, purposes: tuple[str, ...]
) -> list[GuestNotice]:
    now = clock.now()
    found = []
    for booking in guests:
        latest = session.scalar(
            select(OutboundMessage)
            .where(
                OutboundMessage.recipient_phone == booking.contact.address,
                OutboundMessage.purpose.in_(purposes),
                OutboundMessage.created_at >= since,
            )
            .order_by(OutboundMessage.id.desc())
            .limit(1)
        )
        status = latest.status if latest else None
        found.append(
            GuestNotice(
                booking,
                status,
                latest.created_at if latest else None,
                bool(latest and status != "read" and now - latest.created_at > UNREAD_ALERT),
            )
        )
    return found
