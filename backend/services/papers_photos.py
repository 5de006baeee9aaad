"""Travellers' photos sent in the chat ("a photo of each passport's photo page"): each is filed
on the next traveller of the customer's booking who lacks one, and the customer is told whose.

The photo's bytes come later, from the media fetcher (`backend/whatsapp/media.py`), which hands
them to `claim_stored` before anything touches the disk: a passport never lies in the media
folder in the clear, it goes straight into the traveller file, sealed. Until then the photo is
reserved on its traveller (`Traveller.<kind>_media_id`), so two photos sent together go to two
travellers.

Which photo is which: the caption decides ("passport", "selfie", "portrait"); a caption about
paying, or a booking still awaiting money by transfer, leaves the photo to the payment
receipts (`payment_proofs.chat_receipt_booking`); without a caption a photo is a passport page
while a traveller lacks one, then a portrait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.domain import travellers as rules
from backend.domain.actor import Actor
from backend.domain.enums import BookingStatus, ObjectType, Source
from backend.domain.whatsapp_ids import is_bsuid
from backend.models import Booking, Contact, InboundMessage, MediaAttachment, Traveller
from backend.services import contacts, media, notifications, payment_proofs, travellers
from backend.services import staff as staff_service

_PASSPORT = re.compile(r"\bpassports?\b|\bphoto ?page\b", re.IGNORECASE)
_PORTRAIT = re.compile(r"\b(portrait|selfie|face|headshot|passport[- ]size)\b", re.IGNORECASE)
_PAYING = re.compile(r"\b(receipt|paid|payment|transfer|deposit|balance)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Target:
    booking: Booking
    kind: str  # passport_photo | portrait_photo


def _caption(row: InboundMessage) -> str:
    content = (row.payload or {}).get(row.message_type) or {}
    caption = content.get("caption") if isinstance(content, dict) else None
    return caption if isinstance(caption, str) else ""


def _booking_wanting_photos(session: Session, contact: Contact) -> Booking | None:
    """The customer's next confirmed trip whose papers are open and still lack a photo."""
    today = clock.local_today()
    for booking in session.scalars(
        select(Booking)
        .where(Booking.contact_id == contact.id, Booking.status == BookingStatus.CONFIRMED)
        .order_by(Booking.created_at)
    ):
        if booking.departure.start_date <= today:
            continue
        rows = travellers.ensure(session, booking)
        if any(_lacks(t, kind) for t in rows for kind in rules.PHOTOS):
            return booking
    return None


def _lacks(traveller: Traveller, kind: str) -> bool:
    return (
        traveller.locked_at is None
        and traveller.purged_at is None
        and getattr(traveller, f"{kind}_key") is None
        and getattr(traveller, f"{kind}_media_id") is None
    )


def target_of(session: Session, row: InboundMessage, contact: Contact) -> Target | None:
    """Where this photo goes in the traveller file, or None (not a traveller's photo)."""
    if row.message_type != "image" or staff_service.by_phone(session, contact.phone):
        return None
    caption = _caption(row)
    if _PAYING.search(caption) and not _PASSPORT.search(caption):
        return None
    booking = _booking_wanting_photos(session, contact)
    if booking is None:
        return None
    if not caption and payment_proofs.chat_receipt_booking(session, row, contact) is not None:
        return None  # money is awaited: an uncaptioned photo is most likely the receipt
    rows = travellers.ensure(session, booking)
    wanted = ["portrait_photo"] if _PORTRAIT.search(caption) else list(rules.PHOTOS)
    for kind in wanted:
        if any(_lacks(t, kind) for t in rows):
            return Target(booking, kind)
    return None


def reserve(session: Session, row: InboundMessage, contact: Contact, actor: Actor) -> str | None:
    """Keep the photo (its bytes to come), reserve it on the next traveller lacking one; the
    reply for the customer (None: not a traveller's photo after all)."""
    target = target_of(session, row, contact)
    if target is None:
        return None
    filed = media.receive(session, row, contact)
    if filed is None:
        return None
    traveller = next(
        t for t in travellers.ensure(session, target.booking) if _lacks(t, target.kind)
    )
    setattr(traveller, f"{target.kind}_media_id", filed.attachment.id)
    session.flush()
    who = traveller.full_name or f"traveller {traveller.position}"
    return texts.papers_photo_received(target.booking, who, rules.PHOTOS[target.kind])


def claim_stored(session: Session, attachment: MediaAttachment, content: bytes) -> bool:
    """The media fetcher has the bytes of `attachment`: when a traveller awaits them, seal them
    into the traveller file (True: the fetcher must not keep them in the clear)."""
    traveller = session.scalar(
        select(Traveller).where(
            or_(
                Traveller.passport_photo_media_id == attachment.id,
                Traveller.portrait_photo_media_id == attachment.id,
            )
        )
    )
    if traveller is None:
        return False
    kind = next(k for k in rules.PHOTOS if getattr(traveller, f"{k}_media_id") == attachment.id)
    setattr(traveller, f"{kind}_media_id", None)
    booking = session.get(Booking, traveller.booking_id)
    assert booking is not None
    # The actor is known by a phone; a username customer's address is their BSUID.
    actor = Actor(
        Source.WHATSAPP, phone=None if is_bsuid(attachment.from_phone) else attachment.from_phone
    )
    try:
        travellers.file_photo(
            session, booking, kind, content, actor, position=traveller.position, source="chat"
        )
    except (travellers.PapersRefused, travellers.PapersLocked) as exc:
        contact = contacts.find_contact(session, attachment.from_phone)
        reason = str(exc)
        if contact is not None:
            notifications.to_contact(
                session,
                contact,
                lambda: texts.papers_photo_refused(reason),
                purpose="reply",
                object_type=ObjectType.BOOKING,
                object_id=booking.id,
            )
    return True
