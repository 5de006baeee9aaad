"""The pay page's ways to pay: the card as before, the bank transfer with the operator's bank
details and the reference to quote, the bank's card page with its surcharge and the total
shown before paying, and the receipt upload (photo or PDF) with clear refusals. Readable on a
phone without JavaScript. Against the real backend (its own process) on PostgreSQL: the rules
beneath are tested on both databases (tests/backend/services), and the demo (SQLite) opens the
pay page's ways to pay."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from backend import clock, links, rendering
from backend.db import dispose_engines, transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import ProofStatus
from backend.models import Booking, OutboundMessage, PaymentProof
from backend.services import bookings, catalog, contacts, payment_methods
from backend.web import page_data
from devkit.demo_data import load
from tests import factories
from tests.conftest import truncate_pg
from tests.processes import start_backend

# `make screenshots` points this at docs/screenshots; a test run changes no tracked file.
SCREENSHOTS = Path(
    os.environ.get("TMS_SCREENSHOTS_DIR")
    or Path(__file__).resolve().parents[3] / "var" / "screenshots"
)
JPEG = b"\xff\xd8\xff\xe0" + b"a transfer receipt" * 40
PDF = b"%PDF-1.7\n" + b"receipt " * 60


@pytest.fixture(scope="module")
def stack(pg_migrated, tmp_path_factory):
    """(backend URL, database URL, media folder): the backend with the demo's pay settings."""
    url = pg_migrated
    media = tmp_path_factory.mktemp("pay-media")
    server, port = start_backend(
        url,
        tmp_path_factory.mktemp("pay-logs"),
        workers=False,
        extra_env={
            "PAGE_REQUESTS_PER_MINUTE": "0",
            "CHECKOUT_REQUESTS_PER_HOUR": "0",
            "MEDIA_DIR": str(media),
            "PAYMENT_CARD_LINK_SURCHARGE_PERCENT": "3.5",
            "PAYMENT_PROOF_MAX_BYTES": str(64 * 1024),
        },
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
    if url.startswith("postgresql"):
        truncate_pg(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MEDIA_DIR", str(media))
    monkeypatch.setenv("PAYMENT_PROVIDER", "local")  # as the backend runs (start_backend)
    monkeypatch.setenv("PAYMENT_CARD_LINK_SURCHARGE_PERCENT", "3.5")
    monkeypatch.setenv("PAYMENT_PROOF_MAX_BYTES", str(64 * 1024))
    with transaction(url) as s:
        if s.scalar(select(Booking.id).limit(1)) is None:
            load(s)
    return base, url


_phones = iter(range(600100, 699999))


def _hold(url: str) -> str:
    with transaction(url) as s:
        n = next(_phones)
        departure = factories.departure(
            s,
            catalog.get_product(s, "EBC"),
            start=clock.local_today() + timedelta(days=200 + n % 1000),
        )
        contact = contacts.get_or_create_contact(s, f"+61499{n}", name="Anna Berg")
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=3, actor=SYSTEM
        )
        return booking.ref_key


def _text(answer: httpx.Response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text)).replace(" ,", ",")


def _upload(base, token, data, name="receipt.jpg", mime="image/jpeg", **form):
    return httpx.post(
        f"{base}/pay-receipt/{token}",
        data={"method": "bank_transfer", **form},
        files={"receipt": (name, data, mime)},
        timeout=30,
        follow_redirects=False,
    )


def _proofs(url: str, key: str) -> list[PaymentProof]:
    with transaction(url) as s:
        found = list(
            s.scalars(
                select(PaymentProof)
                .join(Booking, Booking.id == PaymentProof.booking_id)
                .where(Booking.ref_key == key)
            )
        )
        for proof in found:
            s.expunge(proof)
        return found


