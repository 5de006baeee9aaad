"""Issue 25's conversations over the real stack (fake Graph API → backend → Rasa → actions):
questions that carry their context from earlier turns, seats before the party size, treks
compared from the catalogue, a private group's request, a child's price."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.models import Lead
from devkit.demo_data import STORY

pytestmark = pytest.mark.rasa

DEPARTURES = ("spots left", "FULLY BOOKED", "no upcoming departures")


def _lead(pg_db_url: str, phone: str) -> Lead:
    with transaction(pg_db_url) as s:
        lead = s.scalars(select(Lead).where(Lead.contact.has(phone=phone))).one()
        s.expunge(lead)
        return lead


def test_are_there_seats_is_answered_with_the_departures_first(stack):
    stack.clock.at(STORY.today, "09:00")
    replies = stack.say(
        "+61499325001",
        "annapurna circuit in march — is there a group going, and are there seats?",
        expect=1,
    )
    said = "\n".join(r["text"] for r in replies)
    assert any(words in said for words in DEPARTURES), said
    assert "Annapurna" in said


def test_another_month_for_the_same_trek_keeps_the_trek(stack):
    customer = "+61499325002"
    stack.clock.at(STORY.today, "09:10")
    stack.say(customer, "Hi, we'd like to do Everest Base Camp in October, 2 people")
    replies = stack.say(customer, "could we also go in March? which days do groups leave?")
    said = "\n".join(r["text"] for r in replies)
    assert "Everest" in said and any(words in said for words in DEPARTURES), said


def test_a_comparison_is_answered_from_the_catalogue(stack):
    stack.clock.at(STORY.today, "09:20")
    (compared,) = stack.say("+61499325003", "which is harder, EBC or the Annapurna circuit?")
    text = compared["text"]
    assert "EBC" in text and "Annapurna" in text, text
    # The highest altitude of each, from the catalogue.
    assert len(re.findall(r"\d[\d,]* m\b", text)) >= 2, text


def test_a_private_group_request_opens_a_private_enquiry(stack, pg_db_url):
    customer = "+61499325004"
    stack.clock.at(STORY.today, "09:30")
    (answer,) = stack.say(
        customer, "could we do EBC as a private group, just the 4 of us in October?"
    )
    lead = _lead(pg_db_url, customer)
    assert lead.private and lead.product.code == "EBC" and lead.party_size == 4
    assert lead.reference in answer["text"]


def test_the_total_after_the_party_changed_prices_the_new_party(stack):
    customer = "+61499325005"
    stack.clock.at(STORY.today, "09:40")
    stack.say(customer, "Hello, Everest Base Camp trek in October for 2 people please")
    stack.say(customer, "Update: we're 3 now")
    (price,) = stack.say(customer, "how much is it in total now?")
    assert "group of 3" in price["text"], price["text"]


def test_a_childs_price_is_answered_for_the_open_enquiry(stack, pg_db_url):
    customer = "+61499325006"
    stack.clock.at(STORY.today, "09:50")
    stack.say(customer, "Hi! Pokhara sightseeing tour for me, my wife and our son in March")
    (kid,) = stack.say(customer, "how much does the kid pay?")
    assert "half price" in kid["text"].lower() or "free" in kid["text"].lower(), kid["text"]
