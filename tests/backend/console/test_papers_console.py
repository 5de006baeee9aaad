"""Travellers' papers in the console, over real HTTP as the demo's staff use it: SALES sees a
departure's readiness (counts, what is missing by traveller, the flags in words) and nothing
of the papers; OPS reads a booking's papers and photos (each view on the timeline), marks a
traveller verified and locks and reopens the papers; the exports go to who may have them."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole
from backend.models import Booking, Staff, TimelineEvent
from backend.services import assignments, catalog, staff_auth, travellers, trips
from backend.services import staff as staff_service
from tests import factories
from tests.backend.services.test_travellers import _jpeg
from tests.processes import ROOT

SHOTS = Path(os.environ.get("TMS_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True}

SARAH, PRIYA, RAJESH, ANIL = "+9779801000001", "+9779801000002", "+9779801000003", "+9779801000009"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _papers(departure) -> dict:
    return {
        "full_name": "Ava Martin",
        "nationality": "AU",
        "passport_number": "PA7654321",
        "passport_expiry": (departure.end_date + relativedelta(years=2)).isoformat(),
        "date_of_birth": (clock.local_today() - relativedelta(years=29)).isoformat(),
        "sex": "F",
        "insurer": "Cover-More",
        "policy_number": "CM-5521",
        "assistance_phone": "+61289075619",
        "covers_helicopter": False,
        "emergency_name": "Liam Martin",
        "emergency_relationship": "partner",
        "emergency_phone": "+61412345678",
        "medical": "penicillin allergy",
        "arrival_flight": "TG319",
        "arrival_date": (departure.start_date - timedelta(days=1)).isoformat(),
    }


@pytest.fixture
def papers(console, pg_db_url, monkeypatch):
    """On the demo's Everest departure, a booking of two: Ava's papers complete with both
    photos (no helicopter cover), her companion Noah's name only. Rajesh leads the trip."""
    monkeypatch.setenv("MEDIA_DIR", str(console.media_dir))  # the backend's media folder
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        booking = factories.confirmed_booking(s, departure, 2)
        travellers.save(s, booking, 1, _papers(departure), SYSTEM)
        for kind in ("passport_photo", "portrait_photo"):
            travellers.file_photo(s, booking, kind, _jpeg(), SYSTEM, position=1)
        travellers.save(s, booking, 2, {"full_name": "Noah Martin", "diet": "vegan"}, SYSTEM)
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff_service.by_phone(s, RAJESH)
        offer = assignments.assign_staff(s, trip, rajesh, AssignmentRole.LEAD_GUIDE, 0, SYSTEM)
        assignments.respond_to_assignment(s, offer, True, SYSTEM, notify=False)
        other = catalog.departures_of(s, catalog.get_product(s, "ANN"))[-1]
        return {"departure": departure.id, "other": other.id, "booking": booking.reference}


def _routes(p: dict) -> dict[str, str]:
    photo = f"/console/bookings/{p['booking']}/travellers/1/passport_photo"
    return {
        "readiness": f"/console/departures/{p['departure']}/papers",
        "papers": f"/console/bookings/{p['booking']}/travellers",
        "photo": photo,
        "csv": f"/console/departures/{p['departure']}/permits.csv",
        "worksheet": f"/console/departures/{p['departure']}/permits.pdf",
        "manifest": f"/console/departures/{p['departure']}/manifest.pdf",
        "other manifest": f"/console/departures/{p['other']}/manifest.pdf",
    }


# Who opens what: route name → the staff whose browser gets 200 (the others get 403).
OPENS = {
    "readiness": {SARAH, PRIYA, ANIL},
    "papers": {PRIYA, ANIL},
    "photo": {PRIYA, ANIL},
    "csv": {PRIYA, ANIL},
    "worksheet": {PRIYA, ANIL},
    "manifest": {PRIYA, ANIL, RAJESH},  # Rajesh leads this trip
    "other manifest": {PRIYA, ANIL},
}


def test_each_role_opens_what_the_table_says(console, papers):
    routes = _routes(papers)
    for who in (SARAH, PRIYA, RAJESH, ANIL):
        browser = console.sign_in(who)
        for name, path in routes.items():
            status = browser.get(path).status_code
            assert status == (200 if who in OPENS[name] else 403), (who, name, status)


def test_sales_sees_readiness_in_words_and_no_papers(console, papers):
    page = console.sign_in(SARAH).get(_routes(papers)["readiness"])
    assert page.status_code == 200
    text = page.text
    mine = text[text.index(f'id="papers-{papers["booking"]}"') :]
    assert "1 of 2 complete" in mine and "0 of 2 verified" in mine
    assert "Ava Martin" in mine and "Noah Martin" in mine
    assert "insurance does not cover helicopter evacuation" in mine
    assert "Missing: nationality, passport number, passport expiry date" in mine  # Noah's
    assert "a photo of the passport&#39;s photo page, a portrait photo" in mine
    assert "Nothing filled in yet" in text  # the demo's other bookings' travellers
    for secret in ("PA7654321", "penicillin", "CM-5521", "+61412345678"):
        assert secret not in text
    assert "View papers" not in text and "permits.pdf" not in text and "manifest.pdf" not in text


