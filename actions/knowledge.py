"""Travellers' practical questions (policies, payments, permits, packing, ...): Rasa's
ResponseSelector picks the topic (`faq/<topic>`), the answer comes from the operator's
knowledge in the backend, so staff edit it without retraining. A question it cannot place
gets an honest "I'll ask the team" and lands with the rep and on the console."""

from __future__ import annotations

import re
from typing import Any

from actions.common import TmsAction, Turn
from actions.faq import answer_question
from actions.handoff import QUESTION_FOR_TEAM, keep_for_staff
from actions.private import answer_private_request
from backend import texts
from backend.domain import choices
from backend.domain.enums import ObjectType
from backend.services import timeline

# Below this the topic is a guess: better to ask the team than to answer the wrong question.
MIN_TOPIC_CONFIDENCE = 0.5


def topic_of(turn: Turn) -> tuple[str | None, float]:
    """The retrieval intent's topic (`faq/permits` → "permits") and its confidence."""
    selector: dict[str, Any] = turn.tracker.latest_message.get("response_selector") or {}
    found = (selector.get("faq") or selector.get("default") or {}).get("response") or {}
    key = found.get("intent_response_key") or ""
    topic = key.split("/", 1)[1] if key.startswith("faq/") else None
    return topic, float(found.get("confidence") or 0.0)


def hand_question_to_team(turn: Turn) -> None:
    """Not a question the assistant can answer well: say so, and give it to a person."""
    timeline.record(
        turn.session,
        object_type=ObjectType.CONVERSATION,
        object_id=turn.conversation.id,
        event_type="UNANSWERED",
        action="tms.conversation.question_unanswered",
        actor=turn.actor,
        content={"text": turn.text},
    )
    keep_for_staff(turn, QUESTION_FOR_TEAM)
    turn.say(texts.question_for_the_team())


# Words that name one topic only: they decide the topic when exactly one topic's words match
# (two or more: the selector decides, or the team).
TOPIC_HINTS: dict[str, re.Pattern[str]] = {
    topic: re.compile(pattern, re.I)
    for topic, pattern in {
        # "Pay with Visa" is the card, not the entry visa.
        "visas": r"(?<!with )(?<!by )\b(visas?(?! card| debit| credit)|passports?)\b",
        "payment_methods": r"\b(pay(ing)? (with|by) visa|visa (card|debit|credit)|mastercard|amex|credit cards?|debit cards?|paypal|bank transfer)\b",
        "permits": r"\b(permits?|tims|acap)\b",
        "travel_insurance": r"\b(insurance|insured|policy covering)\b",
        "altitude_sickness": r"\b(altitude|ams|acclimati[sz]\w*|diamox|thin air|mountain sickness|hape|hace)\b",
        "tipping": r"\b(tips?|tipping|gratuit\w*|thank(ing)? (the )?(guides?|porters?|crew))\b",
        "connectivity": r"\b(wi-?fi|internet|sim( card)?|phone signal|signal|charg\w+|network)\b",
        "food_and_diet": r"\b(vegan|vegetarian|gluten|allerg\w*|food|meals?|diet\w*|drinking water|lactose|dairy|plant[- ]based|halal|kosher|coeliac|celiac)\b",
        "packing": r"\b(pack|packing|gear|boots|sleeping bags?|jackets?|clothes|poles|kit list|equipment)\b",
        "weather_best_season": r"\b(weather|season|monsoon|rain\w*|temperatures?|cold|snow|best time|winter|summer|spring|autumn)\b",
        "accommodation": r"\b(tea ?houses?|lodges?|hotels?|rooms?|sleep|accommodation)\b",
        "solo_travellers": r"\b(solo|alone|single supplement|single room|room to myself|by myself|on my own)\b",
        "children": r"\b(kids?|child(ren)?|toddlers?|bab(y|ies)|infants?|\d{1,2}[- ]year[- ]old)\b",
        "age_limits": r"\b(age (limit|cap|restrictions?)|too old|seniors?|over (60|65|70)|maximum age|minimum age|grand(mother|father|ma|pa|parents?)|pensioners?|elderly)\b",
        "fitness": r"\b(fit|fitness|strenuous|difficult|athlete|tough|hard going|training)\b",
        "meeting_point": r"\b(meet(ing)?( point| place)?|start(ing)? (point|location)|show up|where (do|should) (i|we) (go|be))\b",
        "airport_pickup": r"\b(airport|pick ?up|collect(ed)? us|arrivals?|when (i|we) land)\b",
        "luggage_and_porters": r"\b(porters?|luggage|bags?|suitcases?|kg|kilos?|storage)\b",
        "safety_record": r"\b(safe|safety|risky|danger\w*|emergenc\w+|evacuat\w+|rescue|injur\w+|hurt|certif\w+|qualifi\w+|licen[cs]ed|first aid)\b",
        "refunds": r"\b(refunds?|reimburs\w+|money back)\b",
        "cancellation_policy": r"\b(cancel\w*|back out|pull out)\b",
        "private_departures": r"\b(private)\b",
    }.items()
}


def topics_by_hints(text: str) -> list[str]:
    return [topic for topic, words in TOPIC_HINTS.items() if words.search(text)]


def decide_topic(text: str, selected: str | None, confidence: float) -> str | None:
    """The topic to answer, or None (a person answers): the one topic the words name; among
    several, the one the selector chose if it is one of them; else the selector when it is
    sure. A wrong answer is worse than a short wait."""
    named = topics_by_hints(text)
    if len(named) == 1:
        return named[0]
    if selected in named:
        return selected
    return selected if confidence >= MIN_TOPIC_CONFIDENCE else None


class ActionAnswerFaq(TmsAction):
    NAME = "action_answer_faq"

    def handle(self, turn: Turn) -> None:
        if answer_private_request(turn):
            return  # "a private EBC for the 4 of us": an enquiry, not the policy's words
        chosen = next(turn.tracker.get_latest_entity_values(choices.TOPIC), None)
        if chosen:  # a tapped "Do you mean …?" guess
            if not answer_question(turn, str(chosen)):
                hand_question_to_team(turn)
            return
        selected, confidence = topic_of(turn)
        if not answer_question(turn, decide_topic(turn.text, selected, confidence)):
            hand_question_to_team(turn)
