"""Staff's own wording of the customer copy per language (issue 25: the console's
Translations page), read before the Babel catalogues.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 06:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_translations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("message_hash", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_staff_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_translations_updated_by_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_translations")),
        sa.UniqueConstraint(
            "language", "message_hash", name=op.f("uq_staff_translations_language_message_hash")
        ),
    )


def downgrade() -> None:
    op.drop_table("staff_translations")
