"""A departure moved (issue 27), as operations read its board on a phone in Chromium: who
accepted the new dates, who chose another departure, who is still to answer; the page fits
the phone's width. The screenshot goes to `var/screenshots/console-move-board.png`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Departure, MoveOffer
from backend.services import departure_moves
from tests import factories
from tests.backend.console.test_payments_browser import _shot, ops_phone  # noqa: F401
from tests.backend.console.test_reschedule_console import _booked


def _moved_with_answers(db: str) -> tuple[str, list[str]]:
    """A departure moved to a later one: one party accepted, one chose another departure, one
    has not answered yet. (its id, the three booking references)"""
    booking_id, first, later = _booked(db, asked=False)
    with transaction(db) as s:
        departure = s.get(Departure, first)
        more = [factories.confirmed_booking(s, departure, size) for size in (1, 2)]
        departure_moves.start_move(
            s, first, SYSTEM, reason="Lukla flights grounded", to_departure_id=later
        )
        offers = {o.booking_id: o for o in s.scalars(select(MoveOffer))}
        departure_moves.accept(s, offers[booking_id], SYSTEM)
        target = s.get(Departure, later)
        elsewhere = factories.departure(
            s, departure.product, target.start_date + timedelta(days=29), capacity=12
        )
        departure_moves.move_elsewhere(s, offers[more[0].id], elsewhere.id, SYSTEM)
        references = [offers[booking_id].booking.reference, more[0].reference, more[1].reference]
    return first, references


def test_ops_read_a_moved_departures_board_on_a_phone(console, pg_db_url, ops_phone):  # noqa: F811
    departure_id, (accepted, elsewhere, waiting) = _moved_with_answers(pg_db_url)
    page = ops_phone
    page.goto(f"{console.url}/console/departures/{departure_id}")
    board = page.get_by_role("heading", name="Accepted (1)")
    board.wait_for()
    text = page.inner_text("body")
    for heading in ("Accepted (1)", "Another departure (1)", "Cancelled (0)", "Waiting ("):
        assert heading in text
    assert "Lukla flights grounded" in text
    # Each under its own heading (the demo world's other parties are waiting too).
    board_text = text[text.index("Accepted (") :]
    cuts = [board_text.index(h) for h in ("Another departure (", "Waiting (", "Call them (")]
    sections = [board_text[: cuts[0]], board_text[cuts[0] : cuts[1]], board_text[cuts[1] : cuts[2]]]
    for ref, section in zip((accepted, elsewhere, waiting), sections, strict=True):
        assert ref in section
    # Customers are still answering: no second move is offered until they have.
    assert "A move is under way" in text
    assert page.get_by_role("button", name="Move departure").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
    _shot(page, "console-move-board")
