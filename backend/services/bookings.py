"""Bookings: creating them held or waitlisted, finding, cancelling, expiring, completing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain import references
from backend.domain.actor import Actor
from backend.domain.enums import (
    BookingStatus,
    HoldStatus,
    ObjectType,
    PaymentStatus,
    RefundStatus,
    WaitlistStatus,
)
from backend.domain.errors import DomainError, NotFound
from backend.domain.money import Money, Quote, quote_price
from backend.domain.states import BOOKING, OPEN_BOOKING_STATES, SEAT_TAKING_BOOKING_STATES, WAITLIST
from backend.models import Booking, Contact, Departure, Lead, WaitlistEntry
from backend.services import inventory, notifications, refunds, timeline, waitlist
from backend.services import references as refs
from backend.services.state import change_state, lock_for_change, log_created


def price_for(
    departure: Departure,
    party_size: int,
    *,
    booked_on: datetime | None = None,
    price_per_person_minor: int | None = None,
    discount_minor: int | None = None,
) -> Quote:
    """The product's pricing rules for a party on a departure; a rep may set the price per
    person or the discount instead (a set discount replaces the early-bird rule)."""
    product = departure.product
    if discount_minor is not None:
        price = (
            product.price_per_person_minor
            if price_per_person_minor is None
            else price_per_person_minor
        )
        if discount_minor > price * party_size:
            raise DomainError("The discount cannot be more than the price of the party")
    return quote_price(
        price_per_person=Money(
            product.price_per_person_minor
            if price_per_person_minor is None
            else price_per_person_minor,
            product.currency,
        ),
        party_size=party_size,
        departure_start=departure.start_date,
        booked_on=(booked_on or clock.now()).astimezone(get_settings().tz).date(),
        deposit_percent=product.deposit_percent,
        early_bird_percent=product.early_bird_percent,
        early_bird_days_before=product.early_bird_days_before,
        balance_due_days_before=product.balance_due_days_before,
        discount_override=None
        if discount_minor is None
        else Money(discount_minor, product.currency),
    )


def _new_booking(
    session: Session,
    *,
    contact: Contact,
    departure: Departure,
    party_size: int,
    status: BookingStatus,
    quote: Quote,
    lead: Lead | None,
    actor: Actor,
) -> Booking:
    if lead is not None:
        reference = references.booking_reference_for_lead(lead.reference)
    else:
        prefix, seq = refs.allocate(session, departure.product.code)
        reference = references.booking_reference(prefix, seq)
    booking = Booking(
        reference=reference,
        ref_key=references.reference_key(reference),
        lead_id=lead.id if lead else None,
        contact_id=contact.id,
        departure_id=departure.id,
        party_size=party_size,
        status=status,
        payment_status=PaymentStatus.UNPAID,
        currency=quote.total.currency,
        price_per_person_minor=quote.price_per_person.minor,
        discount_minor=quote.discount.minor,
        total_minor=quote.total.minor,
        deposit_minor=quote.deposit.minor,
        balance_due_date=quote.balance_due,
    )
    session.add(booking)
    log_created(
        session,
        booking,
        ObjectType.BOOKING,
        actor,
        reference=reference,
        status=str(status),
        departure=departure.start_date.isoformat(),
        product=departure.product.code,
        partySize=party_size,
        total=quote.total.format(),
    )
    return booking


def hold_new_booking(
    session: Session,
    *,
    contact: Contact,
    departure_id: str,
    party_size: int,
    actor: Actor,
    lead: Lead | None = None,
    quote: Quote | None = None,
    hold_for: timedelta | None = None,
) -> Booking:
    """Lock the departure, re-check, then create a HELD booking with its hold.

    Raises NotEnoughSeats (nothing written) when the seats are not there, DepartureClosed
    when operations moved the departure away or cancelled it.
    """
    departure = inventory.lock_departure(session, departure_id)
    inventory.ensure_open(session, departure)
    inventory.ensure_available(session, departure, party_size)
    quote = quote or price_for(departure, party_size)
    booking = _new_booking(
        session,
        contact=contact,
        departure=departure,
        party_size=party_size,
        status=BookingStatus.HELD,
        quote=quote,
        lead=lead,
        actor=actor,
    )
    expires_at = clock.now() + (hold_for or timedelta(hours=get_settings().hold_hours))
    inventory._add_hold(session, booking, departure, expires_at, actor)
    return booking


def waitlist_new_booking(
    session: Session,
    *,
    contact: Contact,
    departure: Departure,
    party_size: int,
    actor: Actor,
    lead: Lead | None = None,
) -> tuple[Booking, WaitlistEntry]:
    """A WAITLISTED booking and its place in line; DepartureClosed (nothing written) when
    operations moved the departure away or cancelled it."""
    inventory.ensure_open(session, inventory.lock_departure(session, departure.id))
    booking = _new_booking(
        session,
        contact=contact,
        departure=departure,
        party_size=party_size,
        status=BookingStatus.WAITLISTED,
        quote=price_for(departure, party_size),
        lead=lead,
        actor=actor,
    )
    entry = waitlist.add_entry(session, booking, actor)
    return booking, entry


def find_booking(session: Session, reference: str) -> Booking:
    references.parse_reference(reference)  # InvalidReference names the right format
    booking = session.scalar(
        select(Booking).where(Booking.ref_key == references.reference_key(reference))
    )
    if booking is None:
        raise NotFound(f"No booking {reference}")
    return booking


def get_booking(session: Session, booking_id: str) -> Booking:
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(f"No booking {booking_id}")
    return booking


def bookings_of_contact(session: Session, contact: Contact) -> list[Booking]:
    return list(
        session.scalars(
            select(Booking)
            .where(Booking.contact_id == contact.id)
            .order_by(Booking.created_at.desc())
        )
    )


def open_booking_on(session: Session, contact: Contact, departure: Departure) -> Booking | None:
    """The contact's open booking on this departure, if any (a repeated tap finds it)."""
    return next(
        (
            b
            for b in bookings_of_contact(session, contact)
            if b.departure_id == departure.id and b.status in OPEN_BOOKING_STATES
        ),
        None,
    )


