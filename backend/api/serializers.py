"""JSON shapes of the admin API."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend import texts
from backend.domain.access import Area, may_see
from backend.models import (
    ApiToken,
    Assignment,
    Booking,
    Departure,
    InboundMessage,
    Incident,
    Lead,
    LedgerEntry,
    OutboundMessage,
    Product,
    Staff,
)
from backend.services import assignments, inventory, timeline, waitlist


def money(minor: int | None, currency: str) -> dict[str, Any] | None:
    return (
        None
        if minor is None
        else {"minor": minor, "currency": currency, "display": texts.money(minor, currency)}
    )


def api_token(item: ApiToken) -> dict[str, Any]:
    """One API token as its owner sees it: never the token, only what tells it apart."""
    return {
        "id": item.id,
        "label": item.label,
        "createdAt": item.created_at.isoformat(),
        "expiresAt": item.expires_at.isoformat(),
        "lastUsedAt": item.last_used_at.isoformat() if item.last_used_at else None,
        "revoked": item.revoked_at is not None,
    }


def staff(member: Staff | None, reader: Staff | None = None) -> dict[str, Any] | None:
    """A staff member; a `reader` outside the staff directory's area (SALES) gets the name
    only, not colleagues' phones and roles. No reader: the caller shows it to its subject or
    to ADMIN."""
    if member is None:
        return None
    full = reader is None or reader.id == member.id or may_see(reader.roles, Area.STAFF_DIRECTORY)
    return {
        "id": member.id,
        "name": member.name,
        "phone": member.phone if full else None,
        "roles": sorted(member.roles) if full else None,
        "active": member.active,
        "available": member.available,
    }


def lead(item: Lead) -> dict[str, Any]:
    return {
        "id": item.id,
        "reference": item.reference,
        "status": item.status,
        "product": item.product.code if item.product else None,
        "contact": {"phone": item.contact.phone, "name": item.contact.display_name},
        "partySize": item.party_size,
        "travelDate": item.travel_date_text,
        "details": item.details,
        "assignedTo": staff(item.assigned_staff),
        "enquiry": item.enquiry_text,
        "quote": None
        if item.quoted_total_minor is None
        else {
            "departureId": item.quoted_departure_id,
            "partySize": item.quoted_party_size,
            "pricePerPerson": money(item.quoted_price_per_person_minor, item.currency),
            "discount": money(item.quoted_discount_minor, item.currency),
            "total": money(item.quoted_total_minor, item.currency),
        },
        "createdAt": item.created_at.isoformat(),
    }


def booking(session: Session, item: Booking) -> dict[str, Any]:
    entry = waitlist.entry_of(session, item)
    hold = inventory.active_hold(session, item)
    return {
        "id": item.id,
        "reference": item.reference,
        "status": item.status,
        "paymentStatus": item.payment_status,
        "departureId": item.departure_id,
        "product": item.departure.product.code,
        "startDate": item.departure.start_date.isoformat(),
        "partySize": item.party_size,
        "contact": {"phone": item.contact.phone, "name": item.contact.display_name},
        "total": money(item.total_minor, item.currency),
        "deposit": money(item.deposit_minor, item.currency),
        "paid": money(item.paid_minor, item.currency),
        "balance": money(item.balance_minor, item.currency),
        "balanceDue": item.balance_due_date.isoformat(),
        "holdExpiresAt": hold.expires_at.isoformat() if hold else None,
        "waitlist": None
        if entry is None
        else {
            "status": entry.status,
            "offerExpiresAt": entry.offer_expires_at.isoformat()
            if entry.offer_expires_at
            else None,
            "position": waitlist.position(session, entry) if entry.status == "WAITING" else None,
        },
        "attention": item.attention_reason,
        "feedback": item.feedback,
        "feedbackRating": item.feedback_rating,
        "contactEmail": item.contact.email,
    }


def ledger_entry(item: LedgerEntry) -> dict[str, Any]:
    """One movement of money on a booking (signed: money out is negative)."""
    return {
        "id": item.id,
        "kind": item.kind,
        "method": item.method,
        "amount": money(item.amount_minor, item.currency),
        "baseAmount": money(item.base_amount_minor, item.base_currency),
        "rate": item.rate,
        "recordedAt": item.recorded_at.isoformat(),
        "recordedBy": item.recorded_by,
        "providerRef": item.provider_ref,
        "paymentId": item.payment_id,
        "note": item.note,
    }


def product(item: Product) -> dict[str, Any]:
    return {
        "id": item.id,
        "code": item.code,
        "name": item.name,
        "shortName": item.short_name,
        "aliases": item.aliases,
        "days": item.days,
        "pricePerPerson": money(item.price_per_person_minor, item.currency),
        "depositPercent": item.deposit_percent,
        "earlyBirdPercent": item.early_bird_percent,
        "earlyBirdDaysBefore": item.early_bird_days_before,
        "balanceDueDaysBefore": item.balance_due_days_before,
        "active": item.active,
    }


def departure(session: Session, item: Departure) -> dict[str, Any]:
    counts = inventory.seat_counts(session, item)
    return {
        "id": item.id,
        "product": item.product.code,
        "name": item.product.name,
        "startDate": item.start_date.isoformat(),
        "endDate": item.end_date.isoformat(),
        "capacity": counts.capacity,
        "confirmed": counts.confirmed,
        "held": counts.held,
        "offered": counts.offered,
        "waitlist": counts.waitlisted,
        "available": counts.available,
    }


def assignment(item: Assignment, reader: Staff | None = None) -> dict[str, Any]:
    """An assignment; its pay only for a `reader` in the payroll area (or its own guide)."""
    paid = reader is None or reader.id == item.staff_id or may_see(reader.roles, Area.PAYROLL)
    return {
        "id": item.id,
        "staff": staff(item.staff, reader),
        "role": item.role,
        "status": item.status,
        "compensation": money(item.compensation_minor, item.currency) if paid else None,
    }


def incident(item: Incident) -> dict[str, Any]:
    return {
        "id": item.id,
        "trip": item.trip.reference,
        "severity": item.severity,
        "status": item.status,
        "description": item.description,
        "resolution": item.resolution,
        "eta": item.eta,
        "reportedAt": item.reported_at.isoformat(),
        "acknowledgedAt": item.acknowledged_at.isoformat() if item.acknowledged_at else None,
        "resolvedAt": item.resolved_at.isoformat() if item.resolved_at else None,
        "responseMinutes": item.response_minutes,
    }


def outbound(item: OutboundMessage) -> dict[str, Any]:
    return {
        "id": item.id,
        "to": item.recipient_phone,
        "kind": item.kind,
        "body": item.shown_body,
        "template": item.template_name,
        "status": item.status,
        "errorCode": item.error_code,
        "createdAt": item.created_at.isoformat(),
    }


def inbound(item: InboundMessage) -> dict[str, Any]:
    return {
        "id": item.id,
        "wamid": item.wamid,
        "from": item.from_phone,
        "type": item.message_type,
        "text": item.text,
        "status": item.status,
        "attempts": item.attempts,
        "lastError": item.last_error,
        "storedAt": item.stored_at.isoformat(),
    }


def trip_summary(
    session: Session, item: Departure, reader: Staff | None = None
) -> dict[str, Any] | None:
    from sqlalchemy import select

    from backend.models import Trip

    trip = session.scalar(select(Trip).where(Trip.departure_id == item.id))
    if trip is None:
        return None
    return {
        "id": trip.id,
        "reference": trip.reference,
        "status": trip.status,
        "leadGuide": staff(assignments.lead_guide(session, trip), reader),
    }


def events(session: Session, items: list[Any]) -> list[dict[str, Any]]:
    """Timeline events as stored, each with the sentence staff read in the console."""
    sentences = timeline.describe(session, items)
    return [{**e.as_dict(), "sentence": sentences.get(e.id, e.action)} for e in items]
