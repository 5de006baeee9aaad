"""Per-recipient pacing shared by every sender process.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 23:45:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "recipient_pacing",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_recipient_pacing")),
    )


def downgrade() -> None:
    op.drop_table("recipient_pacing")
