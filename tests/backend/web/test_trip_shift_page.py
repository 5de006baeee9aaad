"""POST /api/trips/<ref>/shift (OPS) on the demo's trip under way (issue 27): the guests'
families see the new dates on the track page; a sales rep may not shift a trip."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from backend import links, texts
from backend.db import transaction
from backend.models import Trip
from backend.services import trips
from tests.backend.web.test_pages import _get, _text
from tests.conftest import load_demo_world


def test_ops_shift_the_trip_and_the_track_page_shows_the_new_dates(
    backend_url, pg_db_url, story_clock
):
    tokens = load_demo_world(pg_db_url).staff_tokens
    with transaction(pg_db_url) as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS").limit(1))
        reference, key = trip.reference, trips.guests_of(s, trip)[0].ref_key
        start, end = trip.departure.start_date, trip.departure.end_date
    url = f"{backend_url}/api/trips/{reference}/shift"
    body = {"days": 2, "reason": "landslide on the road to Pokhara"}
    refused = httpx.post(
        url, json=body, headers={"Authorization": f"Bearer {tokens['Sarah Gurung']}"}
    )
    assert refused.status_code == 403
    shifted = httpx.post(
        url, json=body, headers={"Authorization": f"Bearer {tokens['Priya Thapa']}"}
    )
    assert shifted.status_code == 200, shifted.text
    assert shifted.json()["delayDays"] == 2
    new_end = end + timedelta(days=2)
    assert shifted.json()["endDate"] == new_end.isoformat()
    page = _text(_get(f"{backend_url}/track/{links.token_for('track', key)}"))
    assert texts.date_range(start, new_end) in page
