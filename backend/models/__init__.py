"""SQLAlchemy models for every entity of the design; import from here."""

from backend.models.base import Base
from backend.models.campaigns import (
    Campaign,
    CampaignRecipient,
    InitiatedConversation,
    MessagingLimit,
)
from backend.models.catalog import Departure, Product
from backend.models.consent import ContactConsent
from backend.models.console import ApiToken, SignInCode, SignInLimit, StaffSession
from backend.models.disruption import DepartureMove, MoveOffer, RescheduleRequest
from backend.models.knowledge import FaqAnswer
from backend.models.ledger import (
    CancellationRule,
    ExchangeRate,
    LedgerEntry,
    LedgerKind,
    LedgerMethod,
    PaymentProof,
    Refund,
)
from backend.models.mail import OutboundEmail
from backend.models.media import MediaAttachment
from backend.models.messaging import (
    ActionReceipt,
    InboundMessage,
    MessageStatusEvent,
    OutboundMessage,
    RecipientPacing,
    SendingSlots,
)
from backend.models.operations import Assignment, Attendance, Incident, PayrollEntry, Trip
from backend.models.people import Contact, Staff, StaffRole
from backend.models.pricing import MessageCost, MessageRate
from backend.models.sales import (
    Booking,
    Conversation,
    Hold,
    Lead,
    Payment,
    ReferenceCounter,
    WaitlistEntry,
)
from backend.models.scheduling import SentNotice, TimerTouch
from backend.models.templates import MessageTemplate
from backend.models.timeline import TimelineEvent
from backend.models.translations import StaffTranslation, TrekText
from backend.models.travellers import Traveller

__all__ = [
    "ActionReceipt",
    "ApiToken",
    "Assignment",
    "Attendance",
    "Base",
    "Booking",
    "Campaign",
    "CampaignRecipient",
    "CancellationRule",
    "Contact",
    "ContactConsent",
    "Conversation",
    "Departure",
    "DepartureMove",
    "ExchangeRate",
    "FaqAnswer",
    "Hold",
    "InboundMessage",
    "Incident",
    "InitiatedConversation",
    "Lead",
    "LedgerEntry",
    "LedgerKind",
    "LedgerMethod",
    "MediaAttachment",
    "MessageCost",
    "MessageRate",
    "MessageStatusEvent",
    "MessageTemplate",
    "MessagingLimit",
    "MoveOffer",
    "OutboundEmail",
    "OutboundMessage",
    "Payment",
    "PaymentProof",
    "PayrollEntry",
    "Product",
    "RecipientPacing",
    "ReferenceCounter",
    "Refund",
    "RescheduleRequest",
    "SendingSlots",
    "SentNotice",
    "SignInCode",
    "SignInLimit",
    "Staff",
    "StaffRole",
    "StaffSession",
    "StaffTranslation",
    "TimelineEvent",
    "TimerTouch",
    "Traveller",
    "TrekText",
    "Trip",
    "WaitlistEntry",
]
