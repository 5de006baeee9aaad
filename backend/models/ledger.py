"""Money: the ledger (every movement of money on a booking, one row each), the proofs customers
send of a transfer or a card-link payment, refunds after a cancellation, the staff-set exchange
rates and the cancellation policy.

The ledger is append-only: rows are inserted by `backend.services.ledger.record` and never
updated or deleted (no code does, a test checks the service, and the database refuses it with a
trigger). What a booking has paid is the sum of its rows other than surcharges
(`Booking.paid_minor`), so it cannot drift from them. A correction is a new row (a refund, a
negative amount), never an edit. Exchange rates are append-only too: a rate is dated, and a
new rate applies from its own date on, never to a day already past."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId, CreatedMixin, IdMixin, guard_status, status_column


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    # A card-link's fee paid on top of the price: money in, but not towards the booking.
    SURCHARGE = "surcharge"
    REFUND = "refund"
    # Money moved off a cancelled booking into the customer's credit (negative on it) ...
    CREDIT_ISSUED = "credit_issued"
    # ... and spent on a later booking (positive on that one).
    CREDIT_SPENT = "credit_spent"


# Kinds that do not count towards what a booking has paid.
NOT_TOWARDS_PRICE = (LedgerKind.SURCHARGE,)


class LedgerMethod(StrEnum):
    STRIPE = "stripe"
    LOCAL = "local"
    BANK_TRANSFER = "bank_transfer"
    BANK_CARD_LINK = "bank_card_link"
    CASH = "cash"
    CREDIT = "credit"


class PaymentProof(IdMixin, CreatedMixin, Base):
    """A receipt the customer sent (in the chat or on the pay page) for a transfer or a card-link
    payment, or the outgoing transfer's receipt staff file for a refund. PENDING until OPS or
    ADMIN verify it (amount, currency and value date as received) or reject it with a reason."""

    __tablename__ = "payment_proofs"
    __table_args__ = (
        # The same file counts once, whichever booking it was sent for.
        UniqueConstraint("sha256"),
    )

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # a LedgerMethod
    # "in": the customer paid; "out": our transfer for a refund.
    direction: Mapped[str] = mapped_column(String(3), default="in")
    status: Mapped[str] = status_column()
    source: Mapped[str] = mapped_column(String(16))  # chat | page | console | api
    media_id: Mapped[str | None] = mapped_column(ForeignKey("media_attachments.id"), unique=True)
    storage_key: Mapped[str | None] = mapped_column(String(300))
    sha256: Mapped[str | None] = mapped_column(String(64))
    filename: Mapped[str | None] = mapped_column(String(240))
    content_type: Mapped[str | None] = mapped_column(String(120))
    # What the customer said they paid, when they said it (a caption, the page's form).
    stated_amount_minor: Mapped[int | None]
    stated_currency: Mapped[str | None] = mapped_column(String(3))
    # As received, entered by staff when verifying.
    amount_minor: Mapped[int | None]
    currency: Mapped[str | None] = mapped_column(String(3))
    value_date: Mapped[date | None]
    # Why the check needs a second look: ["amount", "currency", "value_date", ...].
    flags: Mapped[list[Any]] = mapped_column(default=list)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None]
    reject_reason: Mapped[str | None] = mapped_column(String(300))
    refund_id: Mapped[str | None] = mapped_column(ForeignKey("refunds.id"), index=True)

    _guard = guard_status("status")


class Refund(IdMixin, CreatedMixin, Base):
    """What a cancellation gives back: computed from the cancellation policy when the booking is
    cancelled, then a refund or a credit as the customer chooses, approved by staff."""

    __tablename__ = "refunds"

    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    status: Mapped[str] = status_column()
    # In the base currency, minor units, positive: what the policy allows back.
    refundable_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    # The policy line that applied, for the customer and the accountant.
    policy_note: Mapped[str | None] = mapped_column(String(300))
    choice: Mapped[str | None] = mapped_column(String(8))  # refund | credit
    method: Mapped[str | None] = mapped_column(String(16))  # how it was paid out (a LedgerMethod)
    provider_refund_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(String(300))

    _guard = guard_status("status")


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        # A provider's id, a receipt number or a proof counts once per method (NULLs are many).
        UniqueConstraint("method", "provider_ref"),
        Index("ix_ledger_entries_recorded_at", "recorded_at"),
        # A unique index, not a constraint: SQLite adds one without copying the table.
        Index("ix_ledger_entries_receipt_number", "receipt_number", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    booking_id: Mapped[str] = mapped_column(ForeignKey("bookings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    # Signed, in minor units: money in is positive, money out negative.
    amount_minor: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    base_amount_minor: Mapped[int]
    base_currency: Mapped[str] = mapped_column(String(3))
    # Base units per unit received, as exact decimal text ("1" in the base currency).
    rate: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime]
    # Who recorded it, as the timeline names an actor: "<source>[:<staff id or phone>]".
    recorded_by: Mapped[str] = mapped_column(String(64))
    provider_ref: Mapped[str | None] = mapped_column(String(120))
    payment_id: Mapped[str | None] = mapped_column(ForeignKey("payments.id"), unique=True)
    note: Mapped[str | None] = mapped_column(String(300))
    # The receipt number the customer was given (cash), unique.
    receipt_number: Mapped[str | None] = mapped_column(String(24))
    # The proof it was verified from (a transfer, a card link, a refund's outgoing transfer).
    proof_id: Mapped[str | None] = mapped_column(ForeignKey("payment_proofs.id"), index=True)
    refund_id: Mapped[str | None] = mapped_column(ForeignKey("refunds.id"), index=True)


class ExchangeRate(Base):
    """A staff-set rate, valid from its date until the next one for the same currency. Base
    units per one unit of `currency` (exact decimal text); the buffer is what a quote adds for
    an indicative price in the customer's currency, in percent (decimal text)."""

    __tablename__ = "exchange_rates"
    __table_args__ = (UniqueConstraint("currency", "base_currency", "valid_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    currency: Mapped[str] = mapped_column(String(3))
    base_currency: Mapped[str] = mapped_column(String(3))
    rate: Mapped[str] = mapped_column(String(32))
    buffer_percent: Mapped[str] = mapped_column(String(16), default="0")
    valid_from: Mapped[date]
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]


class CancellationRule(Base):
    """One line of the cancellation policy: cancelled `days_before` or more days before the
    departure, `refund_percent` of the trip's price comes back (never more than was paid),
    less `fee_minor`. A product's own lines replace the house lines (product_id NULL)."""

    __tablename__ = "cancellation_rules"
    __table_args__ = (UniqueConstraint("product_id", "days_before"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"), index=True)
    days_before: Mapped[int]
    refund_percent: Mapped[int]
    fee_minor: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(Text)
