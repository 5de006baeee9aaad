"""A guide's photo and location reach the incident: the photo fetched from the (fake) Graph
API's media endpoint in its two steps, kept with its type, size and checksum, shown on the
console's incident page; the location moves the trip's last position on the track page. A
failed download is retried and loses nothing."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from backend import links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Departure, InboundMessage, MediaAttachment, Trip
from backend.services import assignments, incidents

PRIYA = "+9779801000002"  # operations

# A real (tiny) JPEG: what a phone uploads.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////"
    "////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQAB"
    "PxA="
)


def _pokhara(pg_db_url: str, *, with_issue: bool = True) -> tuple[str, str, str | None]:
    with transaction(pg_db_url) as s:
        trip = s.scalar(
            select(Trip)
            .join(Departure, Trip.departure_id == Departure.id)
            .where(Departure.product.has(code="PKR"))
        )
        guide = assignments.lead_guide(s, trip)
        incident = (
            incidents.report_incident(s, trip, guide, "Road blocked by a landslide", SYSTEM).id
            if with_issue
            else None
        )
        return trip.id, guide.phone, incident


def _send(console, phone: str, kind: str, content: dict[str, Any]) -> str:
    answer = httpx.post(
        f"{console.fake_url}/_fake/inbound",
        json={"from": phone, "type": kind, "content": content, "name": "Guide"},
    )
    assert answer.json()["webhook_status"] == 200
    return answer.json()["wamid"]


def _upload(console, content: bytes, mime: str) -> str:
    answer = httpx.post(
        f"{console.fake_url}/_fake/media",
        json={"content_base64": base64.b64encode(content).decode(), "mime_type": mime},
    )
    return answer.json()["id"]


def _attachment(pg_db_url: str, wamid: str, status: str, wait: float = 60.0) -> MediaAttachment:
    deadline = time.monotonic() + wait
    while True:
        with transaction(pg_db_url) as s:
            found = s.scalar(
                select(MediaAttachment)
                .join(InboundMessage, InboundMessage.id == MediaAttachment.inbound_message_id)
                .where(InboundMessage.wamid == wamid)
            )
            if found is not None and found.status == status:
                s.expunge(found)
                return found
        assert time.monotonic() < deadline, found and (found.status, found.last_error)
        time.sleep(0.2)


def _reply(console, phone: str, since: int, needle: str, wait: float = 30.0) -> str:
    """The first message to `phone` after `since` that says `needle` (waits for it)."""
    deadline = time.monotonic() + wait
    while True:
        texts = [
            m["text"] or ""
            for m in httpx.get(
                f"{console.fake_url}/_fake/messages", params={"to": phone, "since": since}
            ).json()["messages"]
        ]
        found = next((t for t in texts if needle in t), None)
        if found is not None:
            return found
        assert time.monotonic() < deadline, texts
        time.sleep(0.2)


def test_a_guides_photo_reaches_the_incident_and_the_console(console, pg_db_url):
    trip_id, guide, incident_id = _pokhara(pg_db_url)
    media_id = _upload(console, JPEG, "image/jpeg")
    since = console.total()
    wamid = _send(
        console, guide, "image", {"id": media_id, "mime_type": "image/jpeg", "caption": "The slide"}
    )
    stored = _attachment(pg_db_url, wamid, "STORED")
    assert stored.incident_id == incident_id and stored.trip_id == trip_id
    assert (stored.size_bytes, stored.sha256) == (len(JPEG), hashlib.sha256(JPEG).hexdigest())
    assert stored.mime_type == "image/jpeg" and stored.caption == "The slide"
    assert (console.media_dir / stored.storage_key).read_bytes() == JPEG
    _reply(console, guide, since, "added to the open issue")

    priya = console.sign_in(PRIYA)
    page = priya.get(f"/console/incidents/{incident_id}").text
    assert f'<img src="/console/media/{stored.id}"' in page and "The slide" in page
    image = priya.get(f"/console/media/{stored.id}")
    assert image.status_code == 200 and image.content == JPEG
    assert image.headers["content-type"] == "image/jpeg"
    assert image.headers["x-content-type-options"] == "nosniff"
    # Not for someone without a session.
    assert console.client().get(f"/console/media/{stored.id}").status_code in (302, 303, 401)


def test_a_file_that_is_not_an_image_downloads_and_never_renders(console, pg_db_url):
    _trip_id, guide, _incident_id = _pokhara(pg_db_url)
    html = b"<html><script>alert(1)</script></html>"
    media_id = _upload(console, html, "text/html")
    wamid = _send(console, guide, "document", {"id": media_id, "filename": "report.html"})
    stored = _attachment(pg_db_url, wamid, "STORED")
    served = console.sign_in(PRIYA).get(f"/console/media/{stored.id}")
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in served.headers["content-security-policy"]


def test_a_failed_download_is_retried_and_loses_nothing(console, pg_db_url, story_clock):
    _trip_id, guide, _incident_id = _pokhara(pg_db_url)
    httpx.post(f"{console.fake_url}/_fake/config", json={"media_fail_next": 2})
    media_id = _upload(console, JPEG, "image/jpeg")
    wamid = _send(console, guide, "image", {"id": media_id, "mime_type": "image/jpeg"})
    deadline = time.monotonic() + 90
    while True:  # each failure waits its back-off: move the clock past it
        with transaction(pg_db_url) as s:
            row = s.scalar(
                select(MediaAttachment)
                .join(InboundMessage, InboundMessage.id == MediaAttachment.inbound_message_id)
                .where(InboundMessage.wamid == wamid)
            )
            status, attempts = (row.status, row.attempts) if row else (None, 0)
        if status == "STORED":
            break
        assert time.monotonic() < deadline, (status, attempts)
        story_clock.advance(minutes=1)
        time.sleep(0.5)
    assert attempts == 3  # two injected failures, then the bytes


def test_a_location_moves_the_incident_and_the_track_page(console, pg_db_url):
    trip_id, guide, incident_id = _pokhara(pg_db_url)
    since = console.total()
    # The first location after CHECKIN is where the group set off.
    _send(console, guide, "location", {"latitude": 28.2, "longitude": 83.9})
    _reply(console, guide, since, "Start position recorded")
    since = console.total()
    wamid = _send(
        console,
        guide,
        "location",
        {"latitude": 28.2096, "longitude": 83.9856, "name": "Sarangkot", "address": "Pokhara"},
    )
    _attachment(pg_db_url, wamid, "NO_FILE")
    _reply(console, guide, since, "Position updated on the track page")
    with transaction(pg_db_url) as s:
        trip = s.get(Trip, trip_id)
        assert (trip.last_latitude, trip.last_longitude) == (28.2096, 83.9856)
        incident = incidents.open_incident(s, trip)
        assert incident.id == incident_id and incident.latitude == 28.2096
        guest = s.scalar(
            select(Booking).where(
                Booking.departure_id == trip.departure_id, Booking.status == "CONFIRMED"
            )
        )
        track = console.url + urlsplit(links.track_url(guest.ref_key)).path
    page = console.sign_in(PRIYA).get(f"/console/incidents/{incident_id}").text
    assert "Sarangkot, Pokhara" in page and "28.20960, 83.98560" in page
    assert 'data-position="28.20960,83.98560"' in httpx.get(track).text


def test_media_from_a_guide_with_no_trip_under_way_is_kept_not_filed(console, pg_db_url):
    media_id = _upload(console, JPEG, "image/jpeg")
    customer = "+61499000777"
    since = console.total()
    wamid = _send(console, customer, "image", {"id": media_id, "mime_type": "image/jpeg"})
    stored = _attachment(pg_db_url, wamid, "STORED")
    assert stored.trip_id is None and stored.incident_id is None
    _reply(console, customer, since, "received your photo")
