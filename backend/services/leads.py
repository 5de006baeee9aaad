"""Leads: an enquiry becomes a lead with a rep, gets quoted, and is won by a hold or lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import get_settings
from backend.domain import choices, references
from backend.domain.actor import Actor
from backend.domain.enums import LeadStatus, ObjectType, Source, TimerKind
from backend.domain.errors import DomainError, NotFound
from backend.domain.money import Quote
from backend.domain.states import LEAD
from backend.domain.timeline_actions import Audience
from backend.models import Booking, Contact, Conversation, Departure, Lead, Product, Staff
from backend.services import (
    bookings,
    contacts,
    inventory,
    languages,
    notifications,
    rates,
    routing,
    timeline,
    timers,
    waitlist,
)
from backend.services import references as refs
from backend.services import staff as staff_service
from backend.services.state import change_state, log_created


def create_lead(
    session: Session,
    *,
    contact: Contact,
    product: Product | None,
    actor: Actor,
    party_size: int | None = None,
    travel_date_text: str | None = None,
    enquiry_text: str | None = None,
    assign: bool = True,
) -> Lead:
    """A new lead with its reference; assigned round-robin to an available sales rep."""
    code = product.code if product else "GEN"
    prefix, seq = refs.allocate(session, code)
    reference = references.lead_reference(prefix, seq)
    lead = Lead(
        reference=reference,
        ref_key=references.reference_key(reference),
        contact_id=contact.id,
        product_id=product.id if product else None,
        status=LeadStatus.NEW,
        party_size=party_size,
        travel_date_text=travel_date_text,
        enquiry_text=enquiry_text,
        details={},
        currency=product.currency if product else "USD",
    )
    session.add(lead)
    session.flush()
    lead.product = product
    log_created(
        session,
        lead,
        ObjectType.LEAD,
        actor,
        reference=reference,
        product=code,
        partySize=party_size,
        travelDate=travel_date_text,
    )
    if assign:
        rep = staff_service.next_sales_rep(session)
        if rep is not None:
            assign_lead(session, lead, rep.id, actor)
    return lead


def assign_lead(session: Session, lead: Lead, staff_id: str, actor: Actor) -> None:
    previous = lead.assigned_staff_id
    lead.assigned_staff_id = staff_id
    timeline.record(
        session,
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        event_type="ASSIGNED",
        action="tms.lead.assigned",
        actor=actor,
        content={"from": previous, "to": staff_id},
    )


def escalate_uncontacted(session: Session, lead: Lead, actor: Actor) -> str:
    """The lead SLA ran out with nobody in touch: operations alerted and, when configured and
    another rep is available, the lead moves to that rep. Once per lead."""
    if lead.status != LeadStatus.NEW or lead.contacted_at is not None:
        return f"nothing to do: lead is {lead.status}"
    if not timers.record_notice(session, TimerKind.LEAD_SLA, lead.id):
        return "nothing to do: already escalated"
    settings = get_settings()
    hours = settings.lead_sla_hours
    previous_rep = lead.assigned_staff
    new_rep = None
    if settings.lead_sla_reassign:
        new_rep = staff_service.next_sales_rep(session, exclude=lead.assigned_staff_id)
        if new_rep is not None:
            assign_lead(session, lead, new_rep.id, actor)
    routing.alert(
        session,
        "tms.lead.sla.breached",
        {
            Audience.NAMED: texts.rep_lead_reassigned(lead, hours),
            Audience.OPS: texts.ops_lead_sla_breached(lead, previous_rep, hours, new_rep),
        },
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        member=new_rep,
    )
    timeline.record(
        session,
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        event_type="SLA_BREACHED",
        action="tms.lead.sla.breached",
        actor=actor,
        content={"hours": hours, "reassignedTo": new_rep.id if new_rep else None},
    )
    return "operations alerted" + (f", reassigned to {new_rep.name}" if new_rep else "")


def add_details(session: Session, lead: Lead, answers: dict[str, Any], actor: Actor) -> None:
    """The customer's answers (dates, fitness, requirements, ...) go onto the lead."""
    clean = {k: v for k, v in answers.items() if v not in (None, "")}
    if not clean:
        return
    lead.details = {**(lead.details or {}), **clean}
    if "party_size" in clean and isinstance(clean["party_size"], int):
        lead.party_size = clean["party_size"]
    timeline.record(
        session,
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        event_type="DETAILS",
        action="tms.lead.details",
        actor=actor,
        content=clean,
    )


