"""The selling side: conversations, leads, bookings, holds, the waitlist and payments."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, func, select, text
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from backend.models.base import Base, CreatedMixin, IdMixin, guard_status, status_column
from backend.models.catalog import Departure, Product
from backend.models.ledger import NOT_TOWARDS_PRICE, LedgerEntry
from backend.models.people import Contact, Staff


class Conversation(IdMixin, CreatedMixin, Base):
    __tablename__ = "conversations"
    __table_args__ = (
        # One active conversation per contact, enforced by the database.
        Index(
            "uq_conversations_one_active",
            "contact_id",
            unique=True,
            postgresql_where=text("status = 'ACTIVE'"),
            sqlite_where=text("status = 'ACTIVE'"),
        ),
    )

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    object_type: Mapped[str | None] = mapped_column(String(24))
    object_id: Mapped[str | None] = mapped_column(String(36))
    bot_paused: Mapped[bool] = mapped_column(default=False)
    last_message_at: Mapped[datetime | None]

    contact: Mapped[Contact] = relationship(lazy="joined")


class ReferenceCounter(Base):
    """Next sequence number per reference prefix (e.g. `EBC2501`), taken under a row lock."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Lead(IdMixin, CreatedMixin, Base):
    __tablename__ = "leads"

    reference: Mapped[str] = mapped_column(String(24))
    ref_key: Mapped[str] = mapped_column(String(24), unique=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"))
    status: Mapped[str] = status_column()
    assigned_staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.id"), index=True)
    party_size: Mapped[int | None]
    travel_date_text: Mapped[str | None] = mapped_column(String(80))
    enquiry_text: Mapped[str | None] = mapped_column(Text)
    # A private departure asked for (just their group, their dates): the rep quotes it apart.
    private: Mapped[bool] = mapped_column(default=False)
    # Answers the customer gave (dates, fitness, special requirements, ...).
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    quoted_departure_id: Mapped[str | None] = mapped_column(ForeignKey("departures.id"))
    quoted_party_size: Mapped[int | None]
    quoted_price_per_person_minor: Mapped[int | None]
    quoted_discount_minor: Mapped[int | None]
    quoted_total_minor: Mapped[int | None]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    contacted_at: Mapped[datetime | None]
    quoted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    lost_reason: Mapped[str | None] = mapped_column(String(300))

    contact: Mapped[Contact] = relationship(lazy="joined")
    product: Mapped[Product | None] = relationship(lazy="joined")
    assigned_staff: Mapped[Staff | None] = relationship()
    quoted_departure: Mapped[Departure | None] = relationship()

    _guard = guard_status("status")


class Booking(IdMixin, CreatedMixin, Base):
    __tablename__ = "bookings"

    reference: Mapped[str] = mapped_column(String(24))
    ref_key: Mapped[str] = mapped_column(String(24), unique=True)
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("leads.id"), index=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), index=True)
    departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"), index=True)
    party_size: Mapped[int]
    status: Mapped[str] = status_column()
    payment_status: Mapped[str] = status_column()
    currency: Mapped[str] = mapped_column(String(3))
    price_per_person_minor: Mapped[int]
    discount_minor: Mapped[int] = mapped_column(default=0)
    total_minor: Mapped[int]
    deposit_minor: Mapped[int]
    if TYPE_CHECKING:
        # What the booking has paid: derived from its ledger entries (mapped below the class).
        paid_minor: Mapped[int]
    balance_due_date: Mapped[date]
    feedback: Mapped[str | None] = mapped_column(Text)
    # The customer's 1-5 rating after the trip (page or chat) and when they gave it.
    feedback_rating: Mapped[int | None]
    feedback_at: Mapped[datetime | None]
    attention_reason: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    contact: Mapped[Contact] = relationship(lazy="joined")
    departure: Mapped[Departure] = relationship(lazy="joined")
    lead: Mapped[Lead | None] = relationship()

    _guard = guard_status("status", "payment_status")

    @property
    def balance_minor(self) -> int:
        return max(self.total_minor - self.paid_minor, 0)


# The sum of the booking's ledger entries (surcharges aside) in the base currency, read with the
# booking: there is no paid field to write, so what a booking has paid never drifts from its
# money movements.
Booking.paid_minor = column_property(
    select(func.coalesce(func.sum(LedgerEntry.base_amount_minor), 0))
    .where(
        LedgerEntry.booking_id == Booking.id,
        LedgerEntry.kind.not_in([str(kind) for kind in NOT_TOWARDS_PRICE]),
    )
    .correlate_except(LedgerEntry)
    .scalar_subquery()
)


class Hold(IdMixin, CreatedMixin, Base):
    __tablename__ = "holds"

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"), index=True)
    seats: Mapped[int]
    status: Mapped[str] = status_column()
    expires_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    booking: Mapped[Booking] = relationship()

    _guard = guard_status("status")


class WaitlistEntry(IdMixin, Base):
    __tablename__ = "waitlist_entries"

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), unique=True)
    departure_id: Mapped[str] = mapped_column(ForeignKey("departures.id"), index=True)
    party_size: Mapped[int]
    status: Mapped[str] = status_column()
    joined_at: Mapped[datetime]
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    booking: Mapped[Booking] = relationship(lazy="joined")

    _guard = guard_status("status")


class Payment(IdMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("provider", "provider_event_id"),)

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    provider_event_id: Mapped[str] = mapped_column(String(120))
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    # Set when the money arrived but could not be applied (late, wrong amount): needs staff.
    flagged_reason: Mapped[str | None] = mapped_column(String(200))
