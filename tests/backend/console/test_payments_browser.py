"""The payments page in Chromium on a phone, as an operations manager checks a transfer receipt:
the task with its photo, the stated amount and what to check twice, verified from its form;
then cash recorded from the same page. Screenshots go to `var/screenshots/`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.enums import BookingStatus, ProofStatus
from backend.models import LedgerEntry, PaymentProof, Staff
from backend.services import bookings, staff_auth
from tests.backend.console.test_payments_page import PRIYA, _owing, _proof_waiting
from tests.processes import ROOT

playwright = pytest.importorskip("playwright.sync_api")

SHOTS = Path(os.environ.get("TMS_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True}


@pytest.fixture
def ops_phone(browser, console, pg_db_url):
    """Priya's phone, signed in to the console."""
    with transaction(pg_db_url) as s:
        member = s.scalar(select(Staff).where(Staff.phone == PRIYA))
        cookie = staff_auth.open_session(s, member, how="test").cookie
    context = browser.new_context(**PHONE)
    context.add_cookies(
        [{"name": "tms_console", "value": cookie, "url": f"{console.url}/console/"}]
    )
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page
    context.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_verify_a_transfer_receipt_then_record_cash_on_a_phone(
    console, pg_db_url, monkeypatch, ops_phone
):
    page = ops_phone
    proof_id, reference = _proof_waiting(pg_db_url, console, monkeypatch, stated=2_000_00)
    page.goto(f"{console.url}/console/payments")
    task = page.locator(f"#proof-{proof_id}")
    task.wait_for()
    assert reference in task.inner_text()
    photo = task.locator("img")
    photo.wait_for()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    assert "not the amount the customer said" in task.inner_text() or "not what is owed" in (
        task.inner_text()
    )
    _shot(page, "console-payments-verification-task")

    with transaction(pg_db_url) as s:
        deposit = bookings.find_booking(s, reference).deposit_minor
    task.get_by_label("Amount received").fill(f"{deposit // 100}.{deposit % 100:02d}")
    task.get_by_label("Currency").fill("USD")
    task.get_by_label("Value date").fill(clock.local_today().isoformat())
    task.get_by_role("button", name="Verify").click()
    flash = page.locator(".flash")
    flash.wait_for()
    assert f"booked for {reference}" in flash.inner_text()
    assert page.locator(f"#proof-{proof_id}").count() == 0
    with transaction(pg_db_url) as s:
        assert s.get(PaymentProof, proof_id).status == ProofStatus.VERIFIED
        assert bookings.find_booking(s, reference).status == BookingStatus.CONFIRMED
    _shot(page, "console-payments-verified")

    _, owing, _ = _owing(pg_db_url)
    form = page.locator("form[data-cash]")
    form.get_by_label("Booking").fill(owing)
    form.get_by_label("Amount").fill("500")
    form.get_by_role("button", name="Record cash").click()
    page.locator(".flash", has_text="Cash recorded").wait_for()
    assert page.locator('[data-total="cash-USD"]').count() == 1
    with transaction(pg_db_url) as s:
        receipt = s.scalar(select(LedgerEntry.receipt_number).where(LedgerEntry.method == "cash"))
    assert receipt and receipt in page.locator(".flash").inner_text()
    _shot(page, "console-payments-day")
