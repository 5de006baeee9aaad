"""The business number's rate limit, shared by every sender process.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sending_slots",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("next_free", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sending_slots")),
    )


def downgrade() -> None:
    op.drop_table("sending_slots")
