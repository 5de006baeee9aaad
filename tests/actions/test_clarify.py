"""Not sure what the customer meant: "Do you mean …?" with the likeliest answers as buttons; a
tap answers the customer's own words as that, and "Talk to a person" reaches one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from actions.booking import ActionHumanHandoff
from actions.catalog import ActionAskPrice
from actions.clarify import ActionClarify, guesses
from actions.common import CLARIFYING_TEXT
from actions.knowledge import ActionAnswerFaq
from backend.db import transaction
from backend.models import Contact, OutboundMessage, TimelineEvent
from tests.actions.conftest import CUSTOMER, RAJESH, make_tracker, payloads, run_action, tap

WORDS = "ebc how much for me n my bro in oct??"


def _unsure(text: str, ranking: list[tuple[str, float]], topic: str | None = None) -> Any:
    tracker = make_tracker(CUSTOMER, text, "nlu_fallback")
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.45},
        *({"name": name, "confidence": confidence} for name, confidence in ranking),
    ]
    if topic is not None:
        tracker.latest_message["response_selector"] = {
            "faq": {"response": {"intent_response_key": f"faq/{topic}", "confidence": 0.4}}
        }
    return tracker


def test_the_two_likeliest_answers_are_offered_and_yes_no_thanks_never_are():
    message = {
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.45},
            {"name": "affirm", "confidence": 0.3},
            {"name": "ask_price", "confidence": 0.28},
            {"name": "faq", "confidence": 0.2},
            {"name": "ask_dates", "confidence": 0.15},
        ],
        "response_selector": {"faq": {"response": {"intent_response_key": "faq/permits"}}},
    }
    assert guesses(message) == [("ask_price", None), ("faq", "permits")]
    message["intent_ranking"] = [{"name": "ask_dates", "confidence": 0.05}]
    assert guesses(message) == []


def test_an_unsure_message_asks_do_you_mean_with_buttons_and_a_person(world):
    ran = run_action(ActionClarify(), _unsure(WORDS, [("ask_price", 0.4), ("ask_dates", 0.3)]))
    assert "Do you mean" in ran.text
    titles = payloads(ran)
    assert list(titles) == ["Prices", "Dates & free seats", "Talk to a person"]
    assert all(payload.startswith("/") and len(payload) <= 256 for payload in titles.values())
    assert ran.slot(CLARIFYING_TEXT) == WORDS
    with transaction() as s:
        # Asking is not handing over: nobody is alerted yet.
        assert not s.scalars(
            select(TimelineEvent).where(TimelineEvent.action == "tms.conversation.unhandled")
        ).all()


def test_tapping_a_guess_answers_the_customers_own_words(world):
    ran = run_action(ActionClarify(), _unsure(WORDS, [("ask_price", 0.4), ("ask_dates", 0.3)]))
    tapped = tap(CUSTOMER, payloads(ran)["Prices"], slots={CLARIFYING_TEXT: WORDS})
    answer = run_action(ActionAskPrice(), tapped)
    # The trek and the party come from the words the question was about, not the payload.
    assert "Everest Base Camp" in answer.text
    assert "2" in answer.text


def test_a_guessed_practical_question_is_answered_on_its_topic(world):
    ran = run_action(
        ActionClarify(), _unsure("wat papers do i need for the trek", [("faq", 0.4)], "permits")
    )
    titles = payloads(ran)
    assert len(titles) == 2 and "Talk to a person" in titles
    topic_title = next(title for title in titles if title != "Talk to a person")
    tapped = tap(
        CUSTOMER, titles[topic_title], slots={CLARIFYING_TEXT: "wat papers do i need for the trek"}
    )
    answer = run_action(ActionAnswerFaq(), tapped)
    assert "permit" in answer.text.lower()


def test_the_question_and_buttons_are_in_the_customers_language(world):
    with transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.phone == CUSTOMER))
        if contact is None:
            contact = Contact(phone=CUSTOMER)
            s.add(contact)
        contact.language = "de"
        contact.language_chosen = True
    ran = run_action(ActionClarify(), _unsure("ebc wie viel", [("ask_price", 0.4)]))
    assert "Do you mean" not in ran.text
    assert "Prices" not in payloads(ran)


def test_nothing_likely_enough_gets_the_help_answer_and_the_team(world):
    ran = run_action(ActionClarify(), _unsure("blorp", [("ask_dates", 0.05)]))
    assert not ran.buttons[0]
    with transaction() as s:
        assert s.scalars(
            select(TimelineEvent).where(TimelineEvent.action == "tms.conversation.unhandled")
        ).all()


def test_talk_to_a_person_hands_the_customers_words_to_the_team(world):
    ran = run_action(ActionClarify(), _unsure(WORDS, [("ask_price", 0.4)]))
    tapped = tap(CUSTOMER, payloads(ran)["Talk to a person"], slots={CLARIFYING_TEXT: WORDS})
    run_action(ActionHumanHandoff(), tapped)
    with transaction() as s:
        alerts = s.scalars(
            select(OutboundMessage.body).where(OutboundMessage.staff_id.is_not(None))
        ).all()
    assert any(WORDS in (body or "") for body in alerts)


def test_staff_are_never_asked_do_you_mean(world):
    tracker = _unsure("blah blah", [("ask_price", 0.4)])
    staff = make_tracker(RAJESH, "blah blah", "nlu_fallback")
    staff.latest_message["intent_ranking"] = tracker.latest_message["intent_ranking"]
    ran = run_action(ActionClarify(), staff)
    assert "Do you mean" not in ran.text and not ran.buttons[0]
