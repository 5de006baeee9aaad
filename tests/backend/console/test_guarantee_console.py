"""The Guarantee card on a departure's console page (issue 27): operations cancel a departure
short of its minimum with a reason (every booking offered the move), or run it anyway with
one; the page then says it is closed to new bookings. Sales see the card, not the forms."""

from __future__ import annotations

import re

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import GuaranteeDecision
from backend.models import Departure, TimelineEvent
from backend.services import guarantees, inventory
from tests.backend.console.test_reschedule_console import PRIYA, SARAH, _booked, _csrf


def _short_of_its_minimum(db: str) -> tuple[str, str, str]:
    booking_id, first, later = _booked(db, asked=False)
    with transaction(db) as s:
        departure = s.get(Departure, first)
        guarantees.set_minimum(s, departure, departure.capacity, SYSTEM)
    return booking_id, first, later


def _decision(db: str, departure_id: str) -> str | None:
    with transaction(db) as s:
        return s.get(Departure, departure_id).guarantee_decision


def test_ops_cancel_a_short_departure_with_a_reason(console, pg_db_url):
    _booking_id, first, later = _short_of_its_minimum(pg_db_url)
    sarah = console.sign_in(SARAH)
    page = sarah.get(f"/console/departures/{first}")
    assert page.status_code == 200 and "not yet" in page.text
    assert "Cancel the departure" not in page.text
    refused = sarah.post(
        f"/console/departures/{first}/guarantee",
        data={"csrf": _csrf(page), "action": "cancel", "reason": "too few", "to_departure": later},
    )
    assert refused.status_code == 403
    priya = console.sign_in(PRIYA)
    page = priya.get(f"/console/departures/{first}")
    assert "Cancel the departure" in page.text and "Run it anyway" in page.text
    no_reason = priya.post(
        f"/console/departures/{first}/guarantee",
        follow_redirects=True,
        data={"csrf": _csrf(page), "action": "cancel", "reason": "", "to_departure": later},
    )
    assert "Say why the departure is cancelled" in no_reason.text
    nowhere = priya.post(
        f"/console/departures/{first}/guarantee",
        follow_redirects=True,
        data={"csrf": _csrf(page), "action": "cancel", "reason": "too few travellers"},
    )
    assert "Give the departure to move to" in nowhere.text
    assert _decision(pg_db_url, first) is None  # the refusals changed nothing
    done = priya.post(
        f"/console/departures/{first}/guarantee",
        follow_redirects=True,
        data={
            "csrf": _csrf(page),
            "action": "cancel",
            "reason": "too few travellers this time",
            "to_departure": later,
        },
    )
    assert re.search(r"Departure cancelled: \d+ booking\(s\) offered other dates", done.text)
    assert ">cancelled<" in done.text and ">closed<" in done.text
    assert "Waiting (" in done.text and "too few travellers this time" in done.text
    assert "Cancel the departure" not in done.text
    assert _decision(pg_db_url, first) == GuaranteeDecision.CANCELLED
    with transaction(pg_db_url) as s:
        assert inventory.closed_reason(s, s.get(Departure, first)) == "cancelled"


def test_ops_run_a_short_departure_anyway_with_a_reason(console, pg_db_url):
    _booking_id, first, _later = _short_of_its_minimum(pg_db_url)
    priya = console.sign_in(PRIYA)
    page = priya.get(f"/console/departures/{first}")
    ran = priya.post(
        f"/console/departures/{first}/guarantee",
        follow_redirects=True,
        data={"csrf": _csrf(page), "action": "run", "reason": "a private group joins"},
    )
    assert "it is guaranteed" in ran.text and ">closed<" not in ran.text
    assert _decision(pg_db_url, first) == GuaranteeDecision.RUN
    with transaction(pg_db_url) as s:
        event = (
            s.query(TimelineEvent)
            .filter(TimelineEvent.action == "tms.departure.guarantee.run")
            .one()
        )
        assert event.content["reason"] == "a private group joins"
