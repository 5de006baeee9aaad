"""One key per conversation (issue 26): `contacts.sender_key` names the user to the assistant
(Rasa's sender id) and to the inbox's order for as long as the contact lives, whichever of
their phone or BSUID a message carries and however those change; `inbound_messages.sender_key`
is the key a stored message is ordered under (set when the inbox first sees it).

Existing contacts keep the key they had (their address: the phone, else the BSUID), so no
dialogue starts afresh.

Revision ID: 0028_sender_keys
Revises: 0027_trek_texts
Create Date: 2026-12-07 13:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028_sender_keys"
down_revision: str | None = "0027_trek_texts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADDRESS = 140


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("sender_key", sa.String(length=ADDRESS), nullable=True))
    op.execute("UPDATE contacts SET sender_key = COALESCE(phone, user_id)")
    with op.batch_alter_table("contacts") as batch:
        batch.create_unique_constraint(op.f("uq_contacts_sender_key"), ["sender_key"])
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("sender_key", sa.String(length=ADDRESS), nullable=True))
    # Stored messages are ordered under their address, as before.
    op.execute("UPDATE inbound_messages SET sender_key = from_phone")
    op.create_index(op.f("ix_inbound_messages_sender_key"), "inbound_messages", ["sender_key"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbound_messages_sender_key"), table_name="inbound_messages")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("sender_key")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_constraint(op.f("uq_contacts_sender_key"), type_="unique")
        batch.drop_column("sender_key")
