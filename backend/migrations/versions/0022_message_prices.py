"""What each WhatsApp message costs (issue 26): Meta's rate card as data (`message_rates`,
updated by ADMIN) and the price of every outbound message, fixed when it is delivered
(`message_costs`).

The seed is a small part of Meta's published USD rate card for per-message pricing
(effective 1 July 2025: marketing, utility and authentication per delivered template, by the
recipient's market), for the markets a trekking operator's guests mostly come from. The figures
are approximate and change: staff check them against Meta's current rate card
(developers.facebook.com/docs/whatsapp/pricing) and update them with `tms message-rates set`
or `POST /api/message-rates` (docs/whatsapp.md).

Revision ID: 0022_message_prices
Revises: 0021_message_templates
Create Date: 2026-12-07 09:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timezone

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0022_message_prices"
down_revision: str | None = "0021_message_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# market → (calling codes, marketing, utility, authentication), USD per delivered message.
SEED: dict[str, tuple[tuple[str, ...], str, str, str]] = {
    "North America": (("1",), "0.0250", "0.0034", "0.0135"),
    "United Kingdom": (("44",), "0.0529", "0.0220", "0.0358"),
    "Germany": (("49",), "0.1365", "0.0550", "0.0768"),
    "France": (("33",), "0.0859", "0.0300", "0.0408"),
    "Italy": (("39",), "0.0691", "0.0300", "0.0378"),
    "Spain": (("34",), "0.0615", "0.0200", "0.0342"),
    "Netherlands": (("31",), "0.1597", "0.0500", "0.0722"),
    "India": (("91",), "0.0118", "0.0014", "0.0014"),
    "Rest of Western Europe": (
        ("32", "41", "43", "45", "46", "47", "351", "353", "358"),
        "0.0592",
        "0.0171",
        "0.0418",
    ),
    "Rest of Asia Pacific": (
        ("61", "64", "65", "81", "82", "86", "880", "975", "977"),
        "0.0732",
        "0.0113",
        "0.0113",
    ),
    "Other": (("",), "0.0604", "0.0077", "0.0226"),
}
SEEDED_FROM = date(2025, 7, 1)


def upgrade() -> None:
    rates = op.create_table(
        "message_rates",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("market", sa.String(length=60), nullable=False),
        sa.Column("calling_code", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("price", sa.String(length=24), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_rates")),
        sa.UniqueConstraint(
            "calling_code",
            "category",
            "valid_from",
            name=op.f("uq_message_rates_calling_code_category_valid_from"),
        ),
    )
    op.create_table(
        "message_costs",
        sa.Column(
            "outbound_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("pricing_type", sa.String(length=32), nullable=True),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("market", sa.String(length=60), nullable=True),
        sa.Column("price", sa.String(length=24), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("rate_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbound_id"],
            ["outbound_messages.id"],
            name=op.f("fk_message_costs_outbound_id_outbound_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["rate_id"], ["message_rates.id"], name=op.f("fk_message_costs_rate_id_message_rates")
        ),
        sa.PrimaryKeyConstraint("outbound_id", name=op.f("pk_message_costs")),
    )
    op.create_index(
        op.f("ix_message_costs_delivered_at"), "message_costs", ["delivered_at"], unique=False
    )
    now = datetime.now(timezone.utc)  # noqa: UP017  (when the seed was written, not business time)
    op.bulk_insert(
        rates,
        [
            {
                "market": market,
                "calling_code": code,
                "category": category,
                "price": price,
                "currency": "USD",
                "valid_from": SEEDED_FROM,
                "set_by": "seed: Meta rate card 2025-07-01",
                "set_at": now,
            }
            for market, (codes, *prices) in SEED.items()
            for code in codes
            for category, price in zip(
                ("marketing", "utility", "authentication"), prices, strict=True
            )
        ],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_message_costs_delivered_at"), table_name="message_costs")
    op.drop_table("message_costs")
    op.drop_table("message_rates")
