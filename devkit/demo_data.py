"""The workflows' world, loaded through the services: catalog, staff, guests, waitlist, a trip
under way, on the workflows' own calendar (`StoryCalendar`).

The demo and the tests put the clock of every process on the story's day before loading it
(`backend.clock`), so the story reads the same on whatever day it is run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import get_settings
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, Role
from backend.domain.errors import DomainError
from backend.models import Contact, Departure, Product
from backend.scheduler.kinds import local_moment
from backend.services import (
    assignments,
    attendance,
    bookings,
    cancellation_policy,
    contacts,
    knowledge,
    payments,
    trips,
)
from backend.services import staff as staff_service

INCLUSIONS_TREK = [
    "All permits & fees",
    "Experienced Sherpa guide",
    "Tea house accommodation",
    "All meals during trek",
    "Airport transfers",
]

PACKING_TREK = [
    "Passport (6 months valid) and 2 passport photos",
    "Travel insurance covering helicopter evacuation above 5,000 m",
    "Broken-in trekking boots and 4 pairs of wool socks",
    "Down jacket and a sleeping bag rated to -15 °C",
    "Headtorch, sunglasses, sunscreen SPF 50",
    "Water bottles (2 l) and purification tablets",
    "Personal medication (talk to your doctor about Diamox)",
]

# Day by day, as the track page and the pre-trek guide show it.
ITINERARIES = {
    "EBC": [
        (
            "1",
            "Fly Kathmandu to Lukla, trek to Phakding",
            "Meet at Kathmandu Airport at 06:00 for the 35-minute flight. 3 hours' easy walk along the Dudh Koshi.",
        ),
        (
            "2",
            "Phakding to Namche Bazaar (3,440 m)",
            "Suspension bridges and the first view of Everest.",
        ),
        (
            "3",
            "Acclimatisation day in Namche",
            "Hike to the Everest View Hotel and back: climb high, sleep low.",
        ),
        ("4", "Namche to Tengboche (3,860 m)", "The monastery's evening prayers."),
        ("5", "Tengboche to Dingboche (4,410 m)", ""),
        ("6", "Acclimatisation day in Dingboche", "Hike up Nangkartshang for Makalu and Lhotse."),
        ("7", "Dingboche to Lobuche (4,940 m)", "Past the climbers' memorials at Thukla."),
        ("8", "Lobuche to Gorak Shep, Everest Base Camp (5,364 m)", "The big day: about 8 hours."),
        ("9", "Kala Patthar (5,545 m) at sunrise, down to Pheriche", ""),
        ("10", "Pheriche to Namche Bazaar", ""),
        ("11", "Namche to Lukla", "Farewell dinner with the crew."),
        ("12", "Fly Lukla to Kathmandu", "Weather permitting; day 13 is the spare day for delays."),
        ("13", "Spare day in Kathmandu", ""),
        ("14", "Departure", "Airport transfer."),
    ],
    "ANN": [
        ("1", "Drive Kathmandu to Besisahar, jeep to Chame", ""),
        ("2-3", "Chame to Upper Pisang to Manang (3,540 m)", ""),
        ("4", "Acclimatisation day in Manang", ""),
        ("5-6", "Manang to Yak Kharka to Thorong Phedi (4,450 m)", ""),
        ("7", "Thorong La pass (5,416 m) to Muktinath", "Start at 04:00."),
        ("8-12", "Down the Kali Gandaki: Jomsom, Tatopani, Ghorepani, Poon Hill", ""),
        ("13-14", "To Pokhara, rest day by the lake", ""),
        ("15", "Drive to Kathmandu, departure", ""),
    ],
    "PKR": [
        (
            "1",
            "Pokhara in a day",
            "Sarangkot sunrise, Davis Falls, the World Peace Pagoda, a boat on Phewa Lake, lunch in Lakeside.",
        ),
    ],
}


def _itinerary(code: str) -> list[dict[str, str]]:
    return [{"days": d, "title": t, "detail": x} for d, t, x in ITINERARIES[code]]


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


@dataclass(frozen=True)
class StoryCalendar:
    """The calendar of shared/mission/workflows.md.

    `season` is the year of the March departures (the workflows': 2025). The story's day is
    23 December of the year before: workflow 1's enquiry and hold ("Hold expires: Dec 24,
    2024 2:00 PM") and workflow 3's Pokhara trip, under way that morning. The EBC departure
    is March 15 (early bird until Jan 31, balance due Feb 28), the full Annapurna departure
    March 20 and the open one March 27. `day` moves the story's day (`tms demo load` puts it
    on the real today) without moving the departures."""

    season: int = 2025
    day: date | None = None

    @property
    def today(self) -> date:
        return self.day or date(self.season - 1, 12, 23)

    @classmethod
    def next_season(cls, today: date) -> StoryCalendar:
        """The next season whose early bird has not closed: a world that is ahead of `today`."""
        season = today.year + 1 if today > date(today.year, 1, 31) else today.year
        return cls(season=season, day=today)

    @property
    def ebc_start(self) -> date:
        return date(self.season, 3, 15)

    @property
    def ebc_later(self) -> date:
        return date(self.season, 3, 29)

    @property
    def annapurna_full(self) -> date:
        return date(self.season, 3, 20)

    @property
    def annapurna_open(self) -> date:
        return date(self.season, 3, 27)

    @property
    def pokhara(self) -> date:
        return self.today

    @property
    def next_ebc(self) -> date:
        """Workflow 4's departure: the next season's March 15 EBC, which the weather moves."""
        return date(self.season + 1, 3, 15)

    @property
    def next_ebc_moved(self) -> date:
        return date(self.season + 1, 3, 17)

    @property
    def next_ebc_later(self) -> date:
        return date(self.season + 1, 3, 29)

    def on(self, month: int, day: int) -> date:
        """A day of the season (January to November), or of the story's December."""
        return date(self.season - 1 if month == 12 else self.season, month, day)

    def at(self, day: date, hhmm: str) -> datetime:
        """`day` at `hhmm` in the operator's timezone, as UTC."""
        return local_moment(day, hhmm, get_settings())

    @property
    def morning(self) -> datetime:
        """When the world is loaded: the story's day, as the Pokhara trip starts at 08:00."""
        return self.at(self.today, "08:00")


