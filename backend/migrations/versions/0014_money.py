"""Money beyond the card: proofs of transfer and card-link payments, refunds and credits,
staff-set exchange rates (append-only, like the ledger) and the cancellation policy as data.
The ledger learns a receipt number (cash), the proof it was verified from and the refund it
paid out. The policy's lines are seeded from the words the FAQ gave until now.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RATES_MESSAGE = "exchange_rates is append-only"

# The house policy the FAQ described: 30 days or more before departure, all but a $50 fee
# back; 15 to 29 days, the deposit is kept (its share of the price); under 15 days, nothing.
HOUSE_RULES = (
    {"days_before": 30, "refund_percent": 100, "fee_minor": 5000, "note": "admin fee kept"},
    {"days_before": 15, "refund_percent": 70, "fee_minor": 0, "note": "the deposit is kept"},
    {"days_before": 0, "refund_percent": 0, "fee_minor": 0, "note": "no refund"},
)


def _id() -> sa.types.TypeEngine:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("refundable_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("policy_note", sa.String(length=300), nullable=True),
        sa.Column("choice", sa.String(length=8), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=True),
        sa.Column("provider_refund_id", sa.String(length=120), nullable=True),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("decline_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_refunds_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff.id"], name=op.f("fk_refunds_decided_by_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("provider_refund_id", name=op.f("uq_refunds_provider_refund_id")),
    )
    op.create_index(op.f("ix_refunds_booking_id"), "refunds", ["booking_id"])
    op.create_index(op.f("ix_refunds_status"), "refunds", ["status"])

    op.create_table(
        "payment_proofs",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("media_id", sa.String(length=36), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=240), nullable=True),
        sa.Column("content_type", sa.String(length=120), nullable=True),
        sa.Column("stated_amount_minor", sa.Integer(), nullable=True),
        sa.Column("stated_currency", sa.String(length=3), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=36), nullable=True),
        sa.Column("decided_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sa.String(length=300), nullable=True),
        sa.Column("refund_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_payment_proofs_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media_attachments.id"],
            name=op.f("fk_payment_proofs_media_id_media_attachments"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["staff.id"], name=op.f("fk_payment_proofs_decided_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_payment_proofs_refund_id_refunds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_proofs")),
        sa.UniqueConstraint("sha256", name=op.f("uq_payment_proofs_sha256")),
        sa.UniqueConstraint("media_id", name=op.f("uq_payment_proofs_media_id")),
    )
    op.create_index(op.f("ix_payment_proofs_booking_id"), "payment_proofs", ["booking_id"])
    op.create_index(op.f("ix_payment_proofs_status"), "payment_proofs", ["status"])
    op.create_index(op.f("ix_payment_proofs_refund_id"), "payment_proofs", ["refund_id"])

    # New columns on the append-only ledger: adding a column updates no row, and on SQLite
    # a plain ADD COLUMN (its foreign key inline) copies no table, which the triggers forbid.
    op.add_column("ledger_entries", sa.Column("receipt_number", sa.String(24), nullable=True))
    for column, table in (("proof_id", "payment_proofs"), ("refund_id", "refunds")):
        name = op.f(f"fk_ledger_entries_{column}_{table}")
        if op.get_bind().dialect.name == "postgresql":
            op.add_column("ledger_entries", sa.Column(column, sa.String(36), nullable=True))
            op.create_foreign_key(name, "ledger_entries", table, [column], ["id"])
        else:
            op.execute(
                f"ALTER TABLE ledger_entries ADD COLUMN {column} VARCHAR(36)"
                f" CONSTRAINT {name} REFERENCES {table} (id)"
            )
        op.create_index(op.f(f"ix_ledger_entries_{column}"), "ledger_entries", [column])
    op.create_index(
        op.f("ix_ledger_entries_receipt_number"), "ledger_entries", ["receipt_number"], unique=True
    )

    op.create_table(
        "exchange_rates",
        sa.Column("id", _id(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("buffer_percent", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint(
            "currency",
            "base_currency",
            "valid_from",
            name=op.f("uq_exchange_rates_currency_base_currency_valid_from"),
        ),
    )
    _refuse_update_and_delete("exchange_rates", RATES_MESSAGE)

    rules = op.create_table(
        "cancellation_rules",
        sa.Column("id", _id(), nullable=False),
        sa.Column("product_id", sa.String(length=36), nullable=True),
        sa.Column("days_before", sa.Integer(), nullable=False),
        sa.Column("refund_percent", sa.Integer(), nullable=False),
        sa.Column("fee_minor", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_cancellation_rules_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cancellation_rules")),
        sa.UniqueConstraint(
            "product_id",
            "days_before",
            name=op.f("uq_cancellation_rules_product_id_days_before"),
        ),
    )
    op.create_index(op.f("ix_cancellation_rules_product_id"), "cancellation_rules", ["product_id"])
    op.bulk_insert(rules, [{"product_id": None, **rule} for rule in HOUSE_RULES])


def _refuse_update_and_delete(table: str, message: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{message}: % refused', TG_OP USING ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            f"""
            CREATE TRIGGER {table}_append_only
            BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
            """
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"""
                CREATE TRIGGER {table}_no_{operation.lower()}
                BEFORE {operation} ON {table}
                BEGIN SELECT RAISE(ABORT, '{message}: {operation} refused'); END;
                """
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS exchange_rates_append_only ON exchange_rates")
        op.execute("DROP FUNCTION IF EXISTS exchange_rates_append_only()")
        for name in (
            "fk_ledger_entries_refund_id_refunds",
            "fk_ledger_entries_proof_id_payment_proofs",
        ):
            op.drop_constraint(op.f(name), "ledger_entries", type_="foreignkey")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS exchange_rates_no_{operation}")
    op.drop_index(op.f("ix_cancellation_rules_product_id"), table_name="cancellation_rules")
    op.drop_table("cancellation_rules")
    op.drop_table("exchange_rates")
    op.drop_index(op.f("ix_ledger_entries_receipt_number"), table_name="ledger_entries")
    for column in ("refund_id", "proof_id"):
        op.drop_index(op.f(f"ix_ledger_entries_{column}"), table_name="ledger_entries")
    for column in ("refund_id", "proof_id", "receipt_number"):
        # SQLite 3.35+ drops a column in place unless an index or a constraint uses it: its
        # inline foreign key does, so the SQLite downgrade leaves these two columns behind.
        if op.get_bind().dialect.name == "postgresql" or column == "receipt_number":
            op.drop_column("ledger_entries", column)
    op.drop_index(op.f("ix_payment_proofs_refund_id"), table_name="payment_proofs")
    op.drop_index(op.f("ix_payment_proofs_status"), table_name="payment_proofs")
    op.drop_index(op.f("ix_payment_proofs_booking_id"), table_name="payment_proofs")
    op.drop_table("payment_proofs")
    op.drop_index(op.f("ix_refunds_status"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_booking_id"), table_name="refunds")
    op.drop_table("refunds")
