"""Travellers' languages (issue 25): `trek_texts` keeps a trek's own texts (name, itinerary,
what is included, what to bring) as staff write them in German, French or Spanish;
`staff_translations.forms` staff's wording of each plural form of a text with a count.

Revision ID: 0027_trek_texts
Revises: 0026_departure_moves
Create Date: 2026-12-07 13:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0027_trek_texts"
down_revision: str | None = "0026_departure_moves"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "trek_texts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=True),
        sa.Column("itinerary", sa.JSON(), nullable=True),
        sa.Column("inclusions", sa.JSON(), nullable=True),
        sa.Column("packing_list", sa.JSON(), nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_staff_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_trek_texts_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_staff_id"],
            ["staff.id"],
            name=op.f("fk_trek_texts_updated_by_staff_id_staff"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trek_texts")),
        sa.UniqueConstraint(
            "product_id", "language", name=op.f("uq_trek_texts_product_id_language")
        ),
    )
    op.create_index(op.f("ix_trek_texts_product_id"), "trek_texts", ["product_id"], unique=False)
    with op.batch_alter_table("staff_translations") as batch:
        batch.add_column(sa.Column("forms", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staff_translations") as batch:
        batch.drop_column("forms")
    op.drop_index(op.f("ix_trek_texts_product_id"), table_name="trek_texts")
    op.drop_table("trek_texts")
