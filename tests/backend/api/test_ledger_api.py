"""The ledger over the admin API: a booking's entries with what it has paid and owes, and the
accountant's CSV of a range of days in the operator's timezone."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import LedgerEntry
from backend.services import bookings, catalog, contacts, payments
from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)


def _paid_balance(pg_db_url) -> tuple[str, int, str]:
    """A new booking on a demo departure pays its deposit now: (reference, amount, event id)."""
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        contact = contacts.get_or_create_contact(s, "+61499400077", name="Lena")
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=2, actor=SYSTEM
        )
        amount, event = booking.deposit_minor, f"evt_ledger_{booking.id}"
        payments.record_payment(
            s,
            booking_id=booking.id,
            provider="stripe",
            event_id=event,
            amount_minor=amount,
            currency=booking.currency,
            actor=SYSTEM,
        )
        return booking.reference, amount, event


def test_a_bookings_ledger_gives_its_entries_and_what_it_paid(backend_url, world, pg_db_url):
    reference, amount, event = _paid_balance(pg_db_url)
    answer = call(backend_url, world["sales"], "GET", f"/api/bookings/{reference}/ledger")
    assert answer.status_code == 200
    body = answer.json()
    assert body["booking"] == reference
    last = body["entries"][-1]
    assert (last["kind"], last["method"], last["providerRef"]) == ("payment", "stripe", event)
    assert last["amount"]["minor"] == amount and last["rate"] == "1"
    assert body["paid"]["minor"] == sum(e["baseAmount"]["minor"] for e in body["entries"])
    assert body["paid"]["minor"] == amount and body["balance"]["minor"] > 0
    assert call(backend_url, world["ops"], "GET", f"/api/bookings/{reference}/ledger").is_success
    assert (
        call(backend_url, world["guide"], "GET", f"/api/bookings/{reference}/ledger").status_code
        == 403
    )
    assert (
        call(backend_url, world["sales"], "GET", "/api/bookings/EBC2599999/ledger").status_code
        == 404
    )


def test_the_csv_holds_the_days_entries_in_the_operators_timezone(backend_url, world, pg_db_url):
    reference, amount, event = _paid_balance(pg_db_url)
    today = clock.local_today()
    answer = call(
        backend_url,
        world["ops"],
        "GET",
        "/api/ledger.csv",
        params={"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == [
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
    ]
    mine = [r for r in rows if r["provider_ref"] == event]
    assert len(mine) == 1
    assert mine[0]["booking"] == reference and mine[0]["amount"] == f"{amount / 100:.2f}"
    assert mine[0]["recorded_at"].startswith(today.isoformat())
    assert mine[0]["recorded_at"].endswith("+05:45")  # Kathmandu
    with transaction(pg_db_url) as s:
        recorded_today = [
            e
            for e in s.scalars(select(LedgerEntry))
            if e.recorded_at.astimezone(clock.local_now().tzinfo).date() == today
        ]
    assert len(rows) == len(recorded_today)
    # The range is half-open: the day `to` names is not in it.
    before = call(
        backend_url,
        world["ops"],
        "GET",
        "/api/ledger.csv",
        params={"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()},
    )
    assert event not in before.text and before.text.startswith("recorded_at,booking")


def test_the_csv_refuses_a_bad_range_and_is_not_for_sales(backend_url, world):
    for params in (
        {},
        {"from": "2026-12-01"},
        {"from": "yesterday", "to": "2026-12-02"},
        {"from": "2026-12-05", "to": "2026-12-01"},
        {"from": "2026-02-30", "to": "2026-03-01"},
    ):
        refused = call(backend_url, world["admin"], "GET", "/api/ledger.csv", params=params)
        assert refused.status_code == 422, params
        assert refused.json()["fields"]
    ok = {"from": "2026-12-01", "to": "2026-12-02"}
    assert call(backend_url, world["sales"], "GET", "/api/ledger.csv", params=ok).status_code == 403
