"""The workflows' world, loaded through the services: catalogue, staff, guests, waitlist, a trip
under way. Dates are relative to today so the demo never goes stale."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock
from backend.config import get_settings
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, Role
from backend.domain.errors import DomainError
from backend.models import Departure, Product
from backend.services import bookings, contacts, payments, trips
from backend.services import staff as staff_service

INCLUSIONS_TREK = [
    "All permits & fees",
    "Experienced Sherpa guide",
    "Tea house accommodation",
    "All meals during trek",
    "Airport transfers",
]

STAFF = [
    ("Sarah Gurung", "+9779801000001", [Role.SALES]),
    ("Priya Thapa", "+9779801000002", [Role.OPS]),
    ("Rajesh Kumar", "+9779801000003", [Role.GUIDE]),
    ("Amit Sharma", "+9779801000004", [Role.GUIDE]),
    ("Pemba Sherpa", "+9779801000005", [Role.PORTER]),
    ("Nima Sherpa", "+9779801000006", [Role.PORTER]),
    ("Anil Admin", "+9779801000009", [Role.ADMIN]),
]

# Guests that already exist in the world: (name, phone prefix). Phones are generated.
_GUEST_NAMES = [
    "Emma Wilson",
    "Liam Chen",
    "Olivia Brown",
    "Noah Patel",
    "Ava Schmidt",
    "Lucas Rossi",
    "Mia Tanaka",
    "Ethan Müller",
    "Sofia Garcia",
    "Mason Lee",
    "Isla Walker",
    "Leo Novak",
    "Chloe Martin",
    "Arjun Rao",
    "Zoe Dubois",
    "Finn O'Brien",
    "Aria Kim",
    "Oscar Berg",
    "Ruby Singh",
    "Jack Murphy",
    "Nora Jensen",
    "Kai Nakamura",
]


@dataclass
class DemoWorld:
    staff_tokens: dict[str, str] = field(default_factory=dict)
    departures: dict[str, str] = field(default_factory=dict)  # label -> departure id


def today() -> date:
    return clock.now().astimezone(get_settings().tz).date()


def _guest_phone(n: int) -> str:
    return f"+61412{n:06d}"  # Australian mobile range: valid, clearly made up


def load(session: Session) -> DemoWorld:
    """Load the demo world into an empty database (DomainError if it is not empty)."""
    if session.scalar(select(Product).limit(1)) is not None:
        raise DomainError("The database already has a catalogue; the demo loads into an empty one")
    world = DemoWorld()
    for name, phone, roles in STAFF:
        _member, token = staff_service.add_staff(
            session, name=name, phone=phone, roles=roles, actor=SYSTEM
        )
        world.staff_tokens[name] = token

    ebc = Product(
        code="EBC",
        name="Everest Base Camp Trek",
        short_name="EBC",
        aliases=[
            "everest base camp",
            "everest base camp trek",
            "everest bc",
            "ebc trek",
            "everest",
        ],
        days=14,
        price_per_person_minor=2_400_00,
        currency="USD",
        deposit_percent=30,
        early_bird_percent=5,
        early_bird_days_before=43,
        balance_due_days_before=15,
        inclusions=INCLUSIONS_TREK,
    )
    ann = Product(
        code="ANN",
        name="Annapurna Circuit Trek",
        short_name="Annapurna Circuit",
        aliases=["annapurna", "annapurna circuit", "annapurna trek", "abc circuit"],
        days=15,
        price_per_person_minor=1_800_00,
        currency="USD",
        deposit_percent=30,
        balance_due_days_before=15,
        inclusions=INCLUSIONS_TREK,
    )
    pkr = Product(
        code="PKR",
        name="Pokhara Sightseeing Tour",
        short_name="Pokhara Sightseeing",
        aliases=["pokhara", "pokhara tour", "pokhara sightseeing"],
        days=1,
        price_per_person_minor=120_00,
        currency="USD",
        deposit_percent=100,
        balance_due_days_before=0,
        inclusions=["Air-conditioned vehicle", "Licensed guide", "Entry fees", "Lunch"],
    )
    session.add_all([ebc, ann, pkr])
    session.flush()

    start = today()
    ebc_main = _departure(session, ebc, start + timedelta(days=109), capacity=16)
    _departure(session, ebc, start + timedelta(days=123), capacity=16)
    ann_full = _departure(session, ann, start + timedelta(days=114), capacity=30)
    ann_open = _departure(session, ann, start + timedelta(days=121), capacity=30)
    pkr_today = _departure(
        session, pkr, start, capacity=20, meeting_point="Lakeside, Pokhara", meeting_time="08:00"
    )
    world.departures = {
        "EBC main": ebc_main.id,
        "ANN full": ann_full.id,
        "ANN open": ann_open.id,
        "PKR today": pkr_today.id,
    }

    guests = iter(range(1, 10_000))
    # EBC: 9 confirmed guests; with the workflow's party of 3 the group is 12.
    for size in (4, 3, 2):
        _confirmed_booking(session, ebc_main, size, next(guests))
    trips.ensure_trip(session, ebc_main, SYSTEM)
    # Annapurna: 30/30 with a waitlist of two parties of 2; the week after at 15/30.
    for _ in range(10):
        _confirmed_booking(session, ann_full, 3, next(guests))
    for _ in range(2):
        n = next(guests)
        contact = contacts.get_or_create_contact(session, _guest_phone(n), name=_name(n))
        bookings.waitlist_new_booking(
            session, contact=contact, departure=ann_full, party_size=2, actor=SYSTEM
        )
    for _ in range(5):
        _confirmed_booking(session, ann_open, 3, next(guests))
    # Pokhara: under way today with 15 guests and Amit Sharma as lead guide.
    for _ in range(5):
        _confirmed_booking(session, pkr_today, 3, next(guests), pay_full=True)
    trip = trips.ensure_trip(session, pkr_today, SYSTEM)
    amit = staff_service.by_phone(session, "+9779801000004")
    assert amit is not None
    assignment = trips.assign_staff(session, trip, amit, AssignmentRole.LEAD_GUIDE, 60_00, SYSTEM)
    trips.respond_to_assignment(session, assignment, True, SYSTEM, notify=False)
    trips.check_in(session, trip, amit, SYSTEM, notify=False)
    return world


def _name(n: int) -> str:
    return _GUEST_NAMES[(n - 1) % len(_GUEST_NAMES)]


def _departure(
    session: Session,
    product: Product,
    start: date,
    *,
    capacity: int,
    meeting_point: str = "Kathmandu Airport",
    meeting_time: str = "06:00",
) -> Departure:
    departure = Departure(
        product_id=product.id,
        start_date=start,
        end_date=start + timedelta(days=product.days - 1),
        capacity=capacity,
        meeting_point=meeting_point,
        meeting_time=meeting_time,
    )
    departure.product = product
    session.add(departure)
    session.flush()
    return departure


def _confirmed_booking(
    session: Session, departure: Departure, size: int, n: int, *, pay_full: bool = False
) -> None:
    contact = contacts.get_or_create_contact(session, _guest_phone(n), name=_name(n))
    booking = bookings.hold_new_booking(
        session, contact=contact, departure_id=departure.id, party_size=size, actor=SYSTEM
    )
    amount = booking.total_minor if pay_full else booking.deposit_minor
    payments.record_payment(
        session,
        booking_id=booking.id,
        provider="demo",
        event_id=f"demo-{booking.reference}",
        amount_minor=amount,
        currency=booking.currency,
        actor=SYSTEM,
    )
