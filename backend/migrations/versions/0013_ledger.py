"""The ledger: one append-only row per movement of money; what a booking has paid is derived
from it, so `bookings.paid_minor` goes. Each applied payment becomes a `payment` entry; a paid
amount no payment explains (bookings written directly, such as the demo's history) becomes one
carried-over entry, so every booking has paid exactly what it had before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 16:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from backend.models.base import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = "ledger_entries is append-only"
CARRIED_OVER = "paid before the ledger existed"


def upgrade() -> None:
    entries = op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("booking_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("base_amount_minor", sa.Integer(), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=32), nullable=False),
        sa.Column("recorded_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("provider_ref", sa.String(length=120), nullable=True),
        sa.Column("payment_id", sa.String(length=36), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name=op.f("fk_ledger_entries_booking_id_bookings")
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_ledger_entries_payment_id_payments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint(
            "method", "provider_ref", name=op.f("uq_ledger_entries_method_provider_ref")
        ),
        sa.UniqueConstraint("payment_id", name=op.f("uq_ledger_entries_payment_id")),
    )
    op.create_index(
        op.f("ix_ledger_entries_booking_id"), "ledger_entries", ["booking_id"], unique=False
    )
    op.create_index("ix_ledger_entries_recorded_at", "ledger_entries", ["recorded_at"])
    _backfill(entries)
    # A plain ALTER TABLE on SQLite too (3.35+): batch mode would copy `bookings` and drop the
    # old table, which the rows of payments, holds, ... still reference.
    op.drop_column("bookings", "paid_minor")
    _refuse_update_and_delete()


def _backfill(entries: sa.Table) -> None:
    connection = op.get_bind()
    # Applied payments only: a flagged one was kept for staff and never counted as paid.
    applied = connection.execute(
        sa.text(
            "SELECT p.id, p.booking_id, p.provider, p.provider_event_id, p.amount_minor,"
            " p.currency, p.received_at, b.currency FROM payments p"
            " JOIN bookings b ON b.id = p.booking_id"
            " WHERE p.flagged_reason IS NULL ORDER BY p.received_at, p.id"
        )
    ).all()
    rows = [
        {
            "booking_id": booking_id,
            "kind": "payment",
            "method": "stripe" if provider == "stripe" else "local",
            "amount_minor": amount,
            "currency": currency,
            # An applied payment was in the booking's currency, the base currency today.
            "base_amount_minor": amount,
            "base_currency": base_currency,
            "rate": "1",
            "recorded_at": _utc(received_at),
            "recorded_by": "PAYMENT",
            # As backend.services.ledger.payment_ref names it.
            "provider_ref": event_id
            if provider in ("stripe", "local")
            else f"{provider}:{event_id}",
            "payment_id": payment_id,
        }
        for (
            payment_id,
            booking_id,
            provider,
            event_id,
            amount,
            currency,
            received_at,
            base_currency,
        ) in applied
    ]
    explained: dict[str, int] = {}
    for row in rows:
        explained[row["booking_id"]] = explained.get(row["booking_id"], 0) + row["amount_minor"]
    now = datetime.now(UTC)
    bookings = connection.execute(
        sa.text("SELECT id, paid_minor, currency, created_at FROM bookings WHERE paid_minor <> 0")
    ).all()
    for booking_id, paid, currency, created_at in bookings:
        rest = paid - explained.get(booking_id, 0)
        if rest:
            rows.append(
                {
                    "booking_id": booking_id,
                    "kind": "payment",
                    "method": "local",
                    "amount_minor": rest,
                    "currency": currency,
                    "base_amount_minor": rest,
                    "base_currency": currency,
                    "rate": "1",
                    "recorded_at": _utc(created_at) if created_at is not None else now,
                    "recorded_by": "SYSTEM",
                    "provider_ref": None,
                    "payment_id": None,
                    "note": CARRIED_OVER,
                }
            )
    if rows:
        op.bulk_insert(entries, [{"note": None, **row} for row in rows])


def _utc(value: datetime | str) -> datetime:
    # SQLite hands back text, PostgreSQL an aware datetime.
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _refuse_update_and_delete() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION ledger_entries_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'restrict_violation';
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        op.execute(
            """
            CREATE TRIGGER ledger_entries_append_only
            BEFORE UPDATE OR DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();
            """
        )
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"""
                CREATE TRIGGER ledger_entries_no_{operation.lower()}
                BEFORE {operation} ON ledger_entries
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}: {operation} refused'); END;
                """
            )


def downgrade() -> None:
    op.add_column(
        "bookings", sa.Column("paid_minor", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute(
        sa.text(
            "UPDATE bookings SET paid_minor = (SELECT COALESCE(SUM(e.base_amount_minor), 0)"
            " FROM ledger_entries e WHERE e.booking_id = bookings.id)"
        )
    )
    # 0001 declared the column without a server default. SQLite keeps it: dropping a default
    # copies the table, which the rows referencing bookings forbid.
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("bookings", "paid_minor", server_default=None)
        op.execute("DROP TRIGGER IF EXISTS ledger_entries_append_only ON ledger_entries")
        op.execute("DROP FUNCTION IF EXISTS ledger_entries_append_only()")
    else:
        for operation in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS ledger_entries_no_{operation}")
    op.drop_index("ix_ledger_entries_recorded_at", table_name="ledger_entries")
    op.drop_index(op.f("ix_ledger_entries_booking_id"), table_name="ledger_entries")
    op.drop_table("ledger_entries")
