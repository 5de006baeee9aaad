"""Media from the field: attachments fetched from the Graph API, and where a trip was last seen.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 03:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_attachments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "inbound_message_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("from_phone", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=120), nullable=True),
        sa.Column("mime_type", sa.String(length=120), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("filename", sa.String(length=240), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("staff_id", sa.String(length=36), nullable=True),
        sa.Column("trip_id", sa.String(length=36), nullable=True),
        sa.Column("incident_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("stored_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbound_message_id"],
            ["inbound_messages.id"],
            name=op.f("fk_media_attachments_inbound_message_id_inbound_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_media_attachments_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["trip_id"], ["trips.id"], name=op.f("fk_media_attachments_trip_id_trips")
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_media_attachments_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_attachments")),
        sa.UniqueConstraint(
            "inbound_message_id", name=op.f("uq_media_attachments_inbound_message_id")
        ),
    )
    op.create_index("ix_media_pending", "media_attachments", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_media_attachments_from_phone"), "media_attachments", ["from_phone"])
    op.create_index(op.f("ix_media_attachments_trip_id"), "media_attachments", ["trip_id"])
    op.create_index(op.f("ix_media_attachments_incident_id"), "media_attachments", ["incident_id"])
    with op.batch_alter_table("trips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("last_longitude", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("last_position_at", UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("start_latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("start_longitude", sa.Float(), nullable=True))
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
    with op.batch_alter_table("trips", schema=None) as batch_op:
        for column in (
            "start_longitude",
            "start_latitude",
            "last_position_at",
            "last_longitude",
            "last_latitude",
        ):
            batch_op.drop_column(column)
    op.drop_table("media_attachments")
