"""What WhatsApp messages cost: Meta's rate card as data, and the price of each delivered one."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base, BigId


class MessageRate(Base):
    """One line of Meta's rate card: the price of one delivered message of `category` to a
    number starting with `calling_code` (digits; "" is every number no longer code matches,
    Meta's "Other" market), valid from its date until the next line for the same code and
    category. `market` is Meta's name for it ("Germany", "Rest of Asia Pacific": a region is
    several lines, one per calling code). The price is exact decimal text in `currency`."""

    __tablename__ = "message_rates"
    __table_args__ = (UniqueConstraint("calling_code", "category", "valid_from"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    market: Mapped[str] = mapped_column(String(60))
    calling_code: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(32))  # marketing, utility, authentication, ...
    price: Mapped[str] = mapped_column(String(24))
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date]
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]


class MessageCost(Base):
    """The price of one outbound message, fixed when Meta reported it delivered, from the
    status webhook's `pricing` (its category and whether it is billable) and the rate card line
    valid that day. A free one (service reply, utility template inside the customer service
    window, free entry point) costs 0; `price` is None when Meta bills it but no rate card line
    covers it (staff add the line; the KPIs count it as unpriced)."""

    __tablename__ = "message_costs"

    outbound_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("outbound_messages.id"), primary_key=True
    )
    category: Mapped[str | None] = mapped_column(String(32))
    pricing_type: Mapped[str | None] = mapped_column(String(32))  # regular, free_customer_service
    billable: Mapped[bool]
    country: Mapped[str | None] = mapped_column(String(2))  # the recipient's, ISO 3166-1
    market: Mapped[str | None] = mapped_column(String(60))
    price: Mapped[str | None] = mapped_column(String(24))
    currency: Mapped[str | None] = mapped_column(String(3))
    rate_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("message_rates.id"))
    delivered_at: Mapped[datetime] = mapped_column(index=True)
