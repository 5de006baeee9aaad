"""Money in the chat: the quote's indicative price in the customer's currency (only with a rate
set and another currency), the policy's answer written from the policy's lines, and "how much
would I get back?" for a customer with a paid booking."""

from __future__ import annotations

from sqlalchemy import select

from actions.knowledge import ActionAnswerFaq
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Booking, OutboundMessage
from backend.services import bookings, cancellation_policy, catalog, contacts, leads, rates
from tests.actions.conftest import make_tracker, run_action

GERMAN = "+4915112345678"
BRITISH = "+447911123456"


def _asked(sender: str, text: str, topic: str):
    tracker = make_tracker(sender, text, "faq")
    tracker.latest_message["response_selector"] = {
        "faq": {
            "response": {"intent_response_key": f"faq/{topic}", "confidence": 0.93},
            "ranking": [],
        }
    }
    return tracker


def _quote_to(phone: str) -> str:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, phone)
        conversation, _ = contacts.get_or_open_conversation(s, contact)
        product = catalog.get_product(s, "EBC")
        lead = leads.open_enquiry(
            s,
            contact=contact,
            conversation=conversation,
            product=product,
            party_size=3,
            travel_date_text="March",
            enquiry_text="EBC for 3 in March",
            actor=SYSTEM,
        )
        leads.send_quote(s, lead, catalog.departures_of(s, product)[0], 3, SYSTEM)
        return s.scalars(
            select(OutboundMessage.body)
            .where(OutboundMessage.contact_id == contact.id, OutboundMessage.purpose == "quote")
            .order_by(OutboundMessage.created_at.desc())
        ).first()


def test_the_quote_shows_the_customers_currency_only_with_a_rate(world):
    without_rate = _quote_to(GERMAN)
    assert "≈" not in without_rate and "indicative" not in without_rate
    with transaction() as s:
        rates.set_rate(
            s,
            currency="EUR",
            base_currency="USD",
            rate="1.08",
            buffer_percent="2",
            actor=SYSTEM,
        )
    german = _quote_to(GERMAN)
    with transaction() as s:
        total = leads.quote_of(
            leads.open_lead_of(s, contacts.get_or_create_contact(s, GERMAN)),
            catalog.departures_of(s, catalog.get_product(s, "EBC"))[0],
        ).total
        euros = rates.indicative_for(s, total, GERMAN)
    assert euros is not None and euros.currency == "EUR"
    assert f"≈ {euros} in euros (indicative, at today's rate)" in german
    # A British customer: no pound rate set, no line; an American: the price's own currency.
    assert "≈" not in _quote_to(BRITISH)
    assert "≈" not in _quote_to("+12025550123")


def _paid_booking_of(phone: str) -> str:
    """The demo world's confirmed EBC booking (deposit paid), moved onto `phone`."""
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, phone)
        booking = next(
            b
            for b in s.scalars(select(Booking))
            if b.departure.product.code == "EBC" and b.paid_minor > 0
        )
        booking.contact_id = contact.id
        return booking.id


def test_a_customer_with_a_paid_booking_hears_what_would_come_back(world):
    phone = "+61499000077"
    booking_id = _paid_booking_of(phone)
    ran = run_action(
        ActionAnswerFaq(), _asked(phone, "how much would I get back if I cancel?", "refunds")
    )
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        back = cancellation_policy.refundable(s, booking)
        expected = (
            f"For your booking {booking.reference}: if you cancelled today "
            f"({back.days_before} days before departure)"
        )
        paid = booking.paid_minor
    assert len(ran.texts) == 2, ran.texts
    assert ran.texts[1].startswith(expected)
    assert back.paid_minor == paid
    # The policy's answer adds the same; editing the policy changes both.
    with transaction() as s:
        cancellation_policy.replace_lines(
            s,
            catalog.get_product(s, "EBC"),
            [cancellation_policy.PolicyLine(0, 100)],
            actor=SYSTEM,
        )
    policy = run_action(
        ActionAnswerFaq(), _asked(phone, "what's your cancellation policy?", "cancellation_policy")
    )
    assert policy.texts[0].startswith("Cancellation policy for the Everest Base Camp Trek:")
    assert "Whenever you cancel: everything you've paid comes back" in policy.texts[0]
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        from backend.texts import money

        amount = money(booking.paid_minor, booking.currency)
    assert f"{amount} of the {amount} you've paid would come back" in policy.texts[1]


def test_no_paid_booking_no_amount(world):
    ran = run_action(ActionAnswerFaq(), _asked("+61499000078", "do you refund?", "refunds"))
    assert len(ran.texts) == 1 and "For your booking" not in ran.text
    # A cancelled booking says nothing either.
    booking_id = _paid_booking_of("+61499000079")
    with transaction() as s:
        bookings.cancel_booking(s, s.get(Booking, booking_id), SYSTEM, reason="test")
    ran = run_action(ActionAnswerFaq(), _asked("+61499000079", "do you refund?", "refunds"))
    assert "For your booking" not in ran.text
