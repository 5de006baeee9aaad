"""The FAQ's answers per language (issue 25): each stored answer says its language; the
stored ones are English.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("faq_answers") as batch:
        batch.add_column(sa.Column("language", sa.String(8), nullable=False, server_default="en"))
        batch.drop_constraint("uq_faq_answers_topic_product_code", type_="unique")
        batch.create_unique_constraint(
            "uq_faq_answers_topic_product_code_language", ["topic", "product_code", "language"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM faq_answers WHERE language != 'en'")
    with op.batch_alter_table("faq_answers") as batch:
        batch.drop_constraint("uq_faq_answers_topic_product_code_language", type_="unique")
        batch.create_unique_constraint(
            "uq_faq_answers_topic_product_code", ["topic", "product_code"]
        )
        batch.drop_column("language")
