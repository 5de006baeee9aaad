"""The traveller file: a row per traveller of a booking, its details sealed (Fernet, keys from
the environment), the permits each product needs (the permit worksheet's columns), and an
outbound message's WhatsApp Flow (the papers asked for inside the chat).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 23:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "travellers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=120), nullable=True),
        sa.Column("sealed_details", sa.Text(), nullable=True),
        sa.Column("passport_photo_key", sa.String(length=120), nullable=True),
        sa.Column("passport_photo_type", sa.String(length=40), nullable=True),
        sa.Column("portrait_photo_key", sa.String(length=120), nullable=True),
        sa.Column("portrait_photo_type", sa.String(length=40), nullable=True),
        sa.Column("passport_photo_media_id", sa.String(length=36), nullable=True),
        sa.Column("portrait_photo_media_id", sa.String(length=36), nullable=True),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("verified_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_by", sa.String(length=36), nullable=True),
        sa.Column("locked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=36), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("purged_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_travellers_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["verified_by"], ["staff.id"], name=op.f("fk_travellers_verified_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["locked_by"], ["staff.id"], name=op.f("fk_travellers_locked_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_travellers")),
        sa.UniqueConstraint(
            "booking_id", "position", name=op.f("uq_travellers_booking_id_position")
        ),
    )
    with op.batch_alter_table("travellers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_travellers_booking_id"), ["booking_id"], unique=False)
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flow", sa.JSON(), nullable=True))
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(sa.Column("permits", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.alter_column("permits", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_column("flow")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_column("permits")
    with op.batch_alter_table("travellers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travellers_booking_id"))
    op.drop_table("travellers")
