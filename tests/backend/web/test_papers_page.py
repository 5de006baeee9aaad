"""The customer's travellers' papers page against the real backend (its own process) on
PostgreSQL: opened by a papers link only, filled traveller by traveller through plain form
posts (the right values kept, the wrong ones shown again with what to correct), photos with
type and size limits, read-only once operations lock the papers; and in Chromium on a phone."""

from __future__ import annotations

import html
import io
import os
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from dateutil.relativedelta import relativedelta
from PIL import Image
from sqlalchemy import select

from backend import clock, links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import Role
from backend.models import Booking, Staff, TimelineEvent, Traveller
from backend.services import bookings, catalog, contacts, staff, travellers
from backend.web.limits import body_limit_for
from devkit.demo_data import load
from tests.processes import ROOT

# `make screenshots` points this at docs/screenshots; a test run changes no tracked file.
SHOTS = Path(os.environ.get("TMS_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True}


@pytest.fixture
def world(backend_url, pg_db_url, story_clock):
    with transaction(pg_db_url) as s:
        load(s)
    return backend_url


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30, follow_redirects=False)


def _post(url: str, data: dict[str, str], files: dict | None = None) -> httpx.Response:
    return httpx.post(url, data=data, files=files, timeout=60, follow_redirects=False)


def _text(answer: httpx.Response) -> str:
    """The page as a person reads it: tags dropped, spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text)).strip())


def _hold(db: str, party: int = 2) -> tuple[str, date, date]:
    """A new customer's hold on the first Everest Base Camp departure: its reference key and
    the departure's dates."""
    with transaction(db) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        contact = contacts.get_or_create_contact(s, "+61499600031", name="Anna Berg")
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=party, actor=SYSTEM
        )
        return booking.ref_key, departure.start_date, departure.end_date


def _form(start: date, end: date, **changes: str) -> dict[str, str]:
    """A traveller's form as the page posts it (the admin API's names), all of it right."""
    today = clock.local_today()
    form = {
        "fullName": "Anna Berg",
        "nationality": "AU",
        "passportNumber": "PA1234567",
        "passportExpiry": (end + relativedelta(years=3)).isoformat(),
        "dateOfBirth": (today - relativedelta(years=34)).isoformat(),
        "sex": "F",
        "insurer": "World Nomads",
        "policyNumber": "WN-778812",
        "assistancePhone": "+44 20 7946 0000",
        "coversHelicopter": "yes",
        "coverAltitudeM": "6000",
        "emergencyName": "Tom Berg",
        "emergencyRelationship": "brother",
        "emergencyPhone": "+61 412 345 678",
        "diet": "vegetarian",
        "medical": "asthma; carries an inhaler",
        "arrivalFlight": "QR 652",
        "arrivalDate": (start - timedelta(days=2)).isoformat(),
    }
    form.update(changes)
    return form


def _rows(db: str, key: str) -> list[tuple[Traveller, dict]]:
    with transaction(db) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        found = [(t, travellers.values_of(t)) for t in travellers.ensure(s, booking)]
        for t, _ in found:
            s.expunge(t)
        return found


