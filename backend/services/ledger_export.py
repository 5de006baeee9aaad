"""The ledger for the accountant and the payments page: the entries of a range of the operator's
days as CSV (one writer for the admin API's `GET /api/ledger.csv` and the console's download),
and a day's movements totalled by method and currency."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import get_settings
from backend.models import Booking, LedgerEntry
from backend.services import ledger

LEDGER_CSV_COLUMNS = (
    "recorded_at",
    "booking",
    "kind",
    "method",
    "amount",
    "currency",
    "base_amount",
    "base_currency",
    "rate",
    "provider_ref",
    "recorded_by",
    "note",
)


def day_start(day: date) -> datetime:
    """The start of `day` in the operator's timezone."""
    return datetime.combine(day, time.min, tzinfo=get_settings().tz)


def decimal_text(minor: int) -> str:
    """Minor units as a signed decimal with two places, exactly (-205200 → "-2052.00")."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def references_of(session: Session, entries: Sequence[LedgerEntry]) -> dict[str, str]:
    """Booking id → reference, for the bookings the entries name (one query)."""
    ids = {e.booking_id for e in entries}
    if not ids:
        return {}
    return dict(
        session.execute(select(Booking.id, Booking.reference).where(Booking.id.in_(ids))).all()
    )


def csv_text(session: Session, start: datetime, end: datetime) -> str:
    """The entries recorded in [start, end) as CSV with a header row: times in the operator's
    timezone, amounts as signed decimals (refunds negative)."""
    entries = ledger.between(session, start, end)
    references = references_of(session, entries)
    tz = get_settings().tz
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LEDGER_CSV_COLUMNS)
    for e in entries:
        writer.writerow(
            (
                e.recorded_at.astimezone(tz).isoformat(),
                references[e.booking_id],
                e.kind,
                e.method,
                decimal_text(e.amount_minor),
                e.currency,
                decimal_text(e.base_amount_minor),
                e.base_currency,
                e.rate,
                e.provider_ref or "",
                e.recorded_by,
                e.note or "",
            )
        )
    return out.getvalue()


@dataclass(frozen=True)
class MethodTotal:
    method: str
    currency: str
    count: int
    amount_minor: int  # signed, in `currency`
    base_amount_minor: int
    base_currency: str


@dataclass(frozen=True)
class DayMovements:
    day: date
    entries: Sequence[LedgerEntry]
    references: dict[str, str]  # booking id → reference
    totals: list[MethodTotal]  # by method, then currency


def totals_of(entries: Sequence[LedgerEntry]) -> list[MethodTotal]:
    """The entries' signed sums by method and currency, in a stable order."""
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for e in entries:
        row = sums[(e.method, e.currency, e.base_currency)]
        row[0] += 1
        row[1] += e.amount_minor
        row[2] += e.base_amount_minor
    return [
        MethodTotal(method, currency, count, amount, base, base_currency)
        for (method, currency, base_currency), (count, amount, base) in sorted(sums.items())
    ]


def movements_on(session: Session, day: date) -> DayMovements:
    """Every entry recorded on the operator's `day`, with the totals by method and currency."""
    entries = ledger.between(session, day_start(day), day_start(day + timedelta(days=1)))
    return DayMovements(day, entries, references_of(session, entries), totals_of(entries))
