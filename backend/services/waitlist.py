"""The waitlist: FIFO, the first party that fits the freed seats gets a time-limited offer.

Entries move WAITING → OFFERED → ACCEPTED | EXPIRED | CANCELLED. A declined offer goes back
to WAITING (the customer asked to stay on the list); an expired offer is closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import clock, i18n, texts
from backend.config import get_settings
from backend.domain import choices
from backend.domain.actor import Actor
from backend.domain.enums import BookingStatus, LeadStatus, ObjectType, WaitlistStatus
from backend.domain.errors import DomainError, NotEnoughSeats
from backend.domain.states import BOOKING, LEAD, WAITLIST
from backend.models import Booking, WaitlistEntry
from backend.services import inventory, languages, notifications, outbox
from backend.services.state import change_state, lock_row, log_created


def add_entry(session: Session, booking: Booking, actor: Actor) -> WaitlistEntry:
    entry = WaitlistEntry(
        booking_id=booking.id,
        departure_id=booking.departure_id,
        party_size=booking.party_size,
        status=WaitlistStatus.WAITING,
        joined_at=clock.now(),
    )
    session.add(entry)
    log_created(session, entry, ObjectType.WAITLIST_ENTRY, actor, booking=booking.reference)
    return entry


def entry_of(session: Session, booking: Booking) -> WaitlistEntry | None:
    return session.scalar(select(WaitlistEntry).where(WaitlistEntry.booking_id == booking.id))


def queue(session: Session, departure_id: str) -> list[WaitlistEntry]:
    """Entries still waiting, first in line first."""
    return list(
        session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.departure_id == departure_id,
                WaitlistEntry.status == WaitlistStatus.WAITING,
            )
            .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
        )
    )


def position(session: Session, entry: WaitlistEntry) -> int:
    """1-based place in line among the entries still waiting or holding an offer."""
    ahead = session.scalar(
        select(func.count()).where(
            WaitlistEntry.departure_id == entry.departure_id,
            WaitlistEntry.status.in_([WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
            WaitlistEntry.joined_at < entry.joined_at,
        )
    )
    return int(ahead or 0) + 1


def position_of(session: Session, booking: Booking) -> int | None:
    """A waitlisted booking's place in line; None when it is not waiting."""
    entry = entry_of(session, booking)
    if entry is None or booking.status != BookingStatus.WAITLISTED:
        return None
    return position(session, entry)


def offer_freed_seats(
    session: Session, departure_id: str, actor: Actor, *, exclude: Iterable[str] = ()
) -> list[WaitlistEntry]:
    """Offer whatever is free now to the queue, FIFO, skipping parties that do not fit."""
    excluded = set(exclude)
    departure = inventory.lock_departure(session, departure_id)
    if not inventory.is_open(session, departure):
        return []  # moved away or cancelled: its seats go to nobody new
    available = inventory.seat_counts(session, departure).available
    offered: list[WaitlistEntry] = []
    for entry in queue(session, departure_id):
        if available <= 0:
            break
        if entry.id in excluded or entry.party_size > available:
            continue
        offer_spot(session, entry, actor)
        available -= entry.party_size
        offered.append(entry)
    return offered


def offer_spot(session: Session, entry: WaitlistEntry, actor: Actor) -> None:
    settings = get_settings()
    now = clock.now()
    change_state(session, entry, WAITLIST, WaitlistStatus.OFFERED, actor)
    entry.offered_at = now
    entry.offer_expires_at = now + timedelta(hours=settings.waitlist_offer_hours)
    booking = entry.booking
    change_state(session, booking, BOOKING, BookingStatus.OFFERED, actor)
    answers = choices.answer_to(choices.WAITLIST_OFFER, booking.id)
    with languages.writing_to(booking.contact):
        buttons = [
            choices.reply_button(texts.CONFIRM, "affirm", answers),
            choices.reply_button(texts.DECLINE, "deny", answers),
        ]
        body = texts.spot_available(booking, hours=settings.waitlist_offer_hours)
    outbox.enqueue_buttons(
        session,
        to_phone=booking.contact.address,
        contact_id=booking.contact_id,
        buttons=buttons,
        body=body,
        purpose="waitlist_offer",
        template_params=i18n.in_each_language(
            lambda: texts.spot_available_params(booking, hours=settings.waitlist_offer_hours),
            languages.language_of(booking.contact),
        ),
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )


