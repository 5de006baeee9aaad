"""A past for the demo world: three months of leads, bookings, finished trips, incidents and
messages before the story's day, so that the console's KPIs page has something to show on a
fresh `make demo`.

Generated from a fixed seed and the project clock: the same history, relative to the story's
day, every run. Rows are written as they would stand today (an import of the operator's past),
not replayed through the services; one timeline event records the import."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock
from backend.config import get_settings
from backend.domain import references
from backend.domain.actor import SYSTEM
from backend.domain.enums import ObjectType
from backend.models import (
    Booking,
    Contact,
    Departure,
    Hold,
    InboundMessage,
    Incident,
    Lead,
    LedgerKind,
    LedgerMethod,
    OutboundMessage,
    Product,
    Staff,
    Trip,
    WaitlistEntry,
)
from backend.services import bookings, ledger, timeline
from backend.services import references as refs

SEED = 20250315
DAYS = 90
LEADS = 140

ENQUIRIES = [
    "Hi, I'm interested in the {trek} for {party} people",
    "Do you have space on the {trek} next month? We are {party}",
    "Price for {trek}, {party} adults please",
    "Hello! Looking at the {trek} for a group of {party}",
]
INCIDENTS = [
    ("LOW", "Guest lost a water bottle at the lodge, replaced from the spare kit."),
    ("MEDIUM", "Heavy rain, trail slippery above the bridge; group slowed down."),
    ("MEDIUM", "One guest with a mild headache at altitude, resting an extra hour."),
    ("HIGH", "Jeep breakdown on the road to the trailhead, 2 hours delay."),
    ("HIGH", "Flight to Lukla cancelled because of weather, rebooking."),
    ("CRITICAL", "Guest fell and hurt an ankle; evacuation being arranged."),
]


@dataclass(frozen=True)
class History:
    leads: int
    bookings: int
    trips: int
    incidents: int


def seed_history(session: Session, *, today: date | None = None) -> History:
    """Write the past `DAYS` days before `today` (default: the clock's local today)."""
    rng = random.Random(SEED)
    settings = get_settings()
    today = today or clock.local_today()
    products = list(session.scalars(select(Product).order_by(Product.code)))
    treks = [p for p in products if p.days > 1]
    rep = session.scalar(select(Staff).where(Staff.name == "Sarah Gurung"))
    guides = list(
        session.scalars(select(Staff).where(Staff.name.in_(["Amit Sharma", "Rajesh Kumar"])))
    )
    start = datetime.combine(today - timedelta(days=DAYS), datetime.min.time(), tzinfo=settings.tz)

    # Past departures, every two weeks, one per trek; finished before today.
    past: list[Departure] = []
    day = today - timedelta(days=DAYS - 10)
    while day < today - timedelta(days=16):
        for product in treks:
            past.append(
                Departure(
                    product=product,
                    start_date=day,
                    end_date=day + timedelta(days=product.days - 1),
                    capacity=16,
                )
            )
        day += timedelta(days=14)
    session.add_all(past)
    session.flush()
    trip_of: dict[str, Trip] = {}
    for finished in past:
        prefix, seq = refs.allocate(session, "TRP", finished.start_date)
        reference = references.booking_reference(prefix, seq)
        trip = Trip(
            departure_id=finished.id,
            reference=reference,
            ref_key=references.reference_key(reference),
            status="COMPLETED",
            started_at=_at(finished.start_date, 8, 0),
            ended_at=_at(finished.end_date, 17, 0),
        )
        session.add(trip)
        trip_of[finished.id] = trip
    session.flush()

    booked = 0
    for n in range(LEADS):
        created = start + timedelta(minutes=rng.randrange(0, (DAYS - 1) * 24 * 60))
        created = created.replace(hour=rng.choice([7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 19, 21]))
        product = rng.choice(treks)
        party = rng.choice([1, 2, 2, 2, 3, 4, 4, 6])
        contact = Contact(
            phone=f"+61413{n + 1:06d}", name=f"Past guest {n + 1}", last_inbound_at=created
        )
        session.add(contact)
        session.flush()
        wrote = created - timedelta(seconds=rng.uniform(0.4, 3.5))
        session.add(
            InboundMessage(
                wamid=f"wamid.history.{n + 1}",
                from_phone=contact.phone,
                message_type="text",
                text=rng.choice(ENQUIRIES).format(trek=product.name, party=party),
                sent_at=wrote,
                stored_at=wrote,
                status="DONE",
                attempts=2 if rng.random() < 0.04 else 1,
                processed_at=created,
            )
        )
        prefix, seq = refs.allocate(session, product.code, created.astimezone(settings.tz).date())
        reference = references.lead_reference(prefix, seq)
        contacted = created + timedelta(minutes=rng.triangular(3, 150, 25))
        quoted = contacted + timedelta(minutes=rng.triangular(5, 300, 40))
        fate = rng.random()
        status = (
            "WON"
            if fate < 0.35
            else "LOST"
            if fate < 0.55
            else "QUOTED"
            if fate < 0.85
            else "CONTACTED"
        )
        lead = Lead(
            reference=reference,
            ref_key=references.reference_key(reference),
            contact_id=contact.id,
            product_id=product.id,
            status=status,
            assigned_staff_id=rep.id if rep else None,
            party_size=party,
            enquiry_text=rng.choice(ENQUIRIES).format(trek=product.name, party=party),
            currency=product.currency,
            contacted_at=contacted,
            quoted_at=quoted if status != "CONTACTED" else None,
            closed_at=quoted + timedelta(hours=5) if status in ("WON", "LOST") else None,
            lost_reason="chose another operator" if status == "LOST" else None,
            created_at=created,
        )
        session.add(lead)
        session.flush()
        if status not in ("WON", "QUOTED"):
            continue
        departure = next(
            (d for d in past if d.product_id == product.id and d.start_date > created.date()), None
        )
        if departure is None:
            continue
        quote = bookings.price_for(departure, party, booked_on=quoted)
        paid = status == "WON"
        held_at = quoted + timedelta(minutes=rng.uniform(10, 120))
        booking_ref = references.booking_reference_for_lead(reference)
        booking = Booking(
            reference=booking_ref,
            ref_key=references.reference_key(booking_ref),
            lead_id=lead.id,
            contact_id=contact.id,
            departure_id=departure.id,
            party_size=party,
            status="COMPLETED" if paid else "EXPIRED",
            payment_status="FULL_PAID" if paid else "UNPAID",
            currency=quote.total.currency,
            price_per_person_minor=quote.price_per_person.minor,
            discount_minor=quote.discount.minor,
            total_minor=quote.total.minor,
            deposit_minor=quote.deposit.minor,
            balance_due_date=quote.balance_due,
            created_at=held_at,
            confirmed_at=held_at + timedelta(hours=3) if paid else None,
            closed_at=_at(departure.end_date, 17, 0) if paid else held_at + timedelta(hours=24),
        )
        if paid and rng.random() < 0.8:
            booking.feedback_rating = rng.choices([5, 4, 3, 2], weights=[62, 28, 8, 2])[0]
            booking.feedback_at = _at(departure.end_date, 19, 0) + timedelta(
                hours=rng.uniform(0, 30)
            )
        session.add(booking)
        session.flush()
        if paid:
            ledger.record(
                session,
                booking,
                kind=LedgerKind.PAYMENT,
                method=LedgerMethod.LOCAL,
                amount_minor=quote.total.minor,
                currency=quote.total.currency,
                actor=SYSTEM,
                recorded_at=held_at + timedelta(hours=3),
                note="imported history",
            )
        session.add(
            Hold(
                booking_id=booking.id,
                departure_id=departure.id,
                seats=party,
                status="CONVERTED" if paid else "EXPIRED",
                expires_at=held_at + timedelta(hours=24),
                closed_at=held_at + timedelta(hours=3 if paid else 24),
                created_at=held_at,
            )
        )
        booked += paid
        if not paid and rng.random() < 0.4:
            offered = held_at + timedelta(hours=25)
            session.add(
                WaitlistEntry(
                    booking_id=booking.id,
                    departure_id=departure.id,
                    party_size=party,
                    status="ACCEPTED" if rng.random() < 0.6 else "EXPIRED",
                    joined_at=held_at - timedelta(days=2),
                    offered_at=offered,
                    offer_expires_at=offered + timedelta(hours=24),
                    closed_at=offered + timedelta(hours=rng.uniform(1, 24)),
                )
            )

    incidents = 0
    for departure in past:
        if rng.random() < 0.55:
            severity, text = rng.choice(INCIDENTS)
            reported = _at(
                departure.start_date + timedelta(days=rng.randrange(departure.product.days)), 10, 0
            )
            reported += timedelta(minutes=rng.randrange(0, 360))
            acknowledged = reported + timedelta(
                minutes=rng.triangular(1, 25 if severity != "LOW" else 60, 4)
            )
            resolved = acknowledged + timedelta(minutes=rng.triangular(15, 240, 45))
            session.add(
                Incident(
                    trip_id=trip_of[departure.id].id,
                    reported_by_staff_id=rng.choice(guides).id if guides else None,
                    description=text,
                    severity=severity,
                    status="RESOLVED",
                    resolution="Handled by the field team",
                    reported_at=reported,
                    acknowledged_at=acknowledged,
                    resolved_at=resolved,
                )
            )
            incidents += 1
            for guest in session.scalars(
                select(Booking).where(
                    Booking.departure_id == departure.id, Booking.status == "COMPLETED"
                )
            ):
                read = rng.random() < 0.8
                session.add(
                    OutboundMessage(
                        recipient_phone=guest.contact.phone,
                        contact_id=guest.contact_id,
                        kind="text",
                        body="Update on your trip: " + text,
                        purpose="customer_update",
                        status="read" if read else "delivered",
                        object_type=ObjectType.BOOKING,
                        object_id=guest.id,
                        created_at=acknowledged + timedelta(minutes=3),
                        sent_at=acknowledged + timedelta(minutes=3),
                        delivered_at=acknowledged + timedelta(minutes=4),
                        read_at=acknowledged + timedelta(minutes=20) if read else None,
                    )
                )
    history = History(LEADS, booked, len(past), incidents)
    timeline.record(
        session,
        object_type=ObjectType.SYSTEM,
        object_id="demo-history",
        event_type="IMPORTED",
        action="tms.demo.history_seeded",
        actor=SYSTEM,
        content={"days": DAYS, **history.__dict__},
    )
    return history


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=get_settings().tz).replace(
        hour=hour, minute=minute
    )