def _alert_rep(session: Session, lead: Lead, code: str, text: str) -> None:
    """Whom the registry names for `code` hears about it on WhatsApp (the lead's rep)."""
    routing.alert(session, code, text, object_type=ObjectType.LEAD, object_id=lead.id, lead=lead)


SWITCHABLE = (LeadStatus.NEW, LeadStatus.CONTACTED)


def change_trek(
    session: Session,
    lead: Lead,
    product: Product,
    actor: Actor,
    *,
    party_size: int | None = None,
    travel_date_text: str | None = None,
) -> Product | None:
    """ "What about Annapurna instead?": the open enquiry moves to another trek and keeps its
    party (and dates, unless new ones are given); the rep hears about it. A quoted lead keeps
    its quote (the customer is answered with a new enquiry instead): returns the old trek."""
    if lead.status not in SWITCHABLE:
        raise DomainError(f"Lead {lead.reference} is {lead.status}; its trek cannot change")
    old = lead.product
    lead.product_id, lead.product = product.id, product
    if party_size:
        lead.party_size = party_size
    if travel_date_text:
        lead.travel_date_text = travel_date_text[:80]
    timeline.record(
        session,
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        event_type="DETAILS",
        action="tms.lead.trek_changed",
        actor=actor,
        content={
            "from": old.code if old else None,
            "to": product.code,
            "partySize": lead.party_size,
        },
    )
    _alert_rep(session, lead, "tms.lead.trek_changed", texts.rep_lead_trek_changed(lead, old))
    return old


def mark_contacted(session: Session, lead: Lead, actor: Actor) -> None:
    if lead.status == LeadStatus.NEW:
        change_state(session, lead, LEAD, LeadStatus.CONTACTED, actor)
        lead.contacted_at = clock.now()


def quote_lead(
    session: Session,
    lead: Lead,
    departure: Departure,
    party_size: int,
    actor: Actor,
    *,
    price_per_person_minor: int | None = None,
    discount_minor: int | None = None,
    override_reason: str | None = None,
) -> Quote:
    """Price the lead's party on a departure; the lead becomes QUOTED (a requote stays QUOTED).

    A price or discount other than the rule's is an override: it needs a reason, and the
    reason and the standard total go on the lead's timeline (`tms.lead.quote_override`),
    whoever quotes (console, admin API)."""
    if lead.status in (LeadStatus.WON, LeadStatus.LOST):
        raise DomainError(f"Lead {lead.reference} is {lead.status}; it cannot be quoted")
    inventory.ensure_open(session, departure)  # moved away or cancelled: quote another
    product = departure.product
    standard = bookings.price_for(departure, party_size)
    quote = bookings.price_for(
        departure,
        party_size,
        price_per_person_minor=price_per_person_minor,
        discount_minor=discount_minor,
    )
    overridden = (quote.price_per_person, quote.discount) != (
        standard.price_per_person,
        standard.discount,
    )
    reason = (override_reason or "").strip()
    if overridden and not reason:
        raise DomainError("A changed price or discount needs a reason")
    lead.product_id = product.id
    lead.quoted_departure_id = departure.id
    lead.quoted_party_size = party_size
    lead.quoted_price_per_person_minor = quote.price_per_person.minor
    lead.quoted_discount_minor = quote.discount.minor
    lead.quoted_total_minor = quote.total.minor
    lead.currency = product.currency
    lead.quoted_at = clock.now()
    if lead.contacted_at is None:
        lead.contacted_at = lead.quoted_at
    content = {
        "departure": departure.start_date.isoformat(),
        "partySize": party_size,
        "subtotal": quote.subtotal.format(),
        "discount": quote.discount.format(),
        "total": quote.total.format(),
        "deposit": quote.deposit.format(),
    }
    if lead.status == LeadStatus.QUOTED:
        timeline.record(
            session,
            object_type=ObjectType.LEAD,
            object_id=lead.id,
            event_type="QUOTE",
            action="tms.lead.requoted",
            actor=actor,
            content=content,
        )
    else:
        change_state(session, lead, LEAD, LeadStatus.QUOTED, actor, **content)
    if overridden:
        timeline.record(
            session,
            object_type=ObjectType.LEAD,
            object_id=lead.id,
            event_type="QUOTE",
            action="tms.lead.quote_override",
            actor=actor,
            content={"reason": reason[:300], "standardTotal": standard.total.format()},
        )
    return quote


