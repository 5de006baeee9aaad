"""Questions that compare treks or carry their context from earlier turns (issue 25): answered
from the catalogue and the open enquiry, not handed to the team."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from actions.catalog import ActionAskPrice, ActionCompareTreks
from actions.enquiry import ActionAskGroupSize, ActionInform
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.services import catalog, contacts, leads
from tests.actions.conftest import CUSTOMER, make_tracker, run_action


def test_two_treks_are_compared_on_what_was_asked(world):
    ran = run_action(
        ActionCompareTreks(),
        make_tracker(CUSTOMER, "which is harder, EBC or the Annapurna circuit?", "compare_treks"),
    )
    text = ran.text
    assert "*EBC Trek*" in text and "*Annapurna Circuit" in text
    assert "Pokhara" not in text  # only the two named
    assert "5,545 m" in text and "5,416 m" in text and "14 days" in text and "15 days" in text
    # Both are graded challenging: the answer says which goes higher.
    assert "All are graded challenging; EBC Trek goes highest (5,545 m)" in text


def test_a_comparison_without_names_compares_every_trek(world):
    ran = run_action(
        ActionCompareTreks(),
        make_tracker(CUSTOMER, "which of your treks is cheapest?", "compare_treks"),
    )
    assert all(name in ran.text for name in ("EBC", "Annapurna", "Pokhara"))
    assert "Pokhara Sightseeing" in ran.text.split("costs least")[0].splitlines()[-1]


def test_a_german_trek_name_from_the_nlu_counts(world):
    tracker = make_tracker(
        CUSTOMER,
        "Was ist schwerer, EBC oder die Annapurna-Runde?",
        "compare_treks",
        entities=[{"entity": "trek", "value": "EBC"}, {"entity": "trek", "value": "ANN"}],
    )
    ran = run_action(ActionCompareTreks(), tracker)
    assert "EBC" in ran.text and "Annapurna" in ran.text and "Pokhara" not in ran.text


def test_seats_in_a_month_are_answered_before_the_party_size_is_asked(world):
    tracker = make_tracker(
        CUSTOMER,
        "annapurna circuit in march — is there a group going, and are there seats?",
        "enquire_trip",
        entities=[{"entity": "trek", "value": "ANN"}, {"entity": "travel_date", "value": "march"}],
        slots={"trek": "ANN", "travel_date": "march"},
    )
    ran = run_action(ActionAskGroupSize(), tracker)
    assert len(ran.texts) == 2
    assert "Annapurna" in ran.texts[0] and "spots left" in ran.texts[0]
    assert ran.texts[1] == "How many people will be travelling?"


def _enquiry(party: int) -> None:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, CUSTOMER, name="Emma")
        conversation, _ = contacts.get_or_open_conversation(s, contact)
        leads.open_enquiry(
            s,
            contact=contact,
            conversation=conversation,
            product=catalog.get_product(s, "EBC"),
            party_size=party,
            travel_date_text="October",
            enquiry_text="EBC in October",
            actor=SYSTEM,
        )


def test_a_changed_party_is_the_one_priced_next(world):
    _enquiry(2)
    ran = run_action(ActionInform(), make_tracker(CUSTOMER, "Update: we're 3 now", "inform"))
    assert ran.slot("group_size") == "3"
    priced = run_action(
        ActionAskPrice(),
        make_tracker(
            CUSTOMER, "how much is it in total now?", "ask_price", slots={"group_size": "3"}
        ),
    )
    assert "3" in priced.text and "$7,200" in priced.text


@pytest.mark.parametrize("intent", ["faq", "inform"])
def test_a_private_group_request_opens_an_enquiry_flagged_private(world, intent):
    """Whichever intent the words got: the private-departures question, or details given."""
    from actions.knowledge import ActionAnswerFaq
    from backend.models import Lead

    action = ActionAnswerFaq() if intent == "faq" else ActionInform()
    tracker = make_tracker(
        CUSTOMER,
        "could we do EBC as a private group, just the 4 of us in October?",
        intent,
        entities=[
            {"entity": "trek", "value": "EBC"},
            {"entity": "travel_date", "value": "October"},
        ],
    )
    ran = run_action(action, tracker)
    assert ran.text.startswith("A private EBC Trek for your group (4 people, October)")
    with transaction() as s:
        (lead,) = s.scalars(select(Lead)).all()
        assert (lead.private, lead.party_size, lead.travel_date_text) == (True, 4, "October")
        assert lead.product.code == "EBC" and lead.reference in ran.text


def test_a_private_question_about_rooms_is_no_private_departure(world):
    from actions.knowledge import ActionAnswerFaq
    from backend.models import Lead

    tracker = make_tracker(CUSTOMER, "are the rooms private on the EBC trek?", "faq")
    tracker.latest_message["response_selector"] = {
        "faq": {"response": {"intent_response_key": "faq/accommodation", "confidence": 0.95}}
    }
    run_action(ActionAnswerFaq(), tracker)
    with transaction() as s:
        assert s.scalars(select(Lead)).all() == []


def test_how_much_the_kid_pays_is_the_childrens_price_not_how_to_pay(world):
    from actions.booking import ActionAskPayment
    from backend.services import knowledge

    ran = run_action(
        ActionAskPayment(), make_tracker(CUSTOMER, "how much does the kid pay?", "ask_payment")
    )
    with transaction() as s:
        children = knowledge.answer_for(s, "children")
    assert children is not None and ran.text == children


def test_a_trek_named_in_two_entities_is_the_one_that_names_a_trek(world):
    from rasa_sdk.executor import CollectingDispatcher

    from actions.enquiry import ValidateEnquiryForm

    tracker = make_tracker(
        CUSTOMER,
        "Hi! Pokhara sightseeing tour for me, my wife and our son in March",
        "enquire_trip",
        entities=[{"entity": "trek", "value": "PKR"}, {"entity": "trek", "value": "tour"}],
    )
    validated = ValidateEnquiryForm().validate_trek("tour", CollectingDispatcher(), tracker, {})
    assert validated == {"trek": "PKR"}
