"""Lease tokens on the inbox and the outbox: whoever records an outcome must still hold the
row's lease.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 20:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("inbound_messages", "outbound_messages"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    for table in ("outbound_messages", "inbound_messages"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("lease_token")
