"""A contact's consent per category of message (Meta's template categories)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.models.base import Base


class ContactConsent(Base):
    """Where a contact stands on one category of message, `utility` or `marketing`, and why
    (backend/services/consent.py). `opted_in`: they agreed; `opted_out`: they said no (STOP,
    or Meta's 131050: they stopped marketing in WhatsApp); `paused`: Meta's per-user marketing
    limit (131049) until `paused_until`. No row: nothing said either way."""

    __tablename__ = "contact_consents"

    contact_id: Mapped[str] = mapped_column(ForeignKey("contacts.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    paused_until: Mapped[datetime | None]
    # Meta's limits in a row since the last opt-in or delivered marketing: each pause is longer.
    pauses: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(32))  # stop, start, meta_131050, customer, ...
    changed_at: Mapped[datetime]
