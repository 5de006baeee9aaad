"""The catalog: products by code, name or alias, and their departures."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import Actor
from backend.domain.comparisons import DIFFICULTY_RANK
from backend.domain.enums import ObjectType
from backend.domain.errors import DomainError, NotFound
from backend.models import Booking, Departure, Product
from backend.services import inventory, timeline


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def find_product(session: Session, text: str) -> Product | None:
    """By code (`EBC`), name (`Everest Base Camp Trek`) or alias (`everest bc`), any case."""
    wanted = _norm(text)
    if not wanted:
        return None
    for product in session.scalars(select(Product).where(Product.active.is_(True))):
        names = {product.code.lower(), _norm(product.name), _norm(product.short_name)}
        names |= {_norm(a) for a in product.aliases}
        if wanted in names:
            return product
    return None


def get_product(session: Session, code: str) -> Product:
    product = session.scalar(select(Product).where(Product.code == code.upper()))
    if product is None:
        raise NotFound(f"No product with code {code}")
    return product


def departures_of(
    session: Session, product: Product, *, from_date: date | None = None
) -> list[Departure]:
    query = select(Departure).where(Departure.product_id == product.id)
    if from_date:
        query = query.where(Departure.start_date >= from_date)
    return list(session.scalars(query.order_by(Departure.start_date)))


def open_departures_of(
    session: Session, product: Product, *, from_date: date | None = None
) -> list[Departure]:
    """The departures a customer may choose: those operations have not moved away or
    cancelled (`inventory.closed_reason`, the one rule)."""
    return [
        departure
        for departure in departures_of(session, product, from_date=from_date)
        if inventory.is_open(session, departure)
    ]


def all_departures(session: Session, *, from_date: date | None = None) -> list[Departure]:
    query = select(Departure).join(Product)
    if from_date:
        query = query.where(Departure.end_date >= from_date)
    return list(session.scalars(query.order_by(Departure.start_date, Product.code)))


def active_products(session: Session) -> list[Product]:
    return list(
        session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.name))
    )


def departures_in_window(
    session: Session, product: Product, start: date, end: date
) -> list[Departure]:
    query = select(Departure).where(
        Departure.product_id == product.id,
        Departure.start_date >= start,
        Departure.start_date <= end,
    )
    return list(session.scalars(query.order_by(Departure.start_date)))


def departure_on(session: Session, product: Product, day: date) -> Departure | None:
    return session.scalar(
        select(Departure).where(Departure.product_id == product.id, Departure.start_date == day)
    )


def _mentions(session: Session, text: str) -> list[tuple[int, int, Product]]:
    """(where, how long, product) for each active product's name a sentence mentions."""
    wanted = f" {_norm(text)} "
    found: list[tuple[int, int, Product]] = []
    for product in session.scalars(select(Product).where(Product.active.is_(True))):
        for name in {product.code.lower(), _norm(product.name), _norm(product.short_name)} | {
            _norm(a) for a in product.aliases
        }:
            if name and f" {name} " in wanted:
                found.append((wanted.index(f" {name} "), len(name), product))
    return found


def find_product_in_text(session: Session, text: str) -> Product | None:
    """The product a free sentence mentions ("the everest one please" → EBC), longest name first."""
    found = _mentions(session, text)
    return max(found, key=lambda m: m[1])[2] if found else None


def products_in_text(session: Session, text: str) -> list[Product]:
    """Every product a sentence mentions, in the order it names them ("EBC or Annapurna")."""
    ordered: list[Product] = []
    for _, _, product in sorted(_mentions(session, text), key=lambda m: (m[0], -m[1])):
        if product not in ordered:
            ordered.append(product)
    return ordered


@dataclass(frozen=True)
class TrekFacts:
    """What a comparison reads of a trek: the catalogue's data and its season ahead."""

    product: Product
    difficulty_rank: int
    months: list[int]  # the months its departures start in, from today on, in calendar order


def facts_of(session: Session, products: list[Product], today: date) -> list[TrekFacts]:
    return [
        TrekFacts(
            product,
            DIFFICULTY_RANK.get(product.difficulty, 1),
            sorted(
                {d.start_date.month for d in open_departures_of(session, product, from_date=today)}
            ),
        )
        for product in products
    ]


