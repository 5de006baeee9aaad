"""The staff console's sign-in: one-time codes and links, the sessions they open, the budgets
that bound what a client or a phone may try, and the admin API's tokens.

Only hashes are stored: a database dump gives nobody a way in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.models.base import Base, BigId, CreatedMixin
from backend.models.people import Staff


class SignInCode(CreatedMixin, Base):
    """A one-time code sent on WhatsApp (`kind` "code") or a one-time link printed by
    `tms staff login-link` ("link")."""

    __tablename__ = "sign_in_codes"
    __table_args__ = (Index("ix_sign_in_codes_staff", "staff_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(8))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None]

    staff: Mapped[Staff] = relationship(lazy="joined")


class StaffSession(CreatedMixin, Base):
    """A signed-in browser. The cookie holds a random token; `id` is its sha256."""

    __tablename__ = "staff_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(200))
    # Where it signed in from (shown on the account page, so a person spots a stranger's).
    client_address: Mapped[str | None] = mapped_column(String(64))
    # One message for the next page (what the last form did, or why it was refused).
    flash: Mapped[str | None] = mapped_column(Text)

    staff: Mapped[Staff] = relationship(lazy="joined")


class SignInLimit(Base):
    """What one client address or one phone has tried lately (`key` names the budget and a
    hash of the subject: "guess:addr:…", "send:phone:…"), shared by every backend process."""

    __tablename__ = "sign_in_limits"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime]
    blocked_until: Mapped[datetime | None]


class ApiToken(CreatedMixin, Base):
    """An admin API token of a staff member (several per person, each with a label and an
    expiry). The token is shown once; `token_hash` is its sha256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    staff: Mapped[Staff] = relationship(lazy="joined")