def test_the_page_shows_each_method_with_the_bank_details_and_the_surcharge(world):
    base, url = world
    key = _hold(url)
    answer = httpx.get(f"{base}/pay/{links.token_for('pay', key)}", timeout=30)
    assert answer.status_code == 200
    page = _text(answer)
    with transaction(url) as s:
        reference = s.scalar(select(Booking.reference).where(Booking.ref_key == key))
    # The card as before.
    assert "Pay deposit (30%) $2,052" in page and "Pay full amount $6,840" in page
    # The transfer: the operator's account and the reference to quote, with the amounts.
    for shown in (
        "Pay by bank transfer",
        "Adventure Treks Pvt. Ltd.",
        "Himalayan Demo Bank Ltd.",
        "01234567890123",
        "HDBLNPKA",
        "Thamel, Kathmandu",
        f"Reference {reference}",
        "Deposit (30%) $2,052",
        "Full amount $6,840",
    ):
        assert shown in page, shown
    # The card link: the surcharge and the total before paying.
    assert "adds a 3.5% card surcharge" in page
    assert "Deposit (30%) $2,052 Surcharge (3.5%) $71.82 Total $2,123.82" in page
    assert "Full amount $6,840 Surcharge (3.5%) $239.40 Total $7,079.40" in page
    assert "https://pay.himalayan-demo-bank.example/adventure-treks" in answer.text
    # A receipt form, multipart, for either way; no script, made for a phone.
    assert 'enctype="multipart/form-data"' in answer.text
    assert 'name="receipt"' in answer.text and "application/pdf" in answer.text
    assert "<script" not in answer.text
    assert 'name="viewport" content="width=device-width' in answer.text


def test_a_receipt_uploaded_is_filed_once_and_the_customer_told(world):
    base, url = world
    key = _hold(url)
    token = links.token_for("pay", key)
    sent = _upload(base, token, JPEG, amount="2052.00")
    assert sent.status_code == 303 and sent.headers["location"].endswith("?receipt=sent")
    [proof] = _proofs(url, key)
    assert (proof.status, proof.method, proof.source) == (
        ProofStatus.PENDING,
        "bank_transfer",
        "page",
    )
    assert (proof.stated_amount_minor, proof.stated_currency, proof.content_type) == (
        2_052_00,
        "USD",
        "image/jpeg",
    )
    page = _text(httpx.get(f"{base}{sent.headers['location']}", timeout=30))
    assert "Receipt received ✓" in page and "we're checking: sent" in page
    assert "kept while we check your receipt" in page
    with transaction(url) as s:
        bodies = s.scalars(select(OutboundMessage.body)).all()
        assert any("checking it" in b for b in bodies)
    # The same file again, even for the card link: already received, nothing new filed.
    again = _upload(base, token, JPEG, method="bank_card_link")
    assert again.headers["location"].endswith("?receipt=already")
    page = _text(httpx.get(f"{base}{again.headers['location']}", timeout=30))
    assert "already received" in page
    assert len(_proofs(url, key)) == 1
    # A PDF for the card link is another receipt.
    assert (
        _upload(base, token, PDF, "r.pdf", "application/pdf", method="bank_card_link").status_code
        == 303
    )
    assert sorted(p.method for p in _proofs(url, key)) == ["bank_card_link", "bank_transfer"]


@pytest.mark.parametrize(
    ("data", "form", "status", "said"),
    [
        (b"MZ\x90\x00 not a picture", {}, 400, "is not a photo (JPEG, PNG, WebP, HEIC) or a PDF"),
        (b"", {}, 400, "Choose the photo or PDF of your receipt first"),
        (JPEG * 100, {}, 400, "The file is too big"),
        (JPEG, {"amount": "lots"}, 400, "is not an amount"),
    ],
)
def test_a_file_that_cannot_be_a_receipt_is_refused_clearly(world, data, form, status, said):
    base, url = world
    key = _hold(url)
    answer = _upload(base, links.token_for("pay", key), data, **form)
    assert answer.status_code == status
    assert said in _text(answer)
    assert "Pay by bank transfer" in _text(answer)  # the page, with what is owed, again
    assert _proofs(url, key) == []


def test_over_the_door_limit_is_refused_before_reading(world):
    base, url = world
    key = _hold(url)
    answer = _upload(base, links.token_for("pay", key), b"\xff\xd8\xff" + b"0" * (13 * 1024 * 1024))
    assert answer.status_code == 413
    assert _proofs(url, key) == []