def _jpeg(size: tuple[int, int] = (80, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


def _page_url(world: str, key: str) -> str:
    return f"{world}/papers/{links.token_for('papers', key)}"


# -- links ------------------------------------------------------------------------------------
def test_only_a_papers_link_opens_the_papers_page(world, pg_db_url):
    key, _, _ = _hold(pg_db_url)
    token = links.token_for("papers", key)
    assert links.read("papers", token).reference_key == key
    assert links.papers_url(key).endswith(f"/papers/{token}")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    others = [links.token_for(p, key) for p in ("pay", "track", "feedback", "book")]
    for bad in [tampered, *others]:
        answer = _get(f"{world}/papers/{bad}")
        assert answer.status_code == 404, bad
        assert "This link doesn't work" in _text(answer)
        refused = _post(f"{world}/papers/{bad}/1", _form(date.today(), date.today()))
        assert refused.status_code == 404
    # ... and a papers link opens no other page.
    for purpose in ("pay", "track", "feedback", "book"):
        assert _get(f"{world}/{purpose}/{token}").status_code == 404, purpose
    assert [t.full_name for t, _ in _rows(pg_db_url, key)] == [None, None]


def test_a_papers_link_lasts_until_well_after_the_trip_then_expires(frozen_clock):
    token = links.token_for("papers", "EBC2412004")
    frozen_clock.advance(days=365)
    assert links.read("papers", token).reference_key == "EBC2412004"
    frozen_clock.advance(days=links.LIFETIMES["papers"].days - 365 + 1)
    with pytest.raises(links.LinkRefused) as refused:
        links.read("papers", token)
    assert refused.value.expired


# -- the forms --------------------------------------------------------------------------------
def test_two_travellers_filled_through_the_forms(world, pg_db_url, tmp_path_factory):
    key, start, end = _hold(pg_db_url)
    url = _page_url(world, key)
    page = _get(url)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["referrer-policy"] == "no-referrer"
    text = _text(page)
    assert "Traveller 1 (you, the booker)" in text and "Traveller 2" in text
    assert "Full name as in the passport" in text and "with the country code" in text
    assert 'type="date" name="passportExpiry"' in page.text
    assert 'type="tel" inputmode="tel" name="emergencyPhone"' in page.text
    assert "<option value=NP>Nepal" in page.text and "<option value=X>" in page.text
    assert 'type="radio" name="coversHelicopter" value="yes"' in page.text
    assert "<script" not in page.text and "http" not in page.text.split("<footer>")[0]
    assert text.count("Still needed:") == 2
    # Small for a slow connection: two travellers (a nationality list each, ~6 KB), no assets.
    assert len(page.content) < 36_000, len(page.content)

    first = _post(f"{url}/1", _form(start, end))
    assert first.status_code == 303
    assert first.headers["location"] == f"/papers/{url.rsplit('/', 1)[1]}?saved=1#traveller-1"
    second = _post(
        f"{url}/2",
        _form(
            start,
            end,
            fullName="Ben Berg",
            passportNumber="PB7654321",
            coversHelicopter="no",
            coverAltitudeM="",
        ),
    )
    assert second.status_code == 303

    page = _get(f"{url}?saved=2")
    text = _text(page)
    assert "Saved ✓" in text
    assert "Traveller 1 (you, the booker) : Anna Berg" in text
    assert 'value="PA1234567"' in page.text and 'value="PB7654321"' in page.text
    assert "<option value=AU selected>Australia" in page.text
    assert (
        "Your insurance does not cover helicopter evacuation: our operations team will be in "
        "touch." in text
    )
    # Only the photos are still missing.
    assert text.count("Still needed: a photo of the passport's photo page a portrait photo") == 2
    (one, v1), (two, v2) = _rows(pg_db_url, key)
    assert v1["passport_number"] == "PA1234567" and v1["emergency_phone"] == "+61412345678"
    assert v2["covers_helicopter"] is False and two.flags == ["no_helicopter_cover"]
    assert one.missing == ["passport_photo", "portrait_photo"]
    with transaction(pg_db_url) as s:
        sources = s.scalars(
            select(TimelineEvent.content).where(TimelineEvent.action == "tms.traveller.updated")
        ).all()
    assert [c["source"] for c in sources] == ["page", "page"]
    assert all("PA1234567" not in str(c) for c in sources)
    # Nor in the backend's logs (tests/backend/web/conftest.py keeps them under web-logs).
    logs = [p for p in tmp_path_factory.getbasetemp().glob("web-logs*/**/*") if p.is_file()]
    assert logs and not any(b"PA1234567" in p.read_bytes() for p in logs)


def test_a_wrong_field_is_shown_again_with_its_sentence_and_the_right_ones_kept(world, pg_db_url):
    key, start, end = _hold(pg_db_url)
    url = _page_url(world, key)
    too_soon = (end + relativedelta(months=2)).isoformat()
    answer = _post(
        f"{url}/1", _form(start, end, passportExpiry=too_soon, emergencyPhone="call my mum")
    )
    assert answer.status_code == 200
    text = _text(answer)
    assert "Saved, except 2 fields to correct below." in text
    assert "Nepal asks for a passport valid six months after the trip ends" in text
    assert "a phone number with its country code" in text
    # What was typed is shown again where it is wrong, to correct rather than retype.
    assert f'value="{too_soon}"' in answer.text and 'value="call my mum"' in answer.text
    [(one, values), _] = _rows(pg_db_url, key)
    assert values["full_name"] == "Anna Berg" and values["passport_number"] == "PA1234567"
    assert values.get("passport_expiry") is None and values.get("emergency_phone") is None
    assert "passport_expiry" in one.missing and "emergency_phone" in one.missing
    # Corrected: saved.
    fixed = _post(f"{url}/1", _form(start, end))
    assert fixed.status_code == 303
    assert _rows(pg_db_url, key)[0][1]["emergency_phone"] == "+61412345678"


def test_a_traveller_who_is_not_there_is_refused(world, pg_db_url):
    key, start, end = _hold(pg_db_url)
    answer = _post(f"{_page_url(world, key)}/3", _form(start, end))
    assert answer.status_code == 404
    assert len(_rows(pg_db_url, key)) == 2


# -- photos -----------------------------------------------------------------------------------
def test_a_photo_is_filed_and_a_wrong_one_refused_losing_nothing(world, pg_db_url):
    key, start, end = _hold(pg_db_url)
    url = _page_url(world, key)
    token = url.rsplit("/", 1)[1]
    assert _post(f"{url}/1", _form(start, end)).status_code == 303
    photo_url = f"{world}/papers-photo/{token}/1/passport_photo"

    filed = _post(photo_url, {}, files={"photo": ("passport.jpg", _jpeg(), "image/jpeg")})
    assert filed.status_code == 303
    assert filed.headers["location"] == f"/papers/{token}?photo=1-passport_photo#traveller-1"
    assert "Photo received ✓" in _text(_get(world + filed.headers["location"]))
    one, values = _rows(pg_db_url, key)[0]
    assert one.passport_photo_key and one.passport_photo_type == "image/jpeg"
    assert one.missing == ["portrait_photo"]

    not_a_photo = _post(
        f"{world}/papers-photo/{token}/1/portrait_photo",
        {},
        files={"photo": ("me.jpg", b"%PDF-1.4 not a photo at all", "image/jpeg")},
    )
    assert not_a_photo.status_code == 400
    assert "That file is not a photo" in _text(not_a_photo)
    too_big = _post(
        f"{world}/papers-photo/{token}/1/portrait_photo",
        {},
        files={"photo": ("me.jpg", b"\xff\xd8\xff" + b"0" * (9 * 1024 * 1024), "image/jpeg")},
    )
    assert too_big.status_code == 400
    assert "The photo is too big (9 MB); at most 8 MB." in _text(too_big)
    # Past what the route takes at all: refused before the body is read.
    limit = body_limit_for(f"/papers-photo/{token}/1/portrait_photo")
    huge = _post(
        f"{world}/papers-photo/{token}/1/portrait_photo",
        {},
        files={"photo": ("me.jpg", b"0" * (limit + 1), "image/jpeg")},
    )
    assert huge.status_code == 413
    no_such = _post(
        f"{world}/papers-photo/{token}/1/selfie",
        {},
        files={"photo": ("me.jpg", _jpeg(), "image/jpeg")},
    )
    assert no_such.status_code == 404
    # Nothing else was lost: the details and the passport photo are still there.
    again, kept = _rows(pg_db_url, key)[0]
    assert kept == values and again.passport_photo_key == one.passport_photo_key
    assert again.portrait_photo_key is None


# -- locked, cancelled, purged ----------------------------------------------------------------
def _ops(db: str):
    with transaction(db) as s:
        member, _ = staff.add_staff(
            s, name="Papers Checker", phone="+9779802000777", roles=[Role.OPS], actor=SYSTEM
        )
        return member.id


def test_locked_papers_are_shown_read_only_and_refuse_changes(world, pg_db_url):
    key, start, end = _hold(pg_db_url)
    url = _page_url(world, key)
    token = url.rsplit("/", 1)[1]
    assert _post(f"{url}/1", _form(start, end)).status_code == 303
    ops_id = _ops(pg_db_url)
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        travellers.set_locked(s, booking, s.get(Staff, ops_id), locked=True)

    page = _get(url)
    assert page.status_code == 200
    text = _text(page)
    assert "Checked by our operations team for the permits. Reply on WhatsApp" in text
    assert "<form" not in page.text
    assert "PA1234567" in text and "Australia" in text
    refused = _post(f"{url}/1", _form(start, end, passportNumber="PZ0000001"))
    assert refused.status_code == 409
    assert "Checked by our operations team" in _text(refused)
    photo = _post(
        f"{world}/papers-photo/{token}/1/portrait_photo",
        {},
        files={"photo": ("me.jpg", _jpeg(), "image/jpeg")},
    )
    assert photo.status_code == 409
    one, values = _rows(pg_db_url, key)[0]
    assert values["passport_number"] == "PA1234567" and one.portrait_photo_key is None


def test_a_cancelled_or_purged_booking_says_so(world, pg_db_url):
    key, start, end = _hold(pg_db_url)
    url = _page_url(world, key)
    assert _post(f"{url}/1", _form(start, end)).status_code == 303
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        travellers.purge(s, travellers.get(s, booking, 1), reason="customer_request")
    purged = _get(url)
    assert "These details were deleted" in _text(purged) and "PA1234567" not in purged.text
    assert _post(f"{url}/2", _form(start, end)).status_code == 409

    other, _, _ = _hold(pg_db_url)
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == other))
        bookings.cancel_booking(s, booking, SYSTEM, reason="changed plans")
    page = _text(_get(_page_url(world, other)))
    assert "This booking is no longer active" in page and "Save traveller" not in page
    assert _post(f"{_page_url(world, other)}/1", _form(start, end)).status_code == 409


