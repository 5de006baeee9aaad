"""The ledger: every movement of money on a booking, one row each.

Append-only: rows are inserted by `backend.services.ledger.record` and never updated or deleted
(no code does, a test checks the service, and the database refuses it with a trigger). What a
booking has paid is the sum of its rows (`Booking.paid_minor`), so it cannot drift from them. A
correction is a new row (a refund, a negative amount), never an edit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId


class LedgerKind(StrEnum):
    PAYMENT = "payment"
    SURCHARGE = "surcharge"
    REFUND = "refund"
    CREDIT_ISSUED = "credit_issued"
    CREDIT_SPENT = "credit_spent"


class LedgerMethod(StrEnum):
    STRIPE = "stripe"
    LOCAL = "local"
    BANK_TRANSFER = "bank_transfer"
    BANK_CARD_LINK = "bank_card_link"
    CASH = "cash"
    CREDIT = "credit"


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (
        # A provider's id, a receipt number or a proof counts once per method (NULLs are many).
        UniqueConstraint("method", "provider_ref"),
        Index("ix_ledger_entries_recorded_at", "recorded_at"),
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
