"""The e-mails the product sends, each queued once: the booking confirmation (workflow 1 step
4: itinerary, amounts, due date, the balance's pay link, the pre-trek guide attached) and the
trip details to a guide who accepted an assignment (workflow 1 step 6).

The confirmation is written in the customer's language (`languages.writing_to`: subject,
body, dates; the words are the `pages` catalogue's, `backend/templates/mail/`); the guide's
e-mail is staff's, in English whatever language the turn that caused it spoke."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import i18n, links, pre_trek_guide, rendering, texts
from backend.domain import languages as spoken
from backend.domain.actor import Actor
from backend.domain.enums import AssignmentRole, BookingStatus, ObjectType
from backend.i18n import pages_gettext as _
from backend.models import Assignment, Booking, Departure, OutboundEmail
from backend.services import languages, mail_outbox
from backend.texts.format import day_month
from backend.texts.treks import trek_texts

PRE_TREK_GUIDE = "pre_trek_guide"

ROLE_LABELS = {
    AssignmentRole.LEAD_GUIDE: "Lead Guide",
    AssignmentRole.ASSISTANT_GUIDE: "Assistant Guide",
    AssignmentRole.PORTER: "Porter",
}


def confirmation_key(booking: Booking) -> str:
    return f"booking_confirmation:{booking.id}"


def confirmation_queued(session: Session, booking: Booking) -> bool:
    return (
        session.scalar(
            select(OutboundEmail.id).where(OutboundEmail.dedupe_key == confirmation_key(booking))
        )
        is not None
    )


def booking_confirmation(session: Session, booking: Booking, actor: Actor) -> OutboundEmail | None:
    """Queue the confirmation to the customer's e-mail; None without an address (the chat asks
    for one) or when it was queued before."""
    contact = booking.contact
    if not contact.email:
        return None
    departure = booking.departure
    names = (contact.name or contact.profile_name or "").split()
    with languages.writing_to(contact):
        composed = mail_outbox.compose(
            "booking_confirmation",
            name=names[0] if names else None,
            booking=booking,
            product=departure.product,
            trek=trek_texts(departure.product),
            departure=departure,
            dates=texts.date_range(departure.start_date, departure.end_date),
            meeting=_meeting(departure),
            pay_url=links.pay_url(booking.ref_key, "balance") if booking.balance_minor else None,
        )
    return mail_outbox.enqueue(
        session,
        dedupe_key=confirmation_key(booking),
        purpose="booking_confirmation",
        recipient=contact.email,
        composed=composed,
        actor=actor,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        attachments=[{"kind": PRE_TREK_GUIDE, "booking_id": booking.id}],
        contact_id=contact.id,
    )


def assignment_details(
    session: Session, assignment: Assignment, actor: Actor
) -> OutboundEmail | None:
    """Queue the trip's details to a guide who accepted; None without an address."""
    member = assignment.staff
    if not member.email:
        return None
    trip = assignment.trip
    departure = trip.departure
    group = int(
        session.scalar(
            select(func.coalesce(func.sum(Booking.party_size), 0)).where(
                Booking.departure_id == departure.id,
                Booking.status.in_([BookingStatus.CONFIRMED, BookingStatus.COMPLETED]),
            )
        )
        or 0
    )
    with i18n.speaking(spoken.ENGLISH):  # staff read English (the guide may write German)
        composed = _assignment_details(assignment, member.name, group)
    return mail_outbox.enqueue(
        session,
        dedupe_key=f"assignment_details:{assignment.id}",
        purpose="assignment_details",
        recipient=member.email,
        composed=composed,
        actor=actor,
        object_type=ObjectType.ASSIGNMENT,
        object_id=assignment.id,
        attachments=[{"kind": PRE_TREK_GUIDE, "departure_id": departure.id}],
        staff_id=member.id,
    )


def _assignment_details(assignment: Assignment, name: str, group: int) -> mail_outbox.Composed:
    trip = assignment.trip
    departure = trip.departure
    return mail_outbox.compose(
        "assignment_details",
        name=name.split()[0],
        trip=trip,
        product=departure.product,
        departure=departure,
        dates=texts.date_range(departure.start_date, departure.end_date),
        meeting=_meeting(departure),
        role=ROLE_LABELS.get(AssignmentRole(assignment.role), assignment.role),
        # Only the trip's lead guide records a guest's cash (backend/services/cash.py).
        records_cash=assignment.role == AssignmentRole.LEAD_GUIDE,
        group=group,
        compensation=texts.money(assignment.compensation_minor, assignment.currency),
    )


def _meeting(departure: Departure) -> str:
    """`March 15 at 7:00 AM`, `15. März um 07:00 Uhr`, in the language spoken now."""
    start = departure.start_date
    return _("%(day)s at %(time)s") % {
        "day": day_month(start),
        "time": rendering.meeting_time(start, departure.meeting_time),
    }


def attachment_files(session: Session, row: OutboundEmail) -> list[tuple[str, bytes]]:
    """The files an e-mail carries, generated from today's data when it is sent."""
    files: list[tuple[str, bytes]] = []
    for attachment in row.attachments:
        if attachment.get("kind") != PRE_TREK_GUIDE:
            continue
        booking = (
            session.get(Booking, attachment["booking_id"]) if attachment.get("booking_id") else None
        )
        departure = (
            booking.departure
            if booking is not None
            else session.get(Departure, attachment.get("departure_id") or "")
        )
        if departure is None:
            continue
        # The customer's guide in their language (the guide's copy of a trip: English).
        reader = languages.language_of(booking.contact) if booking is not None else None
        with i18n.speaking(reader):
            guide = pre_trek_guide.pre_trek_guide(departure, booking)
        files.append((pre_trek_guide.guide_filename(departure), guide))
    return files