def test_the_methods_follow_the_settings(world, monkeypatch):
    _, url = world
    key = _hold(url)
    with transaction(url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        assert {o.method for o in payment_methods.offers(s, booking)} == {
            "card",
            "bank_transfer",
            "bank_card_link",
        }
        monkeypatch.setenv("PAYMENT_METHODS", "bank_transfer")
        assert {o.method for o in payment_methods.offers(s, booking)} == {"bank_transfer"}
        page = page_data.pay(s, links.read("pay", links.token_for("pay", key)))
        html = rendering.render("web/pay.html", **page.context, receipt_action="/x")
        assert "Pay by bank transfer" in html and "card surcharge" not in html
        assert "Pay deposit" not in html  # no card buttons
        assert 'name="method" value="bank_transfer"' in html


def test_on_a_phone_without_javascript_the_methods_fit_and_a_receipt_goes_in(
    world, browser, tmp_path
):
    base, url = world
    key = _hold(url)
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 360, "height": 740}, java_script_enabled=False, device_scale_factor=2
    )
    page = context.new_page()
    try:
        page.goto(f"{base}/pay/{links.token_for('pay', key)}")
        assert page.locator("#transfer").is_visible() and page.locator("#card-link").is_visible()
        # Nothing wider than the phone's screen (no sideways scrolling).
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        if url.startswith("postgresql"):
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "pay-methods-phone.png"), full_page=True)
        receipt = tmp_path / "receipt.pdf"
        receipt.write_bytes(PDF + b"phone")
        page.set_input_files("input[name=receipt]", str(receipt))
        page.fill("input[name=amount]", "2052")
        page.click("#receipt button[type=submit]")
        page.wait_for_url("**receipt=sent")
        assert "Receipt received ✓" in page.inner_text("#receipt")
    finally:
        context.close()
    [proof] = _proofs(url, key)
    assert (proof.content_type, proof.stated_amount_minor) == ("application/pdf", 2_052_00)


def test_credit_from_a_cancelled_booking_pays_on_the_page_once(world):
    from backend.models import LedgerEntry, LedgerKind, LedgerMethod
    from backend.services import credits, ledger

    base, url = world
    key, earlier = _hold(url), _hold(url)
    with transaction(url) as s:
        booking = s.scalars(select(Booking).where(Booking.ref_key == key)).one()
        old = s.scalars(select(Booking).where(Booking.ref_key == earlier)).one()
        old.contact_id = booking.contact_id  # the same customer's earlier booking
        s.flush()
        ledger.record(
            s,
            old,
            kind=LedgerKind.CREDIT_ISSUED,
            method=LedgerMethod.CREDIT,
            amount_minor=-1_000_00,
            currency=ledger.base_currency(old),
            actor=SYSTEM,
        )
        spend_key = credits.spend_key(booking)
    token = links.pay_url(key).rsplit("/", 1)[1]
    page = _text(httpx.get(f"{base}/pay/{token}", timeout=30))
    assert "Pay with your credit" in page and "Use $1,000 of my credit" in page
    used = httpx.post(
        f"{base}/pay-credit/{token}", data={"key": spend_key}, timeout=30, follow_redirects=False
    )
    assert used.status_code == 303 and used.headers["location"].endswith("?credit=used")
    again = httpx.post(f"{base}/pay-credit/{token}", data={"key": spend_key}, timeout=30)
    assert again.status_code == 409 and "Nothing was charged" in _text(again)
    with transaction(url) as s:
        booking = s.scalars(select(Booking).where(Booking.ref_key == key)).one()
        spent = s.scalars(
            select(LedgerEntry).where(
                LedgerEntry.booking_id == booking.id,
                LedgerEntry.kind == str(LedgerKind.CREDIT_SPENT),
            )
        ).all()
        assert [e.base_amount_minor for e in spent] == [1_000_00]
        assert booking.paid_minor == 1_000_00
    after = _text(httpx.get(f"{base}/pay/{token}?credit=used", timeout=30))
    assert "Your credit was used ✓" in after and "Pay with your credit" not in after
