"""Small builders for test data, created through the services where a service exists."""

from __future__ import annotations

import re
from datetime import date, timedelta
from itertools import count

from sqlalchemy.orm import Session

from backend import links
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.links import LinkClaims
from backend.models import Booking, Contact, Departure, Product, Staff
from backend.services import bookings, contacts, payments
from backend.services import staff as staff_service

_numbers = count(1)


def ebc(session: Session) -> Product:
    product = Product(
        code="EBC",
        name="Everest Base Camp Trek",
        short_name="EBC",
        aliases=["everest base camp", "everest bc"],
        days=14,
        price_per_person_minor=2_400_00,
        currency="USD",
        deposit_percent=30,
        early_bird_percent=5,
        early_bird_days_before=43,
        balance_due_days_before=15,
        inclusions=["All permits & fees"],
    )
    session.add(product)
    session.flush()
    return product


def departure(
    session: Session, product: Product, start: date = date(2025, 3, 15), capacity: int = 16
) -> Departure:
    dep = Departure(
        product_id=product.id,
        start_date=start,
        end_date=start + timedelta(days=product.days - 1),
        capacity=capacity,
    )
    dep.product = product
    session.add(dep)
    session.flush()
    return dep


def contact(session: Session, phone: str | None = None, name: str | None = None) -> Contact:
    return contacts.get_or_create_contact(
        session, phone or f"+61412{next(_numbers):06d}", name=name or "Test Customer"
    )


def staff(session: Session, name: str, role: Role, phone: str | None = None) -> Staff:
    member, _token = staff_service.add_staff(
        session,
        name=name,
        phone=phone or f"+97798010{next(_numbers):05d}",
        roles=[role],
        actor=SYSTEM,
    )
    return member


def confirmed_booking(session: Session, dep: Departure, size: int) -> Booking:
    booking = bookings.hold_new_booking(
        session, contact=contact(session), departure_id=dep.id, party_size=size, actor=SYSTEM
    )
    payments.record_payment(
        session,
        booking_id=booking.id,
        provider="test",
        event_id=f"evt-{booking.id}",
        amount_minor=booking.deposit_minor,
        currency=booking.currency,
        actor=SYSTEM,
    )
    return booking


def link_in(text: str, purpose: str) -> LinkClaims:
    """The signed `purpose` link in a message, read back (it must be one of ours)."""
    found = re.search(rf"https?://\S+?/{purpose}/([A-Za-z0-9_.\-]+)", text)
    assert found, f"no {purpose} link in {text!r}"
    return links.read(purpose, found.group(1))
