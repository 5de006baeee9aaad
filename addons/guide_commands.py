"""An NLU component that recognises guide commands deterministically.

It runs last in the pipeline (after the statistical classifier and the fallback): a message
that starts with CHECKIN, ISSUE, UPDATE, CHECKOUT, PAID, ACCEPT, DECLINE or CONFIRM gets that
command's intent with full confidence, and its reference as the `ref` entity, whatever the
classifier guessed. Only when staff wrote it: a customer's "Update: we're 3 now" is left to
the classifier. The grammar is `backend/domain/commands.py`, shared with the actions.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
)
from rasa.shared.nlu.training_data.message import Message

from addons.rule_classifier import RuleClassifier, load_domain_module

grammar = load_domain_module("commands.py")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class GuideCommandClassifier(RuleClassifier):
    """CHECKIN / ISSUE / UPDATE / CHECKOUT / ACCEPT / DECLINE / CONFIRM, by rule."""

    def applies_to(self, metadata: dict[str, Any]) -> bool:
        # Only a guide's words are commands. The backend names the sender's kind
        # (`sender_kind`); without it (`rasa test`, `rasa shell`) the rule reads everything.
        return not _from_customer(metadata)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if _from_customer(message.get("metadata") or {}):
                _no_staff_intent(message)
        return super().process(messages)

    def classify(self, text: str | None):  # type: ignore[no-untyped-def]
        command = grammar.parse_command(text)
        if command is None:
            return None
        # The grammar's reference (or none) replaces whatever the statistical extractor found.
        return command.intent, ("ref", command.reference, command.reference_span)


def _from_customer(metadata: dict[str, Any]) -> bool:
    return metadata.get("sender_kind") == "customer"


def _no_staff_intent(message: Message) -> None:
    """A customer's message the classifier took for a guide command gets its best other
    intent from the ranking (with that intent's confidence), or none."""
    intent = message.get(INTENT) or {}
    if intent.get(INTENT_NAME_KEY) not in grammar.STAFF_ONLY_INTENTS:
        return
    ranking = [
        ranked
        for ranked in message.get(INTENT_RANKING_KEY) or []
        if ranked.get(INTENT_NAME_KEY) not in grammar.STAFF_ONLY_INTENTS
    ]
    best = (
        ranking[0] if ranking else {INTENT_NAME_KEY: "nlu_fallback", PREDICTED_CONFIDENCE_KEY: 1.0}
    )
    message.set(INTENT, dict(best), add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
