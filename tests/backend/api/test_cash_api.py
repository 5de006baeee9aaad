"""POST /api/payments/cash: OPS records cash once per Idempotency-Key; more than owed is
refused with what is owed; other roles are refused."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from backend.db import transaction
from backend.models import LedgerEntry, OutboundMessage
from backend.services import bookings, catalog
from tests import factories
from tests.backend.api import test_admin_api
from tests.backend.api.test_admin_api import call

world = test_admin_api.world  # the demo's world and the staff's tokens (a fixture)


def _owing(pg_db_url) -> tuple[str, int]:
    """A new booking on a demo departure with its deposit paid: (reference, balance owed)."""
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = factories.confirmed_booking(s, departure, 2)
        return booking.reference, booking.balance_minor


def _cash(pg_db_url) -> list[LedgerEntry]:
    with transaction(pg_db_url) as s:
        return list(s.scalars(select(LedgerEntry).where(LedgerEntry.method == "cash")))


def _post(url: str, token: str, body: dict, key: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    return httpx.post(f"{url}/api/payments/cash", json=body, headers=headers, timeout=30)


def _decimal(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def test_ops_records_cash_once_per_idempotency_key(backend_url, world, pg_db_url):
    reference, owed = _owing(pg_db_url)
    body = {"booking": reference.lower(), "amount": _decimal(owed), "currency": "usd"}
    first = _post(backend_url, world["ops"], body, "till-2031-1")
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["booking"] == reference and not answer["duplicate"]
    assert answer["receiptNumber"].startswith("CR-") and answer["balance"]["minor"] == 0
    assert answer["entry"]["method"] == "cash" and answer["amount"]["minor"] == owed
    again = _post(backend_url, world["ops"], body, "till-2031-1")
    assert again.status_code == 200 and again.json()["duplicate"]
    assert again.json()["receiptNumber"] == answer["receiptNumber"]
    entries = _cash(pg_db_url)
    assert len(entries) == 1 and entries[0].receipt_number == answer["receiptNumber"]
    with transaction(pg_db_url) as s:
        booking = bookings.find_booking(s, reference)
        receipts = s.scalars(
            select(OutboundMessage.body).where(
                OutboundMessage.contact_id == booking.contact_id,
                OutboundMessage.body.contains(answer["receiptNumber"]),
            )
        ).all()
        assert len(receipts) == 1


def test_more_than_owed_and_other_roles_are_refused(backend_url, world, pg_db_url):
    reference, owed = _owing(pg_db_url)
    too_much = {"booking": reference, "amount": _decimal(owed + 100), "currency": "USD"}
    refused = call(backend_url, world["ops"], "POST", "/api/payments/cash", json=too_much)
    assert refused.status_code == 409
    assert refused.json()["code"] == "more_than_owed"
    assert refused.json()["owed"]["minor"] == owed
    for role in ("sales", "guide"):
        answer = call(
            backend_url,
            world[role],
            "POST",
            "/api/payments/cash",
            json={"booking": reference, "amount": "10.00"},
        )
        assert answer.status_code == 403
    bad = call(
        backend_url,
        world["ops"],
        "POST",
        "/api/payments/cash",
        json={"booking": reference, "amount": "-1"},
    )
    assert bad.status_code == 422 and "amount" in bad.json()["fields"]
    unknown = call(
        backend_url,
        world["ops"],
        "POST",
        "/api/payments/cash",
        json={"booking": "EBC-9901999", "amount": "10.00"},
    )
    assert unknown.status_code == 404
    no_rate = call(
        backend_url,
        world["admin"],
        "POST",
        "/api/payments/cash",
        json={"booking": reference, "amount": "1000.00", "currency": "NPR"},
    )
    assert no_rate.status_code == 409 and "must set one" in no_rate.json()["error"]
    assert _cash(pg_db_url) == []