def accept_offer(session: Session, booking: Booking, actor: Actor) -> None:
    """CONFIRM on a live offer: the booking becomes HELD with the payment timer."""
    # The departure's lock first, then everything is re-read and re-checked under it: an
    # offer that runs out while we wait must not turn into a hold on seats given away since.
    departure = inventory.lock_departure(session, booking.departure_id)
    inventory.ensure_open(session, departure)  # an offer made before the departure was moved
    entry = entry_of(session, booking)
    if entry is not None:
        lock_row(session, entry)
    lock_row(session, booking)
    if entry is None or entry.status != WaitlistStatus.OFFERED:
        raise DomainError(f"Booking {booking.reference} has no spot on offer")
    if entry.offer_expires_at is None or entry.offer_expires_at <= clock.now():
        raise DomainError(f"The offer for {booking.reference} has expired")
    # The live offer holds its seats (counted as offered); they must still be there for it.
    counts = inventory.seat_counts(session, departure)
    if counts.available + entry.party_size < booking.party_size:
        raise NotEnoughSeats(booking.party_size, counts.available + entry.party_size)
    minutes = get_settings().waitlist_payment_minutes
    inventory.place_hold_on_offered_seats(
        session,
        booking,
        departure,
        expires_at=clock.now() + timedelta(minutes=minutes),
        actor=actor,
    )
    change_state(session, entry, WAITLIST, WaitlistStatus.ACCEPTED, actor)
    entry.closed_at = clock.now()
    change_state(session, booking, BOOKING, BookingStatus.HELD, actor, paymentMinutes=minutes)
    lead = booking.lead
    if lead is not None and lead.status in (
        LeadStatus.NEW,
        LeadStatus.CONTACTED,
        LeadStatus.QUOTED,
    ):
        change_state(session, lead, LEAD, LeadStatus.WON, actor, booking=booking.reference)
        lead.closed_at = clock.now()


def decline_offer(session: Session, booking: Booking, actor: Actor) -> None:
    """DECLINE: stay on the waitlist; the seats go to the next party in line."""
    entry = entry_of(session, booking)
    if entry is None or entry.status != WaitlistStatus.OFFERED:
        raise DomainError(f"Booking {booking.reference} has no spot on offer")
    change_state(session, entry, WAITLIST, WaitlistStatus.WAITING, actor, reason="declined")
    entry.offered_at = entry.offer_expires_at = None
    change_state(session, booking, BOOKING, BookingStatus.WAITLISTED, actor, reason="declined")
    offer_freed_seats(session, booking.departure_id, actor, exclude=[entry.id])


def expire_offer(
    session: Session, entry: WaitlistEntry, actor: Actor, *, notify: bool = True
) -> bool:
    """Close an offer whose window passed, tell the customer, and pass the seats on to the
    next in line; False if nothing to do (accepted, declined, cancelled, not yet due)."""
    if entry.status != WaitlistStatus.OFFERED or (
        entry.offer_expires_at is not None and entry.offer_expires_at > clock.now()
    ):
        return False
    change_state(session, entry, WAITLIST, WaitlistStatus.EXPIRED, actor)
    entry.closed_at = clock.now()
    booking = entry.booking
    change_state(session, booking, BOOKING, BookingStatus.EXPIRED, actor, reason="offer expired")
    if notify:
        notifications.to_contact(
            session,
            booking.contact,
            lambda: texts.offer_expired(booking),
            purpose="offer_expired",
            object_type=ObjectType.BOOKING,
            object_id=booking.id,
        )
    offer_freed_seats(session, entry.departure_id, actor, exclude=[entry.id])
    return True
