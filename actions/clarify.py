"""Not sure what the customer meant: ask, rather than guess ("Do you mean …?", with the
likeliest answers as buttons). A tap runs that answer on the customer's own words, kept in
the `clarifying_text` slot (`common.typed_text`); nothing is handed to the team unless they
ask for a person, or nothing is likely enough to offer."""

from __future__ import annotations

from typing import Any

from actions import handoff
from actions.common import CLARIFYING_TEXT, TmsAction, Turn
from backend import texts
from backend.domain import choices
from backend.services import knowledge, languages

# Below this an intent is not worth a button; at most two guesses, and a person always offered.
MIN_GUESS_CONFIDENCE = 0.1
MAX_GUESSES = 2


def guesses(latest_message: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The likeliest (intent, FAQ topic) the assistant may offer, best first."""
    found: list[tuple[str, str | None]] = []
    for ranked in latest_message.get("intent_ranking") or []:
        intent = str(ranked.get("name") or "")
        if float(ranked.get("confidence") or 0.0) < MIN_GUESS_CONFIDENCE:
            break
        if intent == "faq":
            topic = _likeliest_topic(latest_message)
            if topic is not None:
                found.append((intent, topic))
        elif texts.clarify_offers(intent) and intent != "human_handoff":
            found.append((intent, None))
        if len(found) == MAX_GUESSES:
            break
    return found


def _likeliest_topic(latest_message: dict[str, Any]) -> str | None:
    selector = (latest_message.get("response_selector") or {}).get("faq") or {}
    key = str((selector.get("response") or {}).get("intent_response_key") or "")
    return key.split("/", 1)[1] if key.startswith("faq/") else None


class ActionClarify(TmsAction):
    NAME = "action_clarify"

    def handle(self, turn: Turn) -> None:
        found = guesses(turn.tracker.latest_message) if turn.staff is None and turn.text else []
        if not found:
            handoff.keep_for_staff(turn, handoff.NOT_UNDERSTOOD)
            turn.say(texts.help_message())
            return
        answers = choices.answer_to(choices.CLARIFY, turn.conversation.id)
        titles = knowledge.topics(languages.language_of(turn.contact)) or knowledge.topics()
        buttons = []
        for intent, topic in found:
            if topic is None:
                buttons.append(choices.button(texts.clarify_button(intent), intent, answers))
            else:
                known = titles.get(topic) or knowledge.topics().get(topic)
                title = known.title if known else topic.replace("_", " ")
                buttons.append(choices.button(title, intent, answers, **{choices.TOPIC: topic}))
        buttons.append(
            choices.button(texts.clarify_button("human_handoff"), "human_handoff", answers)
        )
        turn.set_slot(CLARIFYING_TEXT, turn.text)
        turn.say(texts.clarify_question(), buttons)
