"""Issue 16's conversations over the real stack (fake Graph API → backend → Rasa → actions):
three policy questions answered from the operator's knowledge, a recommendation from a
described wish, an enquiry for "2 couples" that the rep quotes for four."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.models import Lead
from backend.services import catalog, knowledge
from devkit.demo_data import STORY

pytestmark = pytest.mark.rasa
CUSTOMER = "+61499300016"


def _answer(pg_db_url: str, topic: str, product_code: str | None = None) -> str:
    with transaction(pg_db_url) as s:
        product = catalog.get_product(s, product_code) if product_code else None
        found = knowledge.answer_for(s, topic, product)
        assert found is not None
        return found


def test_questions_a_recommendation_and_an_enquiry_for_two_couples(stack, pg_db_url):
    stack.clock.at(STORY.today, "10:00")
    (policy,) = stack.say(CUSTOMER, "what's the cancellation policy?")
    assert policy["text"] == _answer(pg_db_url, "cancellation_policy")
    (paying,) = stack.say(CUSTOMER, "can I pay by bank transfer?")
    assert paying["text"] == _answer(pg_db_url, "payment_methods")
    (permits,) = stack.say(CUSTOMER, "do we need any permits for the Pokhara tour?")
    assert permits["text"] == _answer(pg_db_url, "permits", "PKR")

    (suggested,) = stack.say(CUSTOMER, "something easy, 5 days max, for my family with 2 kids")
    assert "Pokhara Sightseeing Tour" in suggested["text"]
    assert "Everest" not in suggested["text"]

    (enquired,) = stack.say(CUSTOMER, "do you do the Annapurna circuit in April? we are 2 couples")
    assert "Annapurna" in enquired["text"]
    with transaction(pg_db_url) as s:
        lead = s.scalar(select(Lead).where(Lead.contact.has(phone=CUSTOMER)))
        assert lead.product.code == "ANN" and lead.party_size == 4
        lead_id = lead.id
        departure = catalog.departures_of(s, lead.product)[-1]
    since = stack.total()
    quoted = stack.api(
        "sales",
        "POST",
        f"/api/leads/{lead_id}/quote",
        json={"departure_id": departure.id, "party_size": 4},
    )
    assert quoted.status_code == 200, quoted.text
    (quote,) = stack.wait_for(CUSTOMER, since=since)
    assert "👥 Group: 4 people" in quote["text"] and "Total: $7,200 for 4 pax" in quote["text"]
    # And the price asked again now carries the party.
    (price,) = stack.say(CUSTOMER, "how much is it?")
    assert "For your group of 4: $7,200." in price["text"]


def test_context_carries_across_turns_and_instead_switches_the_trek(stack, pg_db_url):
    customer = "+61499300017"
    stack.clock.at(STORY.today, "10:30")
    (enquired,) = stack.say(customer, "Do you run Everest Base Camp in April? we are 2 couples")
    assert "EBC" in enquired["text"] or "Everest" in enquired["text"]
    (may,) = stack.say(customer, "and in May?")
    assert "May" in may["text"]
    (switched,) = stack.say(customer, "what about Annapurna instead?")
    with transaction(pg_db_url) as s:
        (lead,) = s.scalars(select(Lead).where(Lead.contact.has(phone=customer))).all()
        assert lead.product.code == "ANN" and lead.party_size == 4
        assert f"changed your enquiry (Ref: {lead.reference}) to Annapurna" in switched["text"]
    (price,) = stack.say(customer, "how much is it?")
    assert "Annapurna" in price["text"] and "For your group of 4: $7,200." in price["text"]