# -- administration: products and departures (ADMIN) -----------------------------------------
PRODUCT_FIELDS = (
    "name",
    "short_name",
    "aliases",
    "days",
    "price_per_person_minor",
    "currency",
    "deposit_percent",
    "early_bird_percent",
    "early_bird_days_before",
    "balance_due_days_before",
    "active",
)
DEPARTURE_FIELDS = ("capacity", "meeting_point", "meeting_time", "start_date")
_CODE = re.compile(r"^[A-Z]{2,8}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _check_product(product: Product) -> None:
    problems = []
    if not product.name.strip() or not product.short_name.strip():
        problems.append("a name and a short name are required")
    if len(product.name) > 120 or len(product.short_name) > 60:
        problems.append("the name takes at most 120 characters, the short name 60")
    if not 1 <= product.days <= 60:
        problems.append("days must be between 1 and 60")
    if product.price_per_person_minor < 0:
        problems.append("the price cannot be negative")
    if not 0 <= product.deposit_percent <= 100:
        problems.append("the deposit is a percentage (0-100)")
    if not 0 <= product.early_bird_percent <= 50:
        problems.append("the early-bird discount is 0-50 %")
    if product.early_bird_percent and product.early_bird_days_before < 1:
        problems.append("an early-bird discount needs the days before departure it ends")
    if not 0 <= product.balance_due_days_before <= 365:
        problems.append("the balance is due 0-365 days before departure")
    if len(product.currency) != 3 or not product.currency.isalpha():
        problems.append("the currency is a 3-letter code (USD)")
    if problems:
        raise DomainError("; ".join(problems))


def _changes(obj: object, fields: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for name, value in values.items():
        if name not in fields:
            raise DomainError(f"{name} cannot be changed here")
        before = getattr(obj, name)
        if value is not None and value != before:
            setattr(obj, name, value)
            changed[name] = {"from": _plain(before), "to": _plain(value)}
    return changed


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def create_product(session: Session, *, code: str, actor: Actor, **values: Any) -> Product:
    code = code.strip().upper()
    if not _CODE.match(code):
        raise DomainError("A product code is 2-8 letters (EBC)")
    if session.scalar(select(Product).where(Product.code == code)):
        raise DomainError(f"A product with code {code} already exists")
    values.setdefault("short_name", str(values.get("name", ""))[:60])
    values["aliases"] = [a.strip().lower() for a in values.get("aliases") or [] if a.strip()]
    values["currency"] = str(values.get("currency") or "USD").upper()
    product = Product(code=code, **{k: v for k, v in values.items() if v is not None})
    session.add(product)
    session.flush()  # the column defaults, then the rules (a refusal rolls it all back)
    _check_product(product)
    timeline.record(
        session,
        object_type=ObjectType.PRODUCT,
        object_id=product.id,
        event_type="CREATED",
        action="tms.product.created",
        actor=actor,
        content={"code": code, **{k: _plain(v) for k, v in values.items()}},
    )
    return product


def update_product(
    session: Session, product: Product, actor: Actor, **values: Any
) -> dict[str, Any]:
    """Change a product's fields; quotes already sent and bookings keep their prices."""
    if values.get("aliases") is not None:
        values["aliases"] = [a.strip().lower() for a in values["aliases"] if a.strip()]
    if values.get("currency") is not None:
        values["currency"] = str(values["currency"]).upper()
    changed = _changes(product, PRODUCT_FIELDS, values)
    _check_product(product)
    if "days" in changed:
        # Departures still ahead end on the new day count; the past stays as it was.
        today = clock.local_today()
        for departure in departures_of(session, product, from_date=today):
            departure.end_date = departure.start_date + timedelta(days=product.days - 1)
    if changed:
        timeline.record(
            session,
            object_type=ObjectType.PRODUCT,
            object_id=product.id,
            event_type="CHANGED",
            action="tms.product.changed",
            actor=actor,
            content=changed,
        )
    return changed


def _check_start(start: date) -> None:
    if not 2000 <= start.year <= 2100:
        raise DomainError("A departure starts between the years 2000 and 2100")


def create_departure(
    session: Session,
    product: Product,
    *,
    start_date: date,
    capacity: int,
    actor: Actor,
    meeting_point: str | None = None,
    meeting_time: str | None = None,
) -> Departure:
    if capacity < 1 or capacity > 500:
        raise DomainError("Capacity must be between 1 and 500")
    _check_start(start_date)
    if meeting_time and not _TIME.match(meeting_time):
        raise DomainError("The meeting time is written 06:00")
    if session.scalar(
        select(Departure).where(
            Departure.product_id == product.id, Departure.start_date == start_date
        )
    ):
        raise DomainError(f"{product.code} already departs on {start_date.isoformat()}")
    departure = Departure(
        product_id=product.id,
        start_date=start_date,
        end_date=start_date + timedelta(days=product.days - 1),
        capacity=capacity,
    )
    if meeting_point:
        departure.meeting_point = meeting_point.strip()
    if meeting_time:
        departure.meeting_time = meeting_time
    session.add(departure)
    session.flush()
    timeline.record(
        session,
        object_type=ObjectType.DEPARTURE,
        object_id=departure.id,
        event_type="CREATED",
        action="tms.departure.created",
        actor=actor,
        content={
            "product": product.code,
            "startDate": start_date.isoformat(),
            "capacity": capacity,
            "meetingPoint": departure.meeting_point,
            "meetingTime": departure.meeting_time,
        },
    )
    return departure


def update_departure(
    session: Session, departure: Departure, actor: Actor, **values: Any
) -> dict[str, Any]:
    """Capacity never below the seats already taken, held or offered; the dates only move
    while nobody is booked on it."""
    locked = inventory.lock_departure(session, departure.id)
    counts = inventory.seat_counts(session, locked)
    capacity = values.get("capacity")
    if capacity is not None:
        taken = counts.confirmed + counts.held + counts.offered
        if capacity < taken or capacity > 500:
            raise DomainError(
                f"Capacity can go down to {taken} (seats confirmed, held or offered), up to 500"
            )
    if values.get("meeting_time") and not _TIME.match(values["meeting_time"]):
        raise DomainError("The meeting time is written 06:00")
    start = values.get("start_date")
    if start is not None:
        _check_start(start)
    if start is not None and start != locked.start_date:
        booked = session.scalar(
            select(Booking.id).where(Booking.departure_id == locked.id).limit(1)
        )
        if booked:
            raise DomainError("The dates cannot move: the departure has bookings")
        if session.scalar(
            select(Departure.id).where(
                Departure.product_id == locked.product_id, Departure.start_date == start
            )
        ):
            raise DomainError(f"{locked.product.code} already departs on {start.isoformat()}")
    changed = _changes(locked, DEPARTURE_FIELDS, values)
    if "start_date" in changed:
        locked.end_date = locked.start_date + timedelta(days=locked.product.days - 1)
    if changed:
        timeline.record(
            session,
            object_type=ObjectType.DEPARTURE,
            object_id=locked.id,
            event_type="CHANGED",
            action="tms.departure.changed",
            actor=actor,
            content=changed,
        )
    return changed
