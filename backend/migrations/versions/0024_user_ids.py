"""Business-scoped user IDs (issue 26): a contact is known by a phone, a BSUID (Meta's
`user_id`) or both, so `contacts.phone` may be empty and `contacts.user_id` is new (unique).
The columns that hold a WhatsApp address (the phone, else the BSUID) grow to hold a BSUID,
and a stored inbound message keeps its sender's BSUID.

Revision ID: 0024_user_ids
Revises: 0023_marketing_consent
Create Date: 2026-12-07 10:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024_user_ids"
down_revision: str | None = "0023_marketing_consent"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDRESS = 140
PHONE = 20
# (table, column, nullable): the columns that hold an address.
ADDRESS_COLUMNS = [
    ("inbound_messages", "from_phone", False),
    ("message_status_events", "recipient_phone", True),
    ("outbound_messages", "recipient_phone", False),
    ("recipient_pacing", "phone", False),
    ("media_attachments", "from_phone", False),
]


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("phone", existing_type=sa.String(PHONE), nullable=True)
        batch.add_column(sa.Column("user_id", sa.String(length=ADDRESS), nullable=True))
        batch.create_unique_constraint(op.f("uq_contacts_user_id"), ["user_id"])
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("from_user_id", sa.String(length=ADDRESS), nullable=True))
    for table, column, nullable in ADDRESS_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.String(PHONE),
                type_=sa.String(ADDRESS),
                existing_nullable=nullable,
            )


def downgrade() -> None:
    # A contact known only by a BSUID has no place in the older schema: the last step fails
    # on them rather than guess a phone.
    for table, column, nullable in ADDRESS_COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column,
                existing_type=sa.String(ADDRESS),
                type_=sa.String(PHONE),
                existing_nullable=nullable,
            )
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("from_user_id")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_constraint(op.f("uq_contacts_user_id"), type_="unique")
        batch.drop_column("user_id")
        batch.alter_column("phone", existing_type=sa.String(PHONE), nullable=False)
