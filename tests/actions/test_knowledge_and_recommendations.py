"""Practical questions answered from the operator's knowledge (edited without retraining),
policy questions never routed to a booking lookup, honest hand-offs, and recommendations."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from sqlalchemy import select

from actions.booking import ActionAskPayment, ActionCancelBooking
from actions.catalog import ActionRecommend
from actions.knowledge import ActionAnswerFaq
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import TimelineEvent
from backend.services import knowledge
from tests.actions.conftest import CUSTOMER, make_tracker, run_action


def _asked(text: str, topic: str, confidence: float = 0.93, **kwargs: Any) -> Tracker:
    """The tracker of a question Rasa's ResponseSelector placed under `faq/<topic>`."""
    tracker = make_tracker(CUSTOMER, text, "faq", **kwargs)
    tracker.latest_message["response_selector"] = {
        "faq": {
            "response": {
                "intent_response_key": f"faq/{topic}",
                "confidence": confidence,
                "responses": [{"text": "(stub)"}],
            },
            "ranking": [],
        }
    }
    return tracker


def test_a_policy_question_gets_the_operators_answer(world):
    ran = run_action(
        ActionAnswerFaq(), _asked("what's the cancellation policy?", "cancellation_policy")
    )
    with transaction() as s:
        assert ran.text == knowledge.answer_for(s, "cancellation_policy")
        assert (
            s.scalar(
                select(TimelineEvent).where(
                    TimelineEvent.action == "tms.conversation.question_answered"
                )
            ).content["topic"]
            == "cancellation_policy"
        )


def test_a_products_own_answer_comes_first(world):
    general = run_action(ActionAnswerFaq(), _asked("do I need permits?", "permits"))
    pokhara = run_action(
        ActionAnswerFaq(), _asked("do I need permits for the Pokhara tour?", "permits")
    )
    with transaction() as s:
        from backend.services import catalog

        expected = knowledge.answer_for(s, "permits", catalog.get_product(s, "PKR"))
    assert pokhara.text == expected and pokhara.text != general.text


def test_an_edited_answer_is_used_at_once(world):
    with transaction() as s:
        knowledge.set_answer(s, "tipping", "Tips are welcome, never expected. 🙏", SYSTEM)
    ran = run_action(ActionAnswerFaq(), _asked("how much should we tip?", "tipping"))
    assert ran.text == "Tips are welcome, never expected. 🙏"


def test_an_unsure_topic_is_handed_to_the_team_not_guessed(world):
    ran = run_action(
        ActionAnswerFaq(), _asked("can I bring my drone to base camp?", "packing", confidence=0.31)
    )
    assert "passed it to our team" in ran.text
    with transaction() as s:
        event = s.scalar(
            select(TimelineEvent).where(
                TimelineEvent.action == "tms.conversation.question_unanswered"
            )
        )
        assert event.content["text"] == "can I bring my drone to base camp?"


def test_an_unsure_topic_named_by_one_topics_words_is_answered(world):
    ran = run_action(
        ActionAnswerFaq(), _asked("what's a fair gratuity for the crew?", "packing", confidence=0.2)
    )
    with transaction() as s:
        assert ran.text == knowledge.answer_for(s, "tipping")
    # Words of two topics (tips and insurance) and an unsure selector: not guessed.
    torn = run_action(
        ActionAnswerFaq(), _asked("tips and insurance, what about them?", "packing", confidence=0.2)
    )
    assert "passed it to our team" in torn.text
    # The same words, and the selector's choice is one of the two: that one, however unsure.
    settled = run_action(
        ActionAnswerFaq(), _asked("tips and insurance, what about them?", "tipping", confidence=0.2)
    )
    with transaction() as s:
        assert settled.text == knowledge.answer_for(s, "tipping")
    # One topic's words outweigh a selector that is sure of another.
    named = run_action(ActionAnswerFaq(), _asked("do I need a visa?", "packing", confidence=0.9))
    with transaction() as s:
        assert named.text == knowledge.answer_for(s, "visas")


def test_visa_the_card_is_a_payment_question_not_the_entry_visa(world):
    card = run_action(ActionAnswerFaq(), _asked("can I pay with Visa?", "visas", confidence=1.0))
    entry = run_action(ActionAnswerFaq(), _asked("do I need a visa for Nepal?", "visas"))
    with transaction() as s:
        assert card.text == knowledge.answer_for(s, "payment_methods")
        assert entry.text == knowledge.answer_for(s, "visas")


def test_payment_and_cancellation_questions_before_booking_are_not_lookups(world):
    paying = run_action(
        ActionAskPayment(), make_tracker(CUSTOMER, "can I pay by bank transfer?", "ask_payment")
    )
    cancelling = run_action(
        ActionCancelBooking(),
        make_tracker(CUSTOMER, "what happens if I have to cancel?", "cancel_booking"),
    )
    with transaction() as s:
        assert paying.text == knowledge.answer_for(s, "payment_methods")
        assert cancelling.text == knowledge.answer_for(s, "cancellation_policy")
    assert "couldn't find a booking" not in paying.text + cancelling.text


def test_an_easy_short_family_trip_is_the_pokhara_tour(world):
    ran = run_action(
        ActionRecommend(),
        make_tracker(
            CUSTOMER, "something easy, 5 days max, for my family with 2 kids", "ask_recommendation"
        ),
    )
    assert "Pokhara Sightseeing Tour" in ran.text
    assert "Everest" not in ran.text and "Annapurna" not in ran.text
    assert ran.slot("trek") == "PKR"


def test_the_party_is_priced_and_kept_for_the_enquiry(world):
    ran = run_action(
        ActionRecommend(),
        make_tracker(
            CUSTOMER, "a challenging trek for 2 couples, two weeks at most", "ask_recommendation"
        ),
    )
    assert "Everest Base Camp Trek" in ran.text and "$9,600 for 4" in ran.text
    assert "Annapurna" not in ran.text  # 15 days
    assert ran.slot("group_size") == "4"


def test_when_nothing_fits_the_closest_is_said_with_why(world):
    ran = run_action(
        ActionRecommend(),
        make_tracker(CUSTOMER, "a challenging trek, 3 days max", "ask_recommendation"),
    )
    assert ran.text.startswith("Nothing we run fits all of that")
    assert "(you said 3 at most)" in ran.text or "not a challenge" in ran.text


def test_a_wish_that_says_nothing_is_asked_about(world):
    ran = run_action(
        ActionRecommend(),
        make_tracker(CUSTOMER, "can you help me choose?", "ask_recommendation"),
    )
    assert "how many days you have" in ran.text