def quote_of(lead: Lead, departure: Departure) -> Quote:
    """The quote stored on the lead, rebuilt (discount as quoted, deposit and due date by rule)."""
    if lead.quoted_total_minor is None or lead.quoted_party_size is None:
        raise DomainError(f"Lead {lead.reference} has no quote yet")
    return bookings.price_for(
        departure,
        lead.quoted_party_size,
        price_per_person_minor=lead.quoted_price_per_person_minor or 0,
        discount_minor=lead.quoted_discount_minor or 0,
    )


def hold_from_quote(session: Session, lead: Lead, actor: Actor) -> Booking:
    """ "Hold Inventory": a 24 h hold from the quote; Lead → WON, Booking HELD.

    Raises DomainError when there is no quote and NotEnoughSeats when the seats are gone;
    in both cases nothing is written.
    """
    if lead.status != LeadStatus.QUOTED or lead.quoted_departure_id is None:
        raise DomainError(f"Lead {lead.reference} has no quote to hold yet")
    departure = inventory.lock_departure(session, lead.quoted_departure_id)
    quote = quote_of(lead, departure)
    booking = bookings.hold_new_booking(
        session,
        contact=lead.contact,
        departure_id=departure.id,
        party_size=quote.party_size,
        actor=actor,
        lead=lead,
        quote=quote,
    )
    change_state(session, lead, LEAD, LeadStatus.WON, actor, booking=booking.reference)
    lead.closed_at = clock.now()
    return booking


@dataclass(frozen=True)
class PlacedHold:
    """A hold just placed: the booking and when its seats are released; the caller phrases it."""

    booking: Booking
    expires_at: datetime


def _held(
    session: Session, booking: Booking, conversation: Conversation | None, actor: Actor
) -> PlacedHold:
    """The conversation is bound to the held booking (its questions are about it now)."""
    if conversation is not None:
        contacts.bind_conversation(session, conversation, ObjectType.BOOKING, booking.id, actor)
    hold = inventory.active_hold(session, booking)
    if hold is None:  # pragma: no cover - every caller has just placed it
        raise DomainError(f"Booking {booking.reference} has no active hold")
    return PlacedHold(booking, hold.expires_at)


def place_hold(
    session: Session, lead: Lead, actor: Actor, *, conversation: Conversation | None = None
) -> PlacedHold:
    """The hold from the lead's quote (see hold_from_quote), with the conversation bound to
    the booking: the one given (the chat's), else the customer's active one (console, API)."""
    booking = hold_from_quote(session, lead, actor)
    return _held(
        session, booking, conversation or contacts.active_conversation(session, lead.contact), actor
    )


def accept_waitlist_offer(
    session: Session, booking: Booking, actor: Actor, *, conversation: Conversation | None = None
) -> PlacedHold:
    """The customer takes the waitlist spot on offer: held like a quote's hold, and the
    conversation bound to the booking (the given one, else the customer's active one)."""
    waitlist.accept_offer(session, booking, actor)
    return _held(
        session,
        booking,
        conversation or contacts.active_conversation(session, booking.contact),
        actor,
    )


def booking_of_lead(session: Session, lead: Lead) -> Booking | None:
    """The booking a lead became (its latest), if any."""
    return session.scalar(
        select(Booking)
        .where(Booking.lead_id == lead.id)
        .order_by(Booking.created_at.desc())
        .limit(1)
    )


