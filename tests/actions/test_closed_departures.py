"""A departure operations moved away or cancelled (issue 27) is not among the dates the
assistant lists; a customer who names it, asks to hold it or to wait for it is told it was
moved or cancelled and shown the departures with seats (backend/texts, in their language)."""

from __future__ import annotations

from sqlalchemy import select

from actions.catalog import ActionAskDates
from actions.common import TmsAction, Turn
from actions.holds import place_hold_from_quote
from actions.options import join_waitlist
from backend import clock, texts
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, Departure, Lead
from backend.services import catalog, contacts, departure_moves, guarantees, inventory, leads
from tests.actions.conftest import CUSTOMER, entity, make_tracker, run_action


def _ebc_departures() -> tuple[str, str]:
    """Two EBC departures ahead with seats for two: their ids."""
    with transaction() as s:
        ahead = [
            d
            for d in catalog.departures_of(
                s, catalog.get_product(s, "EBC"), from_date=clock.local_today()
            )
            if inventory.seat_counts(s, d).available >= 2
        ]
        return ahead[0].id, ahead[1].id


def _dates_line(departure_id: str) -> str:
    with transaction() as s:
        d = s.get(Departure, departure_id)
        return f"• {texts.date_range(d.start_date, d.end_date)}:"


def _ask_dates(text: str, *extra: dict) -> str:
    return run_action(
        ActionAskDates(),
        make_tracker(CUSTOMER, text, "ask_dates", entities=[entity("trek", "EBC"), *extra]),
    ).text


def test_a_moved_departure_is_not_listed_and_naming_it_says_so(world):
    first, second = _ebc_departures()
    assert _dates_line(first) in _ask_dates("DATES for EBC")
    with transaction() as s:
        departure_moves.start_move(s, first, SYSTEM, reason="weather", to_departure_id=second)
        moved = s.get(Departure, first)
        named = moved.start_date.strftime("%B %-d")
        closed = texts.departure_closed(moved, "moved")
    listed = _ask_dates("DATES for EBC")
    assert _dates_line(first) not in listed and _dates_line(second) in listed
    asked = _ask_dates(f"EBC on {named}?", entity("travel_date", named))
    assert asked.startswith(closed) and "moved to other dates" in asked
    assert _dates_line(first) not in asked and _dates_line(second) in asked


def test_a_cancelled_departure_cannot_be_held_or_waited_for_from_the_chat(world):
    first, second = _ebc_departures()
    with transaction() as s:
        customer = contacts.get_or_create_contact(s, CUSTOMER, name="Emma")
        conversation, _ = contacts.get_or_open_conversation(s, customer)
        departure = s.get(Departure, first)
        lead = leads.open_enquiry(
            s,
            contact=customer,
            conversation=conversation,
            product=departure.product,
            party_size=2,
            travel_date_text=None,
            enquiry_text="EBC for 2",
            actor=SYSTEM,
        )
        leads.quote_lead(s, lead, departure, 2, SYSTEM)
        departure.product.min_group_size = 20
        guarantees.cancel(s, departure, SYSTEM, reason="too few", to_departure_id=second)
        lead_id, customer_id = lead.id, customer.id

    class Hold(TmsAction):
        NAME = "action_test_hold"

        def handle(self, turn: Turn) -> None:
            place_hold_from_quote(turn, turn.session.get(Lead, lead_id))

    class Wait(TmsAction):
        NAME = "action_test_wait"

        def handle(self, turn: Turn) -> None:
            join_waitlist(turn, turn.session.get(Departure, first), 2)

    held = run_action(Hold(), make_tracker(CUSTOMER, "please hold", "request_hold")).text
    waited = run_action(Wait(), make_tracker(CUSTOMER, "waitlist", "join_waitlist")).text
    for said in (held, waited):
        assert "has been cancelled, so it takes no new bookings" in said
    with transaction() as s:
        mine = s.scalars(
            select(Booking).where(Booking.departure_id == first, Booking.contact_id == customer_id)
        ).all()
        assert mine == []  # nothing held, nobody waiting
        assert s.get(Lead, lead_id).status == "QUOTED"  # the rep offers other dates
