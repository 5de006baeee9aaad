"""The language a contact is written to in, and whether they chose it (issue 25).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=True))
        batch.add_column(
            sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("language_chosen")
        batch.drop_column("language")
