"""Payment proofs over the admin API (OPS, ADMIN): the pending ones, verify as received (the
booking moves, flags returned and kept), reject with a reason the customer receives; a
decided proof is refused; a foreign currency with no rate says to set one. Against the real
backend (its own process) on PostgreSQL: the rules beneath are tested on both databases
(tests/backend/services/test_payment_proofs.py), and the demo (SQLite) verifies a receipt over
this API end to end."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

import httpx
import pytest
from sqlalchemy import select

from backend import clock
from backend.db import dispose_engines, transaction
from backend.domain.actor import Actor
from backend.domain.enums import Source
from backend.models import Booking, LedgerEntry, LedgerMethod, OutboundMessage
from backend.services import bookings, catalog, contacts, payment_proofs
from devkit.demo_data import load
from tests import factories
from tests.conftest import truncate_pg
from tests.processes import start_backend

_numbers = count(1)
_tokens: dict[str, dict[str, str]] = {}


@pytest.fixture(scope="module")
def stack(pg_migrated, tmp_path_factory):
    url = pg_migrated
    media = tmp_path_factory.mktemp("proofs-media")
    server, port = start_backend(
        url,
        tmp_path_factory.mktemp("proofs-logs"),
        workers=False,
        extra_env={"MEDIA_DIR": str(media), "PAYMENT_CARD_LINK_SURCHARGE_PERCENT": "3.5"},
    )
    try:
        server.wait_ready(60)
        yield f"http://127.0.0.1:{port}", url, media
    finally:
        server.stop()
        dispose_engines()


@pytest.fixture
def world(stack, story_clock, monkeypatch):
    base, url, media = stack
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MEDIA_DIR", str(media))
    monkeypatch.setenv("PAYMENT_CARD_LINK_SURCHARGE_PERCENT", "3.5")
    if url.startswith("postgresql"):
        truncate_pg(url)
        _tokens.pop(url, None)
    if url not in _tokens:
        with transaction(url) as s:
            tokens = load(s).staff_tokens
        _tokens[url] = {
            "ops": tokens["Priya Thapa"],
            "admin": tokens["Anil Admin"],
            "sales": tokens["Sarah Gurung"],
        }
    return base, url, _tokens[url]


def call(base, token, method, path, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{base}{path}", headers=headers, timeout=30, **kw)


def _proof(url, method=LedgerMethod.BANK_TRANSFER) -> tuple[str, str, int, str]:
    """A new hold with a receipt uploaded: (proof id, reference, deposit, customer phone)."""
    n = next(_numbers)
    with transaction(url) as s:
        departure = factories.departure(
            s,
            catalog.get_product(s, "EBC"),
            start=clock.local_today() + timedelta(days=300 + n),
        )
        contact = contacts.get_or_create_contact(s, f"+61499{700000 + n}", name="Lena")
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=2, actor=Actor(
                Source.WHATSAPP, phone=contact.phone
            )
        )  # fmt: skip
        proof = payment_proofs.file_upload(
            s,
            booking,
            data=b"\xff\xd8\xff\xe0" + f"receipt {url} {n}".encode() * 10,
            filename="r.jpg",
            content_type="image/jpeg",
            method=method,
            actor=Actor(Source.WHATSAPP, phone=contact.phone),
        )
        return proof.id, booking.reference, booking.deposit_minor, contact.phone


def _decimal(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def test_pending_proofs_are_listed_for_ops_only(world):
    base, url, tokens = world
    proof_id, reference, deposit, _ = _proof(url)
    answer = call(base, tokens["ops"], "GET", "/api/payment-proofs?status=pending")
    assert answer.status_code == 200
    [listed] = [p for p in answer.json()["proofs"] if p["id"] == proof_id]
    assert listed["booking"] == reference and listed["status"] == "PENDING"
    assert listed["method"] == "bank_transfer" and listed["fileReady"]
    assert {"minor": deposit, "currency": "USD"}.items() <= listed["owed"][0].items()
    assert call(base, tokens["admin"], "GET", "/api/payment-proofs").is_success
    assert call(base, tokens["sales"], "GET", "/api/payment-proofs").status_code == 403
    assert call(base, None, "GET", "/api/payment-proofs").status_code == 401
    assert call(base, tokens["ops"], "GET", "/api/payment-proofs?status=odd").status_code == 422


def test_verify_books_the_money_and_a_second_decision_is_refused(world):
    base, url, tokens = world
    proof_id, reference, deposit, phone = _proof(url)
    today = clock.local_today().isoformat()
    body = {"amount": _decimal(deposit), "currency": "USD", "valueDate": today}
    assert (
        call(
            base, tokens["sales"], "POST", f"/api/payment-proofs/{proof_id}/verify", json=body
        ).status_code
        == 403
    )
    answer = call(base, tokens["ops"], "POST", f"/api/payment-proofs/{proof_id}/verify", json=body)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["confirmedNow"] and result["bookingStatus"] == "CONFIRMED"
    assert result["proof"]["status"] == "VERIFIED" and result["proof"]["flags"] == []
    assert result["paid"]["minor"] == deposit
    [entry] = result["entries"]
    assert (entry["method"], entry["providerRef"]) == ("bank_transfer", f"proof:{proof_id}")
    again = call(base, tokens["ops"], "POST", f"/api/payment-proofs/{proof_id}/verify", json=body)
    assert again.status_code == 409 and "already verified" in again.json()["error"]
    refused = call(
        base, tokens["ops"], "POST", f"/api/payment-proofs/{proof_id}/reject", json={"reason": "x"}
    )
    assert refused.status_code == 409
    with transaction(url) as s:
        booking = s.scalar(select(Booking).where(Booking.reference == reference))
        assert (
            len(s.scalars(select(LedgerEntry).where(LedgerEntry.booking_id == booking.id)).all())
            == 1
        )
        assert any(
            "Booking Confirmed" in b
            for b in s.scalars(
                select(OutboundMessage.body).where(OutboundMessage.recipient_phone == phone)
            )
        )


def test_flags_are_returned_and_a_card_link_books_its_surcharge_apart(world):
    base, url, tokens = world
    proof_id, _, deposit, _ = _proof(url, LedgerMethod.BANK_CARD_LINK)
    old = (clock.local_today() - timedelta(days=40)).isoformat()
    total = deposit + round(deposit * 0.035)
    answer = call(
        base, tokens["ops"], "POST", f"/api/payment-proofs/{proof_id}/verify",
        json={"amount": _decimal(total), "currency": "USD", "valueDate": old},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    flags = answer.json()["proof"]["flags"]
    assert "value_date_old" in flags and "value_date_before_booking" in flags
    assert "amount" not in flags
    kinds = sorted((e["kind"], e["amount"]["minor"]) for e in answer.json()["entries"])
    assert kinds == [("payment", deposit), ("surcharge", total - deposit)]
    assert answer.json()["paid"]["minor"] == deposit


def test_a_foreign_currency_without_a_rate_says_to_set_one(world):
    base, url, tokens = world
    proof_id, *_ = _proof(url)
    answer = call(
        base, tokens["ops"], "POST", f"/api/payment-proofs/{proof_id}/verify",
        json={"amount": "1900.00", "currency": "CHF", "valueDate": clock.local_today().isoformat()},
    )  # fmt: skip
    assert answer.status_code == 409
    assert "set a rate for CHF" in answer.json()["error"]
    assert call(base, tokens["ops"], "GET", "/api/payment-proofs").json()["proofs"]
    bad = call(
        base, tokens["ops"], "POST", f"/api/payment-proofs/{proof_id}/verify",
        json={"amount": "12.345", "currency": "USD", "valueDate": "2026-13-01"},
    )  # fmt: skip
    assert bad.status_code == 422 and "valueDate" in bad.json()["fields"]


def test_reject_tells_the_customer_why(world):
    base, url, tokens = world
    proof_id, reference, _, phone = _proof(url)
    answer = call(
        base, tokens["ops"], "POST", f"/api/payment-proofs/{proof_id}/reject",
        json={"reason": "The receipt shows another account"},
    )  # fmt: skip
    assert answer.status_code == 200 and answer.json()["proof"]["status"] == "REJECTED"
    with transaction(url) as s:
        told = s.scalars(
            select(OutboundMessage.body)
            .where(OutboundMessage.recipient_phone == phone)
            .order_by(OutboundMessage.id.desc())
        ).first()
    assert "The receipt shows another account" in told and reference in told
    assert (
        call(
            base, tokens["ops"], "POST", "/api/payment-proofs/nope/reject", json={"reason": "x"}
        ).status_code
        == 404
    )
    empty = call(base, tokens["ops"], "POST", f"/api/payment-proofs/{proof_id}/reject", json={})
    assert empty.status_code == 422