def mark_lost(session: Session, lead: Lead, reason: str, actor: Actor) -> None:
    """A rep closes a lead that will not book; the reason is kept for the figures."""
    reason = " ".join(reason.split())
    if not reason:
        raise DomainError("Say why the lead is lost (a few words are enough)")
    change_state(session, lead, LEAD, LeadStatus.LOST, actor, reason=reason[:300])
    lead.lost_reason = reason[:300]
    lead.closed_at = clock.now()


def find_lead(session: Session, reference: str) -> Lead:
    references.parse_reference(reference)
    lead = session.scalar(select(Lead).where(Lead.ref_key == references.reference_key(reference)))
    if lead is None:
        raise NotFound(f"No lead {reference}")
    return lead


def get_lead(session: Session, lead_id: str) -> Lead:
    lead = session.get(Lead, lead_id)
    if lead is None:
        raise NotFound(f"No lead {lead_id}")
    return lead


def open_lead_of(session: Session, contact: Contact) -> Lead | None:
    """The contact's most recent lead that is not closed."""
    return session.scalar(
        select(Lead)
        .where(
            Lead.contact_id == contact.id,
            Lead.status.in_([LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUOTED]),
        )
        .order_by(Lead.created_at.desc())
        .limit(1)
    )


def open_enquiry(
    session: Session,
    *,
    contact: Contact,
    conversation: Conversation,
    product: Product | None,
    party_size: int | None,
    travel_date_text: str | None,
    enquiry_text: str,
    actor: Actor,
    private: bool = False,
) -> Lead:
    """Workflow 1 step 1: a lead with a rep, the conversation bound to it, the enquiry on its
    timeline, and the rep alerted on WhatsApp. `private`: a departure for their group alone."""
    lead = create_lead(
        session,
        contact=contact,
        product=product,
        actor=actor,
        party_size=party_size,
        travel_date_text=travel_date_text,
        enquiry_text=enquiry_text,
    )
    lead.private = private
    contacts.bind_conversation(session, conversation, ObjectType.LEAD, lead.id, actor)
    timeline.record(
        session,
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        event_type="MESSAGE",
        action="tms.lead.message",
        actor=actor,
        content={
            "text": f"Initial enquiry for {texts.trek_label(product) if product else 'a trip'}"
            + (" (a private departure)" if private else ""),
            "direction": "inbound",
            "message": enquiry_text,
        },
    )
    _alert_rep(session, lead, "tms.lead.created", texts.rep_new_lead(lead))
    return lead


def ask_private(session: Session, lead: Lead, actor: Actor) -> None:
    """The customer wants a departure for their group alone: flagged for the rep (who quotes
    it apart), once."""
    if lead.private:
        return
    lead.private = True
    timeline.record(
        session,
        object_type=ObjectType.LEAD,
        object_id=lead.id,
        event_type="LEAD_UPDATED",
        action="tms.lead.private_requested",
        actor=actor,
        content={"reference": lead.reference},
    )
    _alert_rep(session, lead, "tms.lead.private_requested", texts.rep_new_lead(lead))


def chat_actor(contact: Contact, conversation: Conversation) -> Actor:
    return Actor(Source.WHATSAPP, phone=contact.phone, conversation_id=conversation.id)


def lead_of_conversation(session: Session, conversation: Conversation) -> Lead | None:
    """The lead the conversation is about: bound directly, or through its booking."""
    return routing.lead_of_conversation(session, conversation)


def rep_of_conversation(session: Session, conversation: Conversation) -> Staff | None:
    """The sales rep who owns this customer, if any."""
    return routing.rep_of_conversation(session, conversation)


def _enquiry_for(
    session: Session,
    contact: Contact,
    conversation: Conversation,
    departure: Departure,
    party_size: int,
    enquiry_text: str,
    actor: Actor,
) -> Lead:
    """The lead behind a booking made straight from the chat, about one departure."""
    return open_enquiry(
        session,
        contact=contact,
        conversation=conversation,
        product=departure.product,
        party_size=party_size,
        travel_date_text=f"{departure.start_date:%B} {departure.start_date.day}",
        enquiry_text=enquiry_text,
        actor=actor,
    )


