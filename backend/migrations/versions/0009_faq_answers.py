"""The operator's answers to travellers' practical questions (FAQ), editable by staff; the
products' difficulty, highest altitude and minimum age (for recommendations).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 03:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "faq_answers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("product_code", sa.String(length=8), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_staff_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_faq_answers_updated_by_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_answers")),
        sa.UniqueConstraint(
            "topic", "product_code", name=op.f("uq_faq_answers_topic_product_code")
        ),
    )
    op.create_index(op.f("ix_faq_answers_topic"), "faq_answers", ["topic"])
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("difficulty", sa.String(length=16), nullable=False, server_default="moderate")
        )
        batch_op.add_column(sa.Column("max_altitude_m", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("min_age", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("min_age")
        batch_op.drop_column("max_altitude_m")
        batch_op.drop_column("difficulty")
    op.drop_table("faq_answers")
