"""WhatsApp message templates as records (issue 26): name, language, category, status,
quality and parameters, synced from Meta's message_templates and its template webhooks.

Revision ID: 0021_message_templates
Revises: 0020
Create Date: 2026-12-07 09:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0021_message_templates"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message_templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=512), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("quality", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("params", sa.Integer(), nullable=False),
        sa.Column("quick_replies", sa.JSON(), nullable=False),
        sa.Column("meta_id", sa.String(length=64), nullable=True),
        sa.Column("previous_category", sa.String(length=24), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("name", "language", name=op.f("uq_message_templates_name_language")),
    )


def downgrade() -> None:
    op.drop_table("message_templates")
