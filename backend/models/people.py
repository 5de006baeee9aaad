"""Who talks to the operator: customers (contacts) and staff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.domain.enums import Role
from backend.domain.whatsapp_ids import ADDRESS_LENGTH, address
from backend.models.base import Base, CreatedMixin, IdMixin


class Contact(IdMixin, CreatedMixin, Base):
    __tablename__ = "contacts"

    # Known by a phone number, a business-scoped user ID (BSUID, Meta's `user_id`) or both;
    # `contacts.resolve_contact` is the one place that finds, creates and merges them.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    user_id: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH), unique=True)
    # What the assistant (Rasa's sender id) and the inbox's order know them by, for good: the
    # address they were first seen with (or the contact's id, when another has that key).
    # Neither a shared phone nor a new BSUID changes it, so a dialogue never starts afresh.
    sender_key: Mapped[str | None] = mapped_column(String(ADDRESS_LENGTH), unique=True)
    profile_name: Mapped[str | None] = mapped_column(String(120))
    name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(200))
    # The customer-service window: free-form messages only within 24 h of this.
    last_inbound_at: Mapped[datetime | None]
    # STOP: no marketing or non-essential messages until START (backend/services/consent.py).
    opted_out_at: Mapped[datetime | None]
    # ISO 639-1: what they are written to in (backend/services/languages.py); None until known
    # (English). `language_chosen`: they asked for it, so detection no longer changes it.
    language: Mapped[str | None] = mapped_column(String(8))
    language_chosen: Mapped[bool] = mapped_column(default=False)

    @property
    def address(self) -> str:
        """What WhatsApp knows them by: the phone when known, else the BSUID."""
        return address(self.phone, self.user_id)

    @property
    def display_name(self) -> str:
        return self.name or self.profile_name or self.address


class Staff(IdMixin, CreatedMixin, Base):
    __tablename__ = "staff"

    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    available: Mapped[bool] = mapped_column(default=True)
    # Admin API tokens live in `api_tokens` (backend/models/console.py): several per person.
    # Round-robin fairness for lead assignment.
    last_assigned_at: Mapped[datetime | None]

    role_rows: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def roles(self) -> set[Role]:
        return {Role(row.role) for row in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles)) or Role.ADMIN in self.roles


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)

    staff: Mapped[Staff] = relationship(back_populates="role_rows")
