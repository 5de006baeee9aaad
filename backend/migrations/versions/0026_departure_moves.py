"""Disruption (issue 27): `reschedule_requests` keeps each request to move one booking to
another departure (asked in the chat or made by staff), its fee and the rep's decision;
`departure_moves` a whole departure moved by operations and `move_offers` each booking's offer
in it (its seats set aside on the target while it runs); `trips.delay_days` the contingency
days a trip under way used (its end and the staff's paid days move with them); the guaranteed
departures' minimum group size and deadline (products, departures) and the decision taken.

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
    op.create_table(
        "departure_moves",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("departure_id", sa.String(length=36), nullable=False),
        sa.Column("to_departure_id", sa.String(length=36), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("offer_expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["departure_id"],
            ["departures.id"],
            name=op.f("fk_departure_moves_departure_id_departures"),
        ),
        sa.ForeignKeyConstraint(
            ["to_departure_id"],
            ["departures.id"],
            name=op.f("fk_departure_moves_to_departure_id_departures"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_departure_moves_created_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departure_moves")),
    )
    op.create_index(op.f("ix_departure_moves_departure_id"), "departure_moves", ["departure_id"])
    op.create_table(
        "move_offers",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("move_id", sa.String(length=36), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("to_departure_id", sa.String(length=36), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["move_id"], ["departure_moves.id"], name=op.f("fk_move_offers_move_id_departure_moves")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_move_offers_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["to_departure_id"],
            ["departures.id"],
            name=op.f("fk_move_offers_to_departure_id_departures"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_offers")),
        sa.UniqueConstraint(
            "move_id", "booking_id", name=op.f("uq_move_offers_move_id_booking_id")
        ),
    )
    op.create_index(op.f("ix_move_offers_move_id"), "move_offers", ["move_id"])
    op.create_index(op.f("ix_move_offers_booking_id"), "move_offers", ["booking_id"])
    op.create_index(op.f("ix_move_offers_to_departure_id"), "move_offers", ["to_departure_id"])
    op.create_index(op.f("ix_move_offers_status"), "move_offers", ["status"])
    op.add_column(
        "trips", sa.Column("delay_days", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("products", sa.Column("min_group_size", sa.Integer(), nullable=True))
    op.add_column("products", sa.Column("guarantee_days_before", sa.Integer(), nullable=True))
    op.add_column("departures", sa.Column("min_group_size", sa.Integer(), nullable=True))
    op.add_column(
        "departures", sa.Column("guarantee_decision", sa.String(length=16), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("departures") as batch:
        batch.drop_column("guarantee_decision")
        batch.drop_column("min_group_size")
    with op.batch_alter_table("products") as batch:
        batch.drop_column("guarantee_days_before")
        batch.drop_column("min_group_size")
    with op.batch_alter_table("trips") as batch:
        batch.drop_column("delay_days")
    op.drop_table("move_offers")
    op.drop_table("departure_moves")
    op.drop_index("uq_reschedule_requests_one_open", table_name="reschedule_requests")
    op.drop_index(op.f("ix_reschedule_requests_status"), table_name="reschedule_requests")
    op.drop_index(op.f("ix_reschedule_requests_booking_id"), table_name="reschedule_requests")
    op.drop_table("reschedule_requests")
