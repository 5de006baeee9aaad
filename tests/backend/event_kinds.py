"""Every kind of timeline event, with the roles that may read it: the table the visibility
tests check (services, the admin API, the console's live stream).

Written out by hand, not derived from backend/domain/access.py, so that a change there that
shows SALES an incident (or hides a booking from OPS) fails a test. ADMIN reads every kind and
is not listed; GUIDE and PORTER read none (the timeline is not theirs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from backend.domain.actor import Actor
from backend.domain.enums import Role, Source
from backend.models import TimelineEvent
from backend.services import timeline

S, OP = Role.SALES, Role.OPS
BOTH = frozenset({S, OP})
SALES_ONLY = frozenset({S})
OPS_ONLY = frozenset({OP})
ADMIN_ONLY: frozenset[Role] = frozenset()

# A staff member's phone (a guide writing to the product): the kinds below that say
# `staff=True` are sent by, or to, this number. The tests add a staff member with it.
STAFF_PHONE = "+9779807770001"
CUSTOMER_PHONE = "+61499777001"


@dataclass(frozen=True)
class Kind:
    object_type: str
    action: str
    readers: frozenset[Role]
    content: dict[str, Any] = field(default_factory=dict)
    staff: bool = False  # sent by (inbound) or to (outbound) a staff member

    @property
    def label(self) -> str:
        extra = f" {self.content['purpose']}" if "purpose" in self.content else ""
        return f"{self.object_type} {self.action}{extra}{' (staff)' if self.staff else ''}"


def _out(object_type: str, readers: frozenset[Role], purpose: str, staff: bool = False) -> Kind:
    to = STAFF_PHONE if staff else CUSTOMER_PHONE
    content = {"direction": "outbound", "to": to, "purpose": purpose, "text": "…"}
    return Kind(object_type, "tms.message.outbound", readers, content, staff)


KINDS: list[Kind] = [
    # Leads
    Kind("LEAD", "tms.lead.created", SALES_ONLY),
    Kind("LEAD", "tms.lead.status.quoted", SALES_ONLY),
    Kind("LEAD", "tms.lead.assigned", SALES_ONLY),
    Kind("LEAD", "tms.lead.sla.breached", SALES_ONLY),
    Kind("LEAD", "tms.lead.details", SALES_ONLY),
    Kind("LEAD", "tms.lead.trek_changed", SALES_ONLY),
    Kind("LEAD", "tms.lead.requoted", SALES_ONLY),
    Kind("LEAD", "tms.lead.message", SALES_ONLY),
    Kind("LEAD", "tms.lead.quote_override", SALES_ONLY),
    # Bookings, holds, waitlist, payments
    Kind("BOOKING", "tms.booking.created", BOTH),
    Kind("BOOKING", "tms.booking.status.confirmed", BOTH),
    Kind("BOOKING", "tms.booking.payment_status.deposit_paid", BOTH),
    Kind("BOOKING", "tms.booking.payment.flagged", BOTH),
    Kind("BOOKING", "tms.booking.refund_due", BOTH),
    Kind("BOOKING", "tms.booking.notice.balance-reminder-7d", BOTH),
    Kind("HOLD", "tms.hold.created", BOTH),
    Kind("HOLD", "tms.hold.status.expired", BOTH),
    Kind("DEPARTURE", "tms.departure.hold.created", BOTH),
    Kind("DEPARTURE", "tms.departure.hold.released", BOTH),
    Kind("WAITLIST_ENTRY", "tms.waitlist_entry.created", BOTH),
    Kind("WAITLIST_ENTRY", "tms.waitlist_entry.status.offered", BOTH),
    Kind("PAYMENT", "tms.payment.received", BOTH),
    Kind("PAYMENT", "tms.payment.already_recorded", BOTH),
    # Departures
    Kind("DEPARTURE", "tms.departure.created", BOTH),
    Kind("DEPARTURE", "tms.departure.changed", BOTH),
    # Guests' feedback
    Kind("BOOKING", "tms.booking.feedback", BOTH),
    Kind("CONVERSATION", "tms.conversation.feedback", BOTH),
    Kind("TRIP", "tms.trip.feedback.received", BOTH),
    Kind("TRIP", "tms.trip.feedback.requested", BOTH),
    # Customers' conversations and contacts
    Kind("CONVERSATION", "tms.conversation.opened", BOTH),
    Kind("CONVERSATION", "tms.conversation.bound", BOTH),
    Kind("CONVERSATION", "tms.conversation.bot_paused", BOTH),
    Kind("CONVERSATION", "tms.conversation.bot_resumed", BOTH),
    Kind("CONVERSATION", "tms.conversation.question_answered", BOTH),
    Kind("CONVERSATION", "tms.conversation.question_unanswered", BOTH),
    Kind("CONVERSATION", "tms.conversation.unhandled", BOTH),
    Kind("CONTACT", "tms.contact.email_set", BOTH),
    Kind("CONTACT", "tms.contact.opted_in", BOTH),
    Kind("CONTACT", "tms.contact.opted_out", BOTH),
    Kind("CONTACT", "tms.contact.message_withheld", BOTH),
    Kind("CONTACT", "tms.contact.media.received", BOTH),
    # … but a guide's conversation is operations: incident texts, positions
    Kind("CONVERSATION", "tms.conversation.opened", OPS_ONLY, staff=True),
    Kind("CONVERSATION", "tms.conversation.unhandled", OPS_ONLY, staff=True),
    Kind("CONTACT", "tms.contact.media.received", OPS_ONLY, {"latitude": 27.9}, staff=True),
    # Messages: the area of what they are about, or of their purpose
    Kind("LEAD", "tms.message.inbound", SALES_ONLY, {"direction": "inbound"}),
    Kind("BOOKING", "tms.message.inbound", BOTH, {"direction": "inbound"}),
    Kind("CONVERSATION", "tms.message.inbound", BOTH, {"direction": "inbound"}),
    Kind("CONVERSATION", "tms.message.inbound", OPS_ONLY, {"direction": "inbound"}, staff=True),
    Kind("CONVERSATION", "tms.message.inbound.retried", BOTH),
    Kind("TRIP", "tms.message.inbound", OPS_ONLY, {"direction": "inbound"}, staff=True),
    Kind("INCIDENT", "tms.message.inbound", OPS_ONLY, {"direction": "inbound"}, staff=True),
    _out("LEAD", SALES_ONLY, "quote"),
    _out("LEAD", SALES_ONLY, "rep_alert", staff=True),
    _out("BOOKING", BOTH, "hold_placed"),
    _out("BOOKING", BOTH, "customer_update"),
    _out("CONVERSATION", BOTH, "reply"),
    _out("CONVERSATION", OPS_ONLY, "reply", staff=True),
    _out("STAFF", OPS_ONLY, "staff_alert", staff=True),
    _out("TRIP", OPS_ONLY, "trip_started", staff=True),
    _out("INCIDENT", OPS_ONLY, "customer_update"),
    _out("LEAD", OPS_ONLY, "ops_alert", staff=True),
    _out("CONVERSATION", OPS_ONLY, "ops_urgent_alert", staff=True),
    _out("ASSIGNMENT", OPS_ONLY, "assignment_offer", staff=True),
    _out("CONVERSATION", OPS_ONLY, "assignment_details", staff=True),
    _out("STAFF", ADMIN_ONLY, "staff_sign_in_code", staff=True),
    _out("CONVERSATION", ADMIN_ONLY, "staff_sign_in_code", staff=True),
    _out("SYSTEM", ADMIN_ONLY, "ops_note"),
    _out("WIDGET", ADMIN_ONLY, "reply"),  # an object type nobody mapped
    Kind("CONVERSATION", "tms.message.outbound.retried", BOTH),
    Kind("BOOKING", "tms.email.sent", BOTH, {"to": "guest@example.com"}),
    Kind("OUTBOUND_EMAIL", "tms.email.failed", BOTH, {"to": "guest@example.com"}),
    Kind("ASSIGNMENT", "tms.email.queued", OPS_ONLY, {"to": "guide@example.com"}),
    Kind("LEAD", "tms.console.reply", SALES_ONLY),
    Kind("BOOKING", "tms.console.reply", BOTH),
    # The catalog and the assistant's answers
    Kind("PRODUCT", "tms.product.created", BOTH),
    Kind("PRODUCT", "tms.product.changed", BOTH),
    Kind("FAQ", "tms.faq.answer_updated", BOTH),
    Kind("FAQ", "tms.faq.defaults_loaded", BOTH),
    Kind("TRANSLATION", "tms.translation.saved", BOTH, {"languageName": "German"}),
    Kind("TRANSLATION", "tms.translation.reset", BOTH),
    # Trips, assignments, attendance: OPS
    Kind("TRIP", "tms.trip.created", OPS_ONLY),
    Kind("TRIP", "tms.trip.status.in_progress", OPS_ONLY),
    Kind("TRIP", "tms.trip.checkin.missing", OPS_ONLY),
    Kind("TRIP", "tms.trip.field_update", OPS_ONLY, {"text": "at Namche"}),
    Kind("TRIP", "tms.trip.media.attached", OPS_ONLY, {"latitude": 27.8, "longitude": 86.7}),
    Kind("ASSIGNMENT", "tms.assignment.status.accepted", OPS_ONLY),
    Kind("ATTENDANCE", "tms.attendance.created", OPS_ONLY),
    Kind("ATTENDANCE", "tms.attendance.status.trip_complete", OPS_ONLY),
    # Payroll: OPS
    Kind("ASSIGNMENT", "tms.assignment.created", OPS_ONLY, {"amount_minor": 80000}),
    Kind("ASSIGNMENT", "tms.assignment.payroll.added", OPS_ONLY, {"amount": 80000}),
    # Incidents: OPS
    Kind("INCIDENT", "tms.incident.created", OPS_ONLY),
    Kind("INCIDENT", "tms.incident.status.resolved", OPS_ONLY),
    Kind("INCIDENT", "tms.incident.acknowledged", OPS_ONLY),
    Kind("INCIDENT", "tms.incident.updated", OPS_ONLY),
    Kind("INCIDENT", "tms.incident.field_update", OPS_ONLY, {"text": "altitude sickness"}),
    Kind("INCIDENT", "tms.incident.guest_notified", OPS_ONLY),
    Kind("INCIDENT", "tms.incident.guests_notified", OPS_ONLY),
    Kind("INCIDENT", "tms.incident.media.attached", OPS_ONLY),
    Kind("INCIDENT", "tms.incident.escalated", OPS_ONLY),
    Kind("TRIP", "tms.trip.incident.reported", OPS_ONLY, {"text": "rockfall"}),
    # Staff administration and sign-in: ADMIN only
    Kind("STAFF", "tms.staff.created", ADMIN_ONLY, {"phone": STAFF_PHONE, "roles": ["GUIDE"]}),
    Kind("STAFF", "tms.staff.token_rotated", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.deactivated", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.reactivated", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.roles_changed", ADMIN_ONLY, {"after": ["ADMIN"]}),
    Kind("STAFF", "tms.staff.available", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.away", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.sign_in.code_sent", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.sign_in.code_refused", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.sign_in.link_created", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.signed_in", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.signed_out", ADMIN_ONLY),
    Kind("STAFF", "tms.staff.sessions_ended", ADMIN_ONLY),
    # The operator as a whole
    Kind("SYSTEM", "tms.demo.history_seeded", ADMIN_ONLY),
    # Unknown kinds: ADMIN only (fail closed)
    Kind("LEAD", "tms.lead.brand_new_kind", ADMIN_ONLY),
    Kind("BOOKING", "tms.bookingx.created", ADMIN_ONLY),
    Kind("CONVERSATION", "tms.conversation", ADMIN_ONLY),
    Kind("TRIP", "something.else", ADMIN_ONLY),
]

ROLES = list(Role)


def may_read(kind: Kind, role: Role) -> bool:
    return role == Role.ADMIN or role in kind.readers


def record_all(session: Session, marker: str) -> dict[int, Kind]:
    """One event of every kind (object id `marker`-n), by event id."""
    found: dict[int, Kind] = {}
    for n, kind in enumerate(KINDS):
        outbound = kind.content.get("direction") == "outbound"
        # Outbound messages are the product's own (no actor phone, as the sender records them).
        phone = None if outbound else STAFF_PHONE if kind.staff else CUSTOMER_PHONE
        event: TimelineEvent = timeline.record(
            session,
            object_type=kind.object_type,
            object_id=f"{marker}-{n}",
            event_type="TEST",
            action=kind.action,
            actor=Actor(Source.SYSTEM if outbound else Source.WHATSAPP, phone=phone),
            content=dict(kind.content),
        )
        session.flush()
        found[event.id] = kind
    return found
