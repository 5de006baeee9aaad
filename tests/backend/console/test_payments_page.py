"""The console's payments page over real HTTP: OPS and ADMIN only, cash recorded once however
often the form is sent, the day's movements by method, the accountant's CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import httpx
from sqlalchemy import select

from backend import clock, texts
from backend.db import transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import BookingStatus, ProofStatus, Source
from backend.models import LedgerEntry, LedgerMethod, OutboundMessage, PaymentProof
from backend.services import bookings, catalog, payment_proofs
from tests import factories

SARAH, PRIYA, RAJESH, ANIL = "+9779801000001", "+9779801000002", "+9779801000003", "+9779801000009"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _token(page: httpx.Response) -> str:
    return re.search(r'name="token" value="([^"]+)"', page.text).group(1)


def _owing(db: str) -> tuple[str, str, int]:
    """(id, reference, balance) of a new booking on a demo departure, its deposit paid."""
    with transaction(db) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = factories.confirmed_booking(s, departure, 2)
        return booking.id, booking.reference, booking.balance_minor


def _cash_entries(db: str) -> list[LedgerEntry]:
    with transaction(db) as s:
        return list(s.scalars(select(LedgerEntry).where(LedgerEntry.method == "cash")))


def test_only_ops_and_admin_open_the_payments_page(console, pg_db_url):
    sarah = console.sign_in(SARAH)
    assert sarah.get("/console/payments").status_code == 403
    assert sarah.get("/console/payments/ledger.csv").status_code == 403
    assert "/console/payments" not in sarah.get("/console/leads").text
    rajesh = console.sign_in(RAJESH)
    assert rajesh.get("/console/payments").status_code == 403
    priya = console.sign_in(PRIYA)
    page = priya.get("/console/payments")
    assert page.status_code == 200 and 'href="/console/payments"' in page.text
    assert "Cash received" in page.text and "Movements on" in page.text
    assert console.sign_in(ANIL).get("/console/payments").status_code == 200


def test_cash_from_the_form_records_once_and_shows_in_the_days_movements(console, pg_db_url):
    _, reference, owed = _owing(pg_db_url)
    priya = console.sign_in(PRIYA)
    page = priya.get("/console/payments", params={"booking": reference})
    assert f'value="{reference}"' in page.text
    form = {
        "csrf": _csrf(page),
        "token": _token(page),
        "booking": reference.lower(),
        "amount": f"{owed // 100 - 1000:,}",
        "currency": "",
    }
    first = priya.post("/console/payments/cash", data=form)
    assert first.status_code == 303 and first.headers["location"] == "/console/payments"
    again = priya.post("/console/payments/cash", data=form)  # a double submit
    assert again.status_code == 303
    entries = _cash_entries(pg_db_url)
    assert len(entries) == 1 and entries[0].amount_minor == (owed // 100 - 1000) * 100
    receipt = entries[0].receipt_number
    shown = priya.get("/console/payments")
    assert "Already recorded" in shown.text and receipt in shown.text
    assert 'data-total="cash-USD"' in shown.text and f"{reference}" in shown.text
    # A new form (a new token) for more than is now owed is refused with what is owed.
    with transaction(pg_db_url) as s:
        still = bookings.find_booking(s, reference).balance_minor
    page = priya.get("/console/payments")
    refused = priya.post(
        "/console/payments/cash",
        data={**form, "csrf": _csrf(page), "token": _token(page), "amount": "99999"},
    )
    assert refused.status_code == 303
    flash = priya.get("/console/payments").text
    assert "more than is owed" in flash and texts.money(still, "USD") in flash
    assert len(_cash_entries(pg_db_url)) == 1 and still == owed - entries[0].amount_minor
    # A form without its CSRF token changes nothing.
    forged = priya.post("/console/payments/cash", data={**form, "csrf": "x", "token": "new"})
    assert forged.status_code == 403 and len(_cash_entries(pg_db_url)) == 1


def test_the_accountants_csv_from_the_console(console, pg_db_url):
    _, reference, owed = _owing(pg_db_url)
    priya = console.sign_in(PRIYA)
    page = priya.get("/console/payments")
    priya.post(
        "/console/payments/cash",
        data={
            "csrf": _csrf(page),
            "token": _token(page),
            "booking": reference,
            "amount": "100.00",
            "currency": "USD",
        },
    )
    today = clock.local_today().isoformat()
    assert f"/console/payments/ledger.csv?from={today}" in priya.get("/console/payments").text
    answer = priya.get("/console/payments/ledger.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    cash_rows = [r for r in rows if r["method"] == "cash"]
    assert [(r["booking"], r["amount"], r["currency"]) for r in cash_rows] == [
        (reference, "100.00", "USD")
    ]
    assert sum(1 for r in rows if r["booking"] == reference) == 2  # the deposit, the cash
    assert owed > 100_00


def test_the_kpis_show_money_collected_to_ops_only(console, pg_db_url):
    _, reference, _ = _owing(pg_db_url)
    priya = console.sign_in(PRIYA)
    page = priya.get("/console/payments")
    priya.post(
        "/console/payments/cash",
        data={
            "csrf": _csrf(page),
            "token": _token(page),
            "booking": reference,
            "amount": "250",
            "currency": "",
        },
    )
    today = clock.local_today().isoformat()
    window = {"since": today, "until": today}
    kpis = priya.get("/console/kpis", params=window)
    assert 'data-kpi="collected_cash_USD"' in kpis.text and "$250" in kpis.text
    figures = priya.get("/console/kpis.json", params=window).json()
    assert {"method": "cash", "currency": "USD"}.items() <= figures["collected"][0].items()
    sarah = console.sign_in(SARAH)
    assert "collected_cash" not in sarah.get("/console/kpis", params=window).text
    assert sarah.get("/console/kpis.json", params=window).json()["collected"] == []


RECEIPT = Path(__file__).resolve().parents[3] / "devkit" / "demo_media" / "transfer-receipt.jpg"


def _proof_waiting(db: str, console, monkeypatch, *, stated: int | None = None) -> tuple[str, str]:
    """A held booking whose customer uploaded a transfer receipt: (proof id, booking ref)."""
    monkeypatch.setenv("MEDIA_DIR", str(console.media_dir))  # the backend's media folder
    with transaction(db) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = bookings.hold_new_booking(
            s,
            contact=factories.contact(s),
            departure_id=departure.id,
            party_size=2,
            actor=SYSTEM,
        )
        proof = payment_proofs.file_upload(
            s,
            booking,
            data=RECEIPT.read_bytes() + booking.id.encode(),  # one file per test (sha256)
            filename="transfer-receipt.jpg",
            content_type="image/jpeg",
            method=LedgerMethod.BANK_TRANSFER,
            actor=Actor(Source.WHATSAPP, phone=booking.contact.phone),
            stated_amount_minor=stated,
            stated_currency="USD" if stated is not None else None,
        )
        return proof.id, booking.reference


def _task(page: httpx.Response, proof_id: str) -> str:
    found = re.search(
        rf'<article class="proof" id="proof-{proof_id}".*?</article>', page.text, re.S
    )
    assert found, f"no task for {proof_id}"
    return found.group(0)


def test_a_proof_is_a_task_verified_from_its_form(console, pg_db_url, monkeypatch):
    proof_id, reference = _proof_waiting(pg_db_url, console, monkeypatch, stated=99_00)
    priya = console.sign_in(PRIYA)
    page = priya.get("/console/payments")
    task = _task(page, proof_id)
    assert reference in task and "$99" in task  # the stated amount
    assert "not the amount the customer said" in task or "not what is owed" in task
    image = priya.get(f"/console/payments/proofs/{proof_id}/file")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content.startswith(RECEIPT.read_bytes()[:64])
    sarah = console.sign_in(SARAH)
    assert sarah.get(f"/console/payments/proofs/{proof_id}/file").status_code == 403
    with transaction(pg_db_url) as s:
        deposit = bookings.find_booking(s, reference).deposit_minor
    verified = priya.post(
        f"/console/payments/proofs/{proof_id}/verify",
        data={
            "csrf": _csrf(page),
            "amount": f"{deposit // 100}.{deposit % 100:02d}",
            "currency": "usd",
            "value_date": clock.local_today().isoformat(),
        },
    )
    assert verified.status_code == 303
    after = priya.get("/console/payments")
    assert f"Verified: {texts.money(deposit, 'USD')} booked for {reference}" in after.text
    assert f'id="proof-{proof_id}"' not in after.text
    with transaction(pg_db_url) as s:
        booking = bookings.find_booking(s, reference)
        assert booking.status == BookingStatus.CONFIRMED and booking.paid_minor == deposit
        assert s.get(PaymentProof, proof_id).status == ProofStatus.VERIFIED
    # Deciding it again changes nothing.
    again = priya.post(
        f"/console/payments/proofs/{proof_id}/reject",
        data={"csrf": _csrf(after), "reason": "twice"},
    )
    assert again.status_code == 303
    with transaction(pg_db_url) as s:
        assert s.get(PaymentProof, proof_id).status == ProofStatus.VERIFIED


def test_a_proof_rejected_with_a_reason_the_customer_reads(console, pg_db_url, monkeypatch):
    proof_id, reference = _proof_waiting(pg_db_url, console, monkeypatch)
    priya = console.sign_in(PRIYA)
    page = priya.get("/console/payments")
    assert "no amount stated" in _task(page, proof_id)
    empty = priya.post(
        f"/console/payments/proofs/{proof_id}/reject", data={"csrf": _csrf(page), "reason": " "}
    )
    assert empty.status_code == 303 and "Say why" in priya.get("/console/payments").text
    rejected = priya.post(
        f"/console/payments/proofs/{proof_id}/reject",
        data={"csrf": _csrf(page), "reason": "The receipt shows no amount"},
    )
    assert rejected.status_code == 303
    assert f"Rejected the proof for {reference}" in priya.get("/console/payments").text
    with transaction(pg_db_url) as s:
        proof = s.get(PaymentProof, proof_id)
        assert proof.status == ProofStatus.REJECTED
        assert proof.reject_reason == "The receipt shows no amount"
        booking = bookings.find_booking(s, reference)
        assert booking.paid_minor == 0
        told = s.scalars(
            select(OutboundMessage.body).where(OutboundMessage.contact_id == booking.contact_id)
        ).all()
        assert any("The receipt shows no amount" in body for body in told)
