"""The customers' pages in a real browser (Debian's Chromium, driven by Playwright) on a
phone-sized screen: book, pay, track and feedback, clicked through as a customer would, with
JavaScript on (the countdown) and off (everything still works). Screenshots of each page go
to `var/screenshots/` (see the README)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from backend import links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Trip
from backend.services import attendance, bookings, catalog, contacts, incidents, staff, trips
from tests.conftest import load_demo_world
from tests.processes import ROOT

playwright = pytest.importorskip("playwright.sync_api")

# `make screenshots` points this at docs/screenshots; a test run changes no tracked file.
SHOTS = Path(os.environ.get("TMS_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True}


@pytest.fixture
def phone(browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone_without_js(browser):
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def world(backend_url, pg_db_url, story_clock):
    load_demo_world(pg_db_url)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return backend_url


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _offer(db: str) -> str:
    with transaction(db) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "ANN"))[0]
        cancelled = s.scalar(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status == "CONFIRMED")
            .limit(1)
        )
        bookings.cancel_booking(s, cancelled, SYSTEM, reason="a guest cancelled")
        return s.scalar(
            select(Booking.ref_key).where(
                Booking.departure_id == departure.id, Booking.status == "OFFERED"
            )
        )


def test_book_then_pay_in_the_browser(world, pg_db_url, phone):
    key = _offer(pg_db_url)
    phone.goto(f"{world}/book/{links.token_for('book', key)}")
    phone.get_by_role("heading", name="A spot is available!").wait_for()
    countdown = phone.locator(".countdown")
    first = countdown.inner_text()
    phone.wait_for_timeout(1500)
    assert countdown.inner_text() != first and re.search(r"\d+ s left", countdown.inner_text())
    _shot(phone, "book-offer")
    phone.get_by_role("button", name="Confirm: book it").click()
    phone.wait_for_url(re.compile(r"/pay/"))
    assert phone.get_by_text("Pay full amount").is_visible()
    _shot(phone, "pay-after-confirm")
    phone.get_by_role("button", name=re.compile("Pay full amount")).click()
    phone.get_by_text("Paid in full ✓").wait_for()
    _shot(phone, "pay-paid")
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        assert (booking.status, booking.payment_status) == ("CONFIRMED", "FULL_PAID")


def test_pay_a_deposit_without_javascript(world, pg_db_url, phone_without_js):
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = bookings.hold_new_booking(
            s,
            contact=contacts.get_or_create_contact(s, "+61499900001", name="Mia Berg"),
            departure_id=departure.id,
            party_size=3,
            actor=SYSTEM,
        )
        key = booking.ref_key
    page = phone_without_js
    page.goto(f"{world}/pay/{links.token_for('pay', key)}")
    _shot(page, "pay-hold")
    page.get_by_role("button", name=re.compile("Pay deposit")).click()
    page.get_by_text("Payment received ✓").wait_for()
    assert page.get_by_role("button", name=re.compile("Pay balance")).is_visible()
    _shot(page, "pay-deposit-paid")


def test_track_then_feedback_in_the_browser(world, pg_db_url, phone, phone_without_js):
    with transaction(pg_db_url) as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS"))
        mine = trips.guests_of(s, trip)[0]
        key = mine.ref_key
        amit = staff.by_phone(s, "+9779801000004")
        incident = incidents.report_incident(s, trip, amit, "Vehicle breakdown, engine", SYSTEM)
        incidents.ops_update(
            s,
            incident,
            SYSTEM,
            message_to_guests="We're arranging a fresh vehicle. New vehicle arrives: 11:20 AM",
        )
    phone.goto(f"{world}/track/{links.token_for('track', key)}")
    assert phone.get_by_text("New vehicle arrives: 11:20 AM").is_visible()
    assert phone.get_by_text("Amit Sharma", exact=True).is_visible()
    _shot(phone, "track-incident")
    with transaction(pg_db_url) as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS"))
        incidents.resolve_from_field(s, incidents.open_incident(s, trip), "all good", SYSTEM)
        attendance.check_out(s, trip, staff.by_phone(s, "+9779801000004"), "All safe", SYSTEM)
    # The feedback page works without JavaScript: the stars are radio buttons.
    page = phone_without_js
    page.goto(f"{world}/feedback/{links.token_for('feedback', key)}")
    page.locator("label[for=star4]").click()
    page.get_by_label("Anything to tell us?").fill("Lovely day, the van broke down but we laughed")
    _shot(page, "feedback-form")
    page.get_by_role("button", name="Send feedback").click()
    page.get_by_role("heading", name="Thank you! 🙏").wait_for()
    _shot(page, "feedback-thanks")
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        assert booking.feedback_rating == 4 and "van broke down" in booking.feedback


def test_a_bad_link_in_the_browser_says_what_to_do(world, phone):
    phone.goto(f"{world}/track/not-a-token")
    assert phone.get_by_role("heading", name="This link doesn't work").is_visible()
    assert (
        phone.get_by_role("link", name="Open WhatsApp")
        .get_attribute("href")
        .startswith("https://wa.me/")
    )
    _shot(phone, "refused")
