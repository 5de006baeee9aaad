"""The refund card on a cancelled booking's console page: OPS approve (less than allowed, or
a transfer with its reference) or decline; SALES see the booking but not the card, and cannot
post to it."""

from __future__ import annotations

import re

import httpx

from backend import clock
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Refund
from backend.services import bookings, catalog, refunds
from tests import factories

SARAH, PRIYA = "+9779801000001", "+9779801000002"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _cancelled(db: str) -> tuple[str, str]:
    with transaction(db) as s:
        departure = next(
            d
            for d in catalog.departures_of(s, catalog.get_product(s, "EBC"))
            if (d.start_date - clock.local_today()).days > 30
        )
        booking = factories.confirmed_booking(s, departure, 2)
        bookings.cancel_booking(s, booking, SYSTEM, reason="plans changed")
        return booking.id, refunds.current(s, booking).id


def test_ops_approve_a_refund_from_the_booking_page_sales_do_not_see_it(console, pg_db_url):
    booking_id, refund_id = _cancelled(pg_db_url)
    sarah = console.sign_in(SARAH)
    page = sarah.get(f"/console/bookings/{booking_id}")
    assert page.status_code == 200 and "Refund and credit" not in page.text
    refused = sarah.post(
        f"/console/bookings/{booking_id}/refund",
        data={"csrf": _csrf(page), "refund": refund_id, "action": "approve", "choice": "refund"},
    )
    assert refused.status_code == 403
    priya = console.sign_in(PRIYA)
    page = priya.get(f"/console/bookings/{booking_id}")
    assert "Refund and credit" in page.text and "Approve" in page.text
    too_much = priya.post(
        f"/console/bookings/{booking_id}/refund",
        follow_redirects=True,
        data={
            "csrf": _csrf(page),
            "refund": refund_id,
            "action": "approve",
            "choice": "refund",
            "amount": "99999",
        },
    )
    assert "At most" in too_much.text
    approved = priya.post(
        f"/console/bookings/{booking_id}/refund",
        follow_redirects=True,
        data={
            "csrf": _csrf(page),
            "refund": refund_id,
            "action": "approve",
            "choice": "refund",
            "amount": "120.50",
        },
    )
    assert approved.status_code == 200 and "refund paid out" in approved.text, approved.text
    with transaction(pg_db_url) as s:
        refund = s.get(Refund, refund_id)
        booking = s.get(Booking, booking_id)
        assert refund.status == "PAID_OUT" and refund.decided_by is not None
        assert booking.paid_minor == booking.deposit_minor - 120_50
    assert "paid out" in priya.get(f"/console/bookings/{booking_id}").text


def test_ops_decline_with_a_reason(console, pg_db_url):
    booking_id, refund_id = _cancelled(pg_db_url)
    priya = console.sign_in(PRIYA)
    page = priya.get(f"/console/bookings/{booking_id}")
    declined = priya.post(
        f"/console/bookings/{booking_id}/refund",
        follow_redirects=True,
        data={
            "csrf": _csrf(page),
            "refund": refund_id,
            "action": "decline",
            "reason": "the permits were bought",
        },
    )
    assert "declined" in declined.text
    with transaction(pg_db_url) as s:
        refund = s.get(Refund, refund_id)
        assert refund.status == "DECLINED" and refund.decline_reason == "the permits were bought"
