"""Consent per category of message (issue 26): `contact_consents` keeps where a contact stands
on utility and marketing messages: opted in, opted out (STOP, or Meta's 131050) or paused
(Meta's per-user marketing limit, 131049).

Revision ID: 0023_marketing_consent
Revises: 0022_message_prices
Create Date: 2026-12-07 10:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0023_marketing_consent"
down_revision: str | None = "0022_message_prices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_consents",
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("paused_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("pauses", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("changed_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_contact_consents_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("contact_id", "category", name=op.f("pk_contact_consents")),
    )


def downgrade() -> None:
    op.drop_table("contact_consents")