def test_ops_reads_the_papers_verifies_and_locks_through_the_console(console, papers, pg_db_url):
    routes = _routes(papers)
    browser = console.sign_in(PRIYA)
    ready = browser.get(routes["readiness"])
    assert f'href="{routes["papers"]}"' in ready.text and "permits.pdf" in ready.text
    page = browser.get(routes["papers"])
    assert "PA7654321" in page.text and "penicillin allergy" in page.text
    assert f'src="{routes["photo"]}"' in page.text
    assert page.text.count("Verified: the photos match") == 1  # Ava only: Noah is not complete
    photo = browser.get(routes["photo"])
    assert photo.content == _jpeg() and photo.headers["content-type"] == "image/jpeg"
    csrf = _csrf(page)
    verify = f"{routes['papers']}/verify"
    assert browser.post(verify, data={"position": "1"}).status_code == 403  # no CSRF token
    done = browser.post(verify, data={"position": "1", "csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == routes["papers"]
    assert "Ava Martin&#39;s papers are verified" in browser.get(routes["papers"]).text
    refused = browser.post(verify, data={"position": "2", "csrf": csrf})
    assert refused.status_code == 303
    assert "not complete yet" in browser.get(routes["papers"]).text
    browser.post(f"{routes['papers']}/lock", data={"locked": "1", "csrf": csrf})
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.reference == papers["booking"]))
        first = travellers.get(s, booking, 1)
        assert first.verified_at is not None and first.locked_at is not None
        with pytest.raises(travellers.PapersLocked):
            travellers.save(s, booking, 2, {"diet": "vegan"}, SYSTEM)
    assert "Reopen" in browser.get(routes["papers"]).text
    browser.post(f"{routes['papers']}/lock", data={"locked": "0", "csrf": csrf})
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.reference == papers["booking"]))
        assert travellers.get(s, booking, 2).locked_at is None
        actions = [
            (e.action, (e.content or {}).get("what"))
            for e in s.scalars(
                select(TimelineEvent)
                .where(
                    TimelineEvent.object_id == booking.id,
                    TimelineEvent.action.like("tms.traveller.%"),
                    TimelineEvent.action != "tms.traveller.updated",
                    TimelineEvent.action != "tms.traveller.photo_filed",
                )
                .order_by(TimelineEvent.id)
            )
        ]
    # Each view and each photo shown is on the timeline, with the verification and the lock.
    assert ("tms.traveller.papers_read", "passport_photo") in actions
    assert actions.count(("tms.traveller.papers_read", "viewed")) >= 2
    assert ("tms.traveller.verified", None) in actions
    locked = actions.index(("tms.traveller.locked", None))
    assert ("tms.traveller.reopened", None) in actions[locked:]


def test_the_departure_page_links_to_the_papers(console, papers):
    page = console.sign_in(SARAH).get(f"/console/departures/{papers['departure']}")
    assert f'href="/console/departures/{papers["departure"]}/papers"' in page.text


def test_ops_verifies_a_traveller_on_a_phone(browser, console, papers, pg_db_url):
    """In Chromium on a phone: the readiness, then the booking's papers with both photos, and
    the Verified button. Screenshots go to var/screenshots/ (`make screenshots`: docs/)."""
    pytest.importorskip("playwright.sync_api")
    with transaction(pg_db_url) as s:
        member = s.scalar(select(Staff).where(Staff.phone == PRIYA))
        cookie = staff_auth.open_session(s, member, how="test").cookie
    context = browser.new_context(**PHONE)
    context.add_cookies(
        [{"name": "tms_console", "value": cookie, "url": f"{console.url}/console/"}]
    )
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(f"{console.url}/console/departures/{papers['departure']}/papers")
        card = page.locator(f"#papers-{papers['booking']}")
        assert "insurance does not cover helicopter evacuation" in card.inner_text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width} px)"
        page.screenshot(path=str(SHOTS / "console-papers-readiness.png"), full_page=True)
        card.get_by_role("link", name="View papers").click()
        for kind in ("passport_photo", "portrait_photo"):
            photo = page.locator(f'img[src$="/travellers/1/{kind}"]')
            photo.scroll_into_view_if_needed()  # loaded lazily, when in sight
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
            )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("button", name="Verified: the photos match these details").click()
        page.locator(".flash").wait_for()
        assert "papers are verified" in page.locator(".flash").inner_text()
        page.screenshot(path=str(SHOTS / "console-papers-booking.png"), full_page=True)
    finally:
        context.close()
