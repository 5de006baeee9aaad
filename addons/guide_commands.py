"""An NLU component that recognises guide commands deterministically.

It runs last in the pipeline (after the statistical classifier and the fallback): a message
that starts with CHECKIN, ISSUE, UPDATE, CHECKOUT, PAID, ACCEPT, DECLINE or CONFIRM gets that
command's intent with full confidence, and its reference as the `ref` entity, whatever the
classifier guessed. The grammar is `backend/domain/commands.py`, shared with the actions.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from addons.rule_classifier import RuleClassifier, load_domain_module

grammar = load_domain_module("commands.py")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class GuideCommandClassifier(RuleClassifier):
    """CHECKIN / ISSUE / UPDATE / CHECKOUT / ACCEPT / DECLINE / CONFIRM, by rule."""

    def classify(self, text: str | None):  # type: ignore[no-untyped-def]
        command = grammar.parse_command(text)
        if command is None:
            return None
        # The grammar's reference (or none) replaces whatever the statistical extractor found.
        return command.intent, ("ref", command.reference, command.reference_span)
