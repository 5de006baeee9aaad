"""Disruption (issue 27): `reschedule_requests` keeps each request to move one booking to
another departure (asked in the chat or made by staff), its fee and the rep's decision.

Revision ID: 0026_departure_moves
Revises: 0025_campaigns
Create Date: 2026-12-07 10:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0026_departure_moves"
down_revision: str | None = "0025_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reschedule_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("from_departure_id", sa.String(length=36), nullable=False),
        sa.Column("to_departure_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("fee_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_reschedule_requests_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["from_departure_id"],
            ["departures.id"],
            name=op.f("fk_reschedule_requests_from_departure_id_departures"),
        ),
        sa.ForeignKeyConstraint(
            ["to_departure_id"],
            ["departures.id"],
            name=op.f("fk_reschedule_requests_to_departure_id_departures"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff.id"], name=op.f("fk_reschedule_requests_decided_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reschedule_requests")),
    )
    op.create_index(
        op.f("ix_reschedule_requests_booking_id"), "reschedule_requests", ["booking_id"]
    )
    op.create_index(op.f("ix_reschedule_requests_status"), "reschedule_requests", ["status"])
    op.create_index(
        "uq_reschedule_requests_one_open",
        "reschedule_requests",
        ["booking_id"],
        unique=True,
        postgresql_where=sa.text("status = 'REQUESTED'"),
        sqlite_where=sa.text("status = 'REQUESTED'"),
    )


def downgrade() -> None:
    op.drop_index("uq_reschedule_requests_one_open", table_name="reschedule_requests")
    op.drop_index(op.f("ix_reschedule_requests_status"), table_name="reschedule_requests")
    op.drop_index(op.f("ix_reschedule_requests_booking_id"), table_name="reschedule_requests")
    op.drop_table("reschedule_requests")