def hold_for_enquiry(
    session: Session,
    *,
    contact: Contact,
    conversation: Conversation,
    departure: Departure,
    party_size: int,
    enquiry_text: str,
    actor: Actor,
) -> PlacedHold:
    """ "Book March 27 (confirm now)": a lead that is won at once by a 24 h hold.

    NotEnoughSeats leaves nothing behind (the caller's transaction rolls back);
    DepartureClosed is raised before anything is written.
    """
    inventory.ensure_open(session, departure)
    lead = _enquiry_for(session, contact, conversation, departure, party_size, enquiry_text, actor)
    booking = bookings.hold_new_booking(
        session,
        contact=contact,
        departure_id=departure.id,
        party_size=party_size,
        actor=actor,
        lead=lead,
    )
    change_state(session, lead, LEAD, LeadStatus.WON, actor, booking=booking.reference)
    lead.closed_at = clock.now()
    return _held(session, booking, conversation, actor)


def waitlist_for_enquiry(
    session: Session,
    *,
    contact: Contact,
    conversation: Conversation,
    departure: Departure,
    party_size: int,
    enquiry_text: str,
    actor: Actor,
) -> tuple[Booking, int]:
    """Workflow 2 step 2: a lead, a WAITLISTED booking on the full departure, its position.
    DepartureClosed (nothing written) when operations moved the departure away or cancelled it."""
    inventory.ensure_open(session, departure)
    lead = _enquiry_for(session, contact, conversation, departure, party_size, enquiry_text, actor)
    booking, entry = bookings.waitlist_new_booking(
        session, contact=contact, departure=departure, party_size=party_size, actor=actor, lead=lead
    )
    contacts.bind_conversation(session, conversation, ObjectType.BOOKING, booking.id, actor)
    return booking, waitlist.position(session, entry)


def send_quote(
    session: Session,
    lead: Lead,
    departure: Departure,
    party_size: int,
    actor: Actor,
    *,
    price_per_person_minor: int | None = None,
    discount_minor: int | None = None,
    override_reason: str | None = None,
) -> Quote:
    """Workflow 1 step 2: quote the lead and send the quote on WhatsApp from the rep (an
    overridden price needs a reason: `quote_lead`)."""
    quote = quote_lead(
        session,
        lead,
        departure,
        party_size,
        actor,
        price_per_person_minor=price_per_person_minor,
        discount_minor=discount_minor,
        override_reason=override_reason,
    )
    rep = (
        staff_service.get_staff(session, actor.staff_id) if actor.staff_id else lead.assigned_staff
    )
    answers = choices.answer_to(choices.QUOTE, lead.id)
    indicative = rates.indicative_for(session, quote.total, lead.contact.address)
    with languages.writing_to(lead.contact):
        notifications.to_contact(
            session,
            lead.contact,
            texts.quote_message(rep, departure, quote, indicative),
            purpose="quote",
            object_type=ObjectType.LEAD,
            object_id=lead.id,
            buttons=[
                choices.reply_button(texts.HOLD_MY_SEATS, "affirm", answers),
                choices.reply_button(texts.NOT_NOW, "deny", answers),
            ],
        )
    return quote


def hold_and_send(session: Session, lead: Lead, actor: Actor) -> Booking:
    """Workflow 1 step 3, "Hold Inventory" from the console or the API: the hold from the
    quote and the hold message (the chat answers the customer itself)."""
    placed = place_hold(session, lead, actor)
    with languages.writing_to(lead.contact):
        body = texts.hold_placed(placed.booking, placed.expires_at)
    notifications.to_contact(
        session,
        lead.contact,
        body,
        purpose="hold_placed",
        object_type=ObjectType.BOOKING,
        object_id=placed.booking.id,
    )
    return placed.booking


def list_leads(
    session: Session, *, status: str | None = None, assignee_id: str | None = None, limit: int = 200
) -> list[Lead]:
    query = select(Lead).order_by(Lead.created_at.desc()).limit(limit)
    if status:
        query = query.where(Lead.status == status.upper())
    if assignee_id:
        query = query.where(Lead.assigned_staff_id == assignee_id)
    return list(session.scalars(query))