def cancel_booking(session: Session, booking: Booking, actor: Actor, *, reason: str = "") -> int:
    """Cancel an open booking and hand any seats it had to the waitlist. Money already paid
    opens a Refund for what the cancellation policy gives back (`refunds.current(booking)`;
    the caller asks the customer to choose: `refunds.offer_choice`).

    The booking's row is locked and re-read first: if it changed since the caller read it (a
    payment confirmed it a moment ago), ConcurrentChange: nothing is cancelled and the caller
    looks again. Returns the number of seats freed.
    """
    # The departure's lock first (the order every seat-moving path takes), then the booking's.
    inventory.lock_departure(session, booking.departure_id)
    lock_for_change(session, booking, BOOKING)
    took_seats = str(booking.status) in {str(s) for s in SEAT_TAKING_BOOKING_STATES}
    change_state(session, booking, BOOKING, BookingStatus.CANCELLED, actor, reason=reason)
    booking.closed_at = clock.now()
    if booking.paid_minor:
        # What comes back, by the policy: a Refund the customer turns into money or credit.
        refunds.open_after_cancellation(session, booking, actor)
    freed = booking.party_size if took_seats else 0
    hold = inventory.active_hold(session, booking)
    if hold is not None:
        if hold.expires_at > clock.now():
            freed = hold.seats
        inventory.close_hold(session, hold, HoldStatus.RELEASED, actor)
    entry = waitlist.entry_of(session, booking)
    if entry is not None and entry.status in (WaitlistStatus.WAITING, WaitlistStatus.OFFERED):
        if entry.status == WaitlistStatus.OFFERED:
            freed = entry.party_size
        change_state(session, entry, WAITLIST, WaitlistStatus.CANCELLED, actor)
        entry.closed_at = clock.now()
    if freed:
        waitlist.offer_freed_seats(session, booking.departure_id, actor)
    return freed


def cancel_by_staff(
    session: Session, booking: Booking, actor: Actor, *, reason: str, notify_customer: bool
) -> int:
    """Staff cancel (admin API or console): the seats go to the waitlist and, when asked, the
    customer is told on WhatsApp. Returns the seats freed."""
    freed = cancel_booking(session, booking, actor, reason=reason)
    if notify_customer:
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.cancelled(booking),
            purpose="customer_update",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
        refund = refunds.current(session, booking)
        if refund is not None and refund.status == RefundStatus.AWAITING_CHOICE:
            refunds.offer_choice(session, refund)
        elif (nothing := refunds.nothing_back(session, booking)) is not None:
            notifications.to_contact(
                session,
                booking.contact,
                nothing,
                purpose="customer_update",
                object_type=ObjectType.BOOKING,
                object_id=booking.id,
            )
    return freed


def expire_hold(session: Session, booking: Booking, actor: Actor, *, notify: bool = True) -> bool:
    """Expire a HELD booking whose hold ran out: seats released, the customer told, the
    waitlist offered the seats. A no-op (False) if the world moved on (paid, cancelled)."""
    if booking.status != BookingStatus.HELD:
        return False
    hold = inventory.active_hold(session, booking)
    if hold is None or hold.expires_at > clock.now():
        return False
    inventory.close_hold(session, hold, HoldStatus.EXPIRED, actor)
    change_state(session, booking, BOOKING, BookingStatus.EXPIRED, actor, reason="hold expired")
    booking.closed_at = clock.now()
    if notify:
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.hold_expired(booking),
            purpose="hold_expired",
            template_params=lambda: texts.hold_expired_params(booking),
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    waitlist.offer_freed_seats(session, booking.departure_id, actor)
    return True


def complete_booking(session: Session, booking: Booking, actor: Actor) -> None:
    change_state(session, booking, BOOKING, BookingStatus.COMPLETED, actor)
    booking.closed_at = clock.now()


def record_feedback(session: Session, booking: Booking, text: str, actor: Actor) -> None:
    if not text.strip():
        raise DomainError("Feedback is empty")
    booking.feedback = (booking.feedback + "\n\n" if booking.feedback else "") + text.strip()
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="FEEDBACK",
        action="tms.booking.feedback",
        actor=actor,
        content={"text": text.strip()},
    )
