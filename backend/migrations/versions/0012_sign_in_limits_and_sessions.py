"""Sign-in budgets per client address and per phone, where a session signed in from, and
admin API tokens in their own table (several per person, each with an expiry).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens that exist before this migration keep working for the default lifetime.
CARRIED_OVER_DAYS = 90


def upgrade() -> None:
    op.create_table(
        "sign_in_limits",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_until", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_limits")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_address", sa.String(length=64), nullable=True))
    tokens = op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_api_tokens_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_index(op.f("ix_api_tokens_staff_id"), "api_tokens", ["staff_id"], unique=False)
    # Each member's one token moves into the table, so nobody's scripts stop working today.
    connection = op.get_bind()
    now = datetime.now(UTC)
    rows = connection.execute(
        sa.text("SELECT id, api_token_hash FROM staff WHERE api_token_hash IS NOT NULL")
    ).all()
    if rows:
        op.bulk_insert(
            tokens,
            [
                {
                    "staff_id": staff_id,
                    "token_hash": token_hash,
                    "label": "token from before expiry",
                    "expires_at": now + timedelta(days=CARRIED_OVER_DAYS),
                    "created_at": now,
                }
                for staff_id, token_hash in rows
            ],
        )
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_constraint("uq_staff_api_token_hash", type_="unique")
        batch_op.drop_column("api_token_hash")


def downgrade() -> None:
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("api_token_hash", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_staff_api_token_hash", ["api_token_hash"])
    # The newest live token of each member goes back to their one column.
    op.execute(
        sa.text(
            "UPDATE staff SET api_token_hash = (SELECT t.token_hash FROM api_tokens t"
            " WHERE t.staff_id = staff.id AND t.revoked_at IS NULL"
            " ORDER BY t.id DESC LIMIT 1)"
        )
    )
    op.drop_index(op.f("ix_api_tokens_staff_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_column("client_address")
    op.drop_table("sign_in_limits")