STORY = StoryCalendar()


@dataclass
class DemoWorld:
    staff_tokens: dict[str, str] = field(default_factory=dict)
    departures: dict[str, str] = field(default_factory=dict)  # label -> departure id


def _guest_phone(n: int) -> str:
    return f"+61412{n:06d}"  # Australian mobile range: valid, clearly made up


def load(session: Session, calendar: StoryCalendar = STORY) -> DemoWorld:
    """Load the demo world into an empty database (DomainError if it is not empty), as of
    the clock's now: put the clock on `calendar.morning` first for the workflows' story."""
    if session.scalar(select(Product).limit(1)) is not None:
        raise DomainError("The database already has a catalog; the demo loads into an empty one")
    world = DemoWorld()
    for name, phone, roles in STAFF:
        # The story runs a whole season (December to April): its tokens last as long.
        _member, token = staff_service.add_staff(
            session,
            name=name,
            phone=phone,
            roles=roles,
            actor=SYSTEM,
            email=staff_email(name),
            token_days=365,
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
        itinerary=_itinerary("EBC"),
        packing_list=PACKING_TREK,
        difficulty="challenging",
        max_altitude_m=5545,  # Kala Patthar
        permits=["TIMS", "SNP", "KPLRM"],
        min_age=12,
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
        itinerary=_itinerary("ANN"),
        packing_list=PACKING_TREK,
        difficulty="challenging",
        max_altitude_m=5416,  # Thorong La
        permits=["TIMS", "ACAP"],
        min_age=12,
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
        itinerary=_itinerary("PKR"),
        packing_list=["Comfortable shoes", "Sun hat and sunscreen", "A light jacket for sunrise"],
        difficulty="easy",
        max_altitude_m=1600,
        min_age=0,
    )
    session.add_all([ebc, ann, pkr])
    session.flush()
    # The Pokhara tour's own cancellation policy: free up to 24 hours before; the Annapurna
    # Circuit's, whose departures fill and have a waitlist: the deposit's share of the price
    # back up to a week before (a freed place is likely taken); Everest follows the house
    # policy, seeded by migration 0014.
    cancellation_policy.replace_lines(
        session,
        ann,
        [
            cancellation_policy.PolicyLine(30, 100, 5000, note="all but a $50 admin fee"),
            cancellation_policy.PolicyLine(7, 30, note="the deposit's share comes back"),
            cancellation_policy.PolicyLine(0, 0, note="no refund in the last week"),
        ],
    )
    cancellation_policy.replace_lines(
        session,
        pkr,
        [
            cancellation_policy.PolicyLine(1, 100, note="free up to 24 hours before"),
            cancellation_policy.PolicyLine(0, 0, note="no refund within 24 hours"),
        ],
    )

    ebc_main = _departure(session, ebc, calendar.ebc_start, capacity=16)
    _departure(session, ebc, calendar.ebc_later, capacity=16)
    ann_full = _departure(session, ann, calendar.annapurna_full, capacity=30)
    ann_open = _departure(session, ann, calendar.annapurna_open, capacity=30)
    pkr_today = _departure(
        session,
        pkr,
        calendar.pokhara,
        capacity=20,
        meeting_point="Lakeside, Pokhara",
        meeting_time="08:00",
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
        _confirmed_booking(session, pkr_today, 3, next(guests))
    trip = trips.ensure_trip(session, pkr_today, SYSTEM)
    amit = staff_service.by_phone(session, "+9779801000004")
    assert amit is not None
    assignment = assignments.assign_staff(
        session, trip, amit, AssignmentRole.LEAD_GUIDE, 60_00, SYSTEM
    )
    assignments.respond_to_assignment(session, assignment, True, SYSTEM, notify=False)
    attendance.check_in(session, trip, amit, SYSTEM, notify=False)
    knowledge.load_defaults(session, SYSTEM)
    return world


# Workflow 4's customers on the next season's March 15 EBC departure: (name, phone, party).
NEXT_SEASON_GUESTS = [
    ("Hannah Weber", "+61412900001", 2),
    ("Tom Fischer", "+61412900002", 2),
    ("Maya Okafor", "+61412900003", 1),
]


@dataclass
class NextSeason:
    departures: dict[str, str]  # label -> departure id
    ops_token: str  # Priya's API token for this season (the first season's have run out)


def load_next_season(session: Session, calendar: StoryCalendar = STORY) -> NextSeason:
    """Workflow 4's part of the world, loaded as it starts (the clock in the next season):
    the next season's EBC departures of March 15 and March 29, three paid parties on March 15
    and Rajesh Kumar as its lead guide (accepted), and Priya's token for the season."""
    ebc = session.scalars(select(Product).where(Product.code == "EBC")).one()
    march_15 = _departure(session, ebc, calendar.next_ebc, capacity=16)
    march_29 = _departure(session, ebc, calendar.next_ebc_later, capacity=16)
    for name, phone, size in NEXT_SEASON_GUESTS:
        contact = contacts.get_or_create_contact(session, phone, name=name)
        _paid_booking(session, march_15, size, contact)
    trip = trips.ensure_trip(session, march_15, SYSTEM)
    rajesh = staff_service.by_phone(session, "+9779801000003")
    assert rajesh is not None
    assignment = assignments.assign_staff(
        session, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
    )
    assignments.respond_to_assignment(session, assignment, True, SYSTEM, notify=False)
    priya = staff_service.by_phone(session, "+9779801000002")
    assert priya is not None
    token = staff_service.issue_token(session, priya, SYSTEM, label="the next season", days=365)
    return NextSeason({"EBC next": march_15.id, "EBC next later": march_29.id}, token)


def staff_email(name: str) -> str:
    return f"{name.split()[0].lower()}@adventure-treks.example"


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


def _confirmed_booking(session: Session, departure: Departure, size: int, n: int) -> None:
    """A booking paid in full, so that only the story's own customers get balance reminders."""
    contact = contacts.get_or_create_contact(session, _guest_phone(n), name=_name(n))
    _paid_booking(session, departure, size, contact)


def _paid_booking(session: Session, departure: Departure, size: int, contact: Contact) -> None:
    booking = bookings.hold_new_booking(
        session, contact=contact, departure_id=departure.id, party_size=size, actor=SYSTEM
    )
    payments.record_payment(
        session,
        booking_id=booking.id,
        provider="demo",
        event_id=f"demo-{booking.reference}",
        amount_minor=booking.total_minor,
        currency=booking.currency,
        actor=SYSTEM,
    )