# -- in a browser, on a phone -----------------------------------------------------------------
@pytest.fixture
def phone(browser):
    pytest.importorskip("playwright.sync_api")
    context = browser.new_context(**PHONE, java_script_enabled=False)
    page = context.new_page()
    yield page
    context.close()


def test_a_traveller_filled_in_on_a_phone_without_javascript(world, pg_db_url, phone, tmp_path):
    key, start, end = _hold(pg_db_url)
    form = _form(start, end)
    phone.goto(_page_url(world, key))
    phone.get_by_role("heading", name="Travellers' details").wait_for()
    section = phone.locator("#traveller-1")
    for name, value in form.items():
        field = section.locator(f"[name={name}]")
        if name == "coversHelicopter":
            section.locator(f"[name={name}][value={value}]").check()
        elif name in ("nationality", "sex"):
            field.select_option(value)
        else:
            field.fill(value)
    section.get_by_role("button", name="Save traveller 1").click()
    phone.get_by_text("Saved ✓").wait_for()
    photo = tmp_path / "passport.jpg"
    photo.write_bytes(_jpeg((400, 280)))
    upload = phone.locator("#traveller-1 form.photo").first
    upload.locator("input[type=file]").set_input_files(str(photo))
    upload.get_by_role("button", name=re.compile("^Send")).click()
    phone.get_by_text("Photo received ✓").wait_for()
    # Nothing wider than the phone's screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SHOTS / "papers-page-phone.png"), full_page=True)
    _, values = _rows(pg_db_url, key)[0]
    assert values["passport_number"] == "PA1234567" and values["covers_helicopter"] is True
