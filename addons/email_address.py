"""An NLU component that recognises a message giving an e-mail address ("it's
anna.k@gmail.com") deterministically: intent `give_email` with full confidence and the
normalised address as the `email` entity, whatever the classifier guessed.

It runs after the guide commands (a guide command never carries an address). The rules are
`backend/domain/email_addresses.py`, shared with the action that stores the address.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from addons.rule_classifier import RuleClassifier, load_domain_module

rules = load_domain_module("email_addresses.py")
GIVE_EMAIL = "give_email"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EmailAddressClassifier(RuleClassifier):
    """A short message with one e-mail address in it gives that address."""

    def classify(self, text: str | None):  # type: ignore[no-untyped-def]
        found = rules.email_in(text)
        if found is None:
            return None
        return GIVE_EMAIL, ("email", found.address, found.span)
