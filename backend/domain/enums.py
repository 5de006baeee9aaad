"""The names of every state and kind; they are the contract the tests and the API use."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SALES = "SALES"
    OPS = "OPS"
    GUIDE = "GUIDE"
    PORTER = "PORTER"
    ADMIN = "ADMIN"


class ConversationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CLOSED = "CLOSED"


class LeadStatus(StrEnum):
    NEW = "NEW"
    CONTACTED = "CONTACTED"
    QUOTED = "QUOTED"
    WON = "WON"
    LOST = "LOST"


class BookingStatus(StrEnum):
    WAITLISTED = "WAITLISTED"
    OFFERED = "OFFERED"
    HELD = "HELD"
    PAYMENT_PENDING = "PAYMENT_PENDING"
    CONFIRMED = "CONFIRMED"
    COMPLETED = "COMPLETED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class PaymentStatus(StrEnum):
    UNPAID = "UNPAID"
    DEPOSIT_PAID = "DEPOSIT_PAID"
    FULL_PAID = "FULL_PAID"


class ProofStatus(StrEnum):
    """A transfer receipt or card-link receipt the customer sent: checked by OPS or ADMIN."""

    PENDING = "PENDING"
    VERIFIED = "VERIFIED"
    REJECTED = "REJECTED"


class RefundStatus(StrEnum):
    """What comes back after a cancellation: the customer chooses a refund or a credit, staff
    approve, the money goes out (or the credit is issued)."""

    AWAITING_CHOICE = "AWAITING_CHOICE"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    PAID_OUT = "PAID_OUT"
    CREDITED = "CREDITED"
    DECLINED = "DECLINED"


class RescheduleStatus(StrEnum):
    """A request to move one booking to another departure: the rep approves or declines it,
    or the customer asks for another date instead (WITHDRAWN)."""

    REQUESTED = "REQUESTED"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"


class MoveOfferStatus(StrEnum):
    """A booking's answer when its whole departure moves: the new dates, another departure,
    or a cancellation; no answer by the offer's time leaves it EXPIRED (ops call them)."""

    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    MOVED_ELSEWHERE = "MOVED_ELSEWHERE"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class GuaranteeDecision(StrEnum):
    """Operations' decision on a departure short of its minimum group size (issue 27)."""

    RUN = "RUN"
    CANCELLED = "CANCELLED"


class HoldStatus(StrEnum):
    ACTIVE = "ACTIVE"
    CONVERTED = "CONVERTED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


class WaitlistStatus(StrEnum):
    WAITING = "WAITING"
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"


class PaymentKind(StrEnum):
    DEPOSIT = "DEPOSIT"
    BALANCE = "BALANCE"
    FULL = "FULL"


class TripStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    IN_PROGRESS = "IN_PROGRESS"
    ENDED = "ENDED"
    CANCELLED = "CANCELLED"


class AssignmentRole(StrEnum):
    LEAD_GUIDE = "LEAD_GUIDE"
    ASSISTANT_GUIDE = "ASSISTANT_GUIDE"
    PORTER = "PORTER"


class AssignmentStatus(StrEnum):
    OFFERED = "OFFERED"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    EXPIRED = "EXPIRED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class AttendanceStatus(StrEnum):
    ON_TRIP = "ON_TRIP"
    TRIP_COMPLETE = "TRIP_COMPLETE"


class IncidentStatus(StrEnum):
    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class Source(StrEnum):
    WHATSAPP = "WHATSAPP"
    ADMIN = "ADMIN"
    SYSTEM = "SYSTEM"
    SCHEDULER = "SCHEDULER"
    PAYMENT = "PAYMENT"


class ObjectType(StrEnum):
    LEAD = "LEAD"
    BOOKING = "BOOKING"
    DEPARTURE = "DEPARTURE"
    HOLD = "HOLD"
    WAITLIST_ENTRY = "WAITLIST_ENTRY"
    PAYMENT = "PAYMENT"
    TRIP = "TRIP"
    ASSIGNMENT = "ASSIGNMENT"
    ATTENDANCE = "ATTENDANCE"
    INCIDENT = "INCIDENT"
    CONVERSATION = "CONVERSATION"
    CONTACT = "CONTACT"
    STAFF = "STAFF"
    OUTBOUND_MESSAGE = "OUTBOUND_MESSAGE"
    OUTBOUND_EMAIL = "OUTBOUND_EMAIL"
    PRODUCT = "PRODUCT"
    FAQ = "FAQ"
    SYSTEM = "SYSTEM"  # the operator as a whole (an import, a configuration change)
    PAYMENT_PROOF = "PAYMENT_PROOF"
    REFUND = "REFUND"
    TRANSLATION = "TRANSLATION"  # staff's wording of one customer text in one language
    CAMPAIGN = "CAMPAIGN"  # a marketing campaign (backend/services/campaigns.py)
    RESCHEDULE = "RESCHEDULE"  # a request to move a booking to another departure
    MOVE_OFFER = "MOVE_OFFER"  # a booking's offer when its whole departure moves


class InboxStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    DONE = "DONE"
    FAILED = "FAILED"


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    # A message waiting for Meta's messaging limit (backend/services/messaging_limits.py):
    # queued again at its next_attempt_at; it does not hold up its recipient's other messages.
    DEFERRED = "deferred"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class EmailStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"  # handed to the SMTP server under a lease
    SENT = "sent"
    FAILED = "failed"


class TimerKind(StrEnum):
    """The timed events; `<kind>:<subject id>` is the scheduler's job id."""

    HOLD_EXPIRY = "hold-expiry"
    OFFER_EXPIRY = "offer-expiry"
    LEAD_SLA = "lead-sla"
    PRE_DEPARTURE = "pre-departure"
    BALANCE_OVERDUE = "balance-overdue"
    ASSIGNMENT_RESPONSE = "assignment-response"
    GUIDE_CHECKIN = "guide-checkin"
    FEEDBACK_REQUEST = "feedback-request"
    INCIDENT_ESCALATION = "incident-escalation"
    PAPERS_INCOMPLETE = "papers-incomplete"
    MOVE_OFFER_REMINDER = "move-offer-reminder"  # a moved departure's offer, not answered yet
    MOVE_OFFER_UNANSWERED = "move-offer-unanswered"  # its time ran out: operations call them
    GUARANTEE_DEADLINE = "guarantee-deadline"  # a departure's minimum group size is checked


def papers_reminder_kind(days_before: int) -> str:
    """One kind per configured reminder of the travellers' papers: `papers-reminder-30d`."""
    return f"papers-reminder-{days_before}d"


def balance_reminder_kind(days_before: int) -> str:
    """One kind per configured reminder: `balance-reminder-7d`, `balance-reminder-1d`."""
    return f"balance-reminder-{days_before}d"
