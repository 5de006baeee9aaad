"""Messaging limits and campaigns (issue 26): `messaging_limits` holds the portfolio's tier as
Meta last said it, `initiated_conversations` the users messages went to outside their customer
service window (what the tier counts over a moving 24 hours), `campaigns` and
`campaign_recipients` the marketing campaigns and whom each was sent to (once).

Revision ID: 0025_campaigns
Revises: 0024_user_ids
Create Date: 2026-12-07 10:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0025_campaigns"
down_revision: str | None = "0024_user_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "messaging_limits",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_messaging_limits")),
    )
    op.create_table(
        "initiated_conversations",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("phone", sa.String(length=140), nullable=False),
        sa.Column("opened_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("outbound_id", BIG_ID, nullable=True),
        sa.Column("purpose", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiated_conversations")),
    )
    op.create_index(
        "ix_initiated_conversations_at",
        "initiated_conversations",
        ["opened_at", "phone"],
        unique=False,
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("template_name", sa.String(length=512), nullable=False),
        sa.Column("template_params", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reply_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("sent_by", sa.String(length=36), nullable=True),
        sa.Column("sent_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["staff.id"], name=op.f("fk_campaigns_created_by_staff")
        ),
        sa.ForeignKeyConstraint(["sent_by"], ["staff.id"], name=op.f("fk_campaigns_sent_by_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "campaign_recipients",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=36), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("phone", sa.String(length=140), nullable=False),
        sa.Column("outbound_id", BIG_ID, nullable=True),
        sa.Column("queued_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_campaign_recipients_contact_id_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["outbound_id"],
            ["outbound_messages.id"],
            name=op.f("fk_campaign_recipients_outbound_id_outbound_messages"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipients")),
        sa.UniqueConstraint(
            "campaign_id", "contact_id", name=op.f("uq_campaign_recipients_campaign_id_contact_id")
        ),
    )
    op.create_index(
        op.f("ix_campaign_recipients_campaign_id"),
        "campaign_recipients",
        ["campaign_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_campaign_recipients_outbound_id"),
        "campaign_recipients",
        ["outbound_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_recipients_outbound_id"), table_name="campaign_recipients")
    op.drop_index(op.f("ix_campaign_recipients_campaign_id"), table_name="campaign_recipients")
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
    op.drop_index("ix_initiated_conversations_at", table_name="initiated_conversations")
    op.drop_table("initiated_conversations")
    op.drop_table("messaging_limits")
