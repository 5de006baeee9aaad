"""The assistant's replies read the team's own wording (the console's Translations page): the
action server is a process of its own, and a turn looks whether the wording changed."""

from __future__ import annotations

import pytest

from actions.small_talk import ActionGoodbye
from backend import i18n
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.services import contacts, languages, translations
from tests.actions.conftest import CUSTOMER, make_tracker, run_action

GOODBYE = "Thanks for chatting with us! Reply here anytime. 🙏"
OURS = "Danke fürs Schreiben – bis bald! 🙏"


@pytest.fixture
def german_customer(world, monkeypatch: pytest.MonkeyPatch):
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, CUSTOMER, name="Jonas")
        languages.choose(s, contact, "de", SYSTEM)
    yield CUSTOMER
    i18n.install_overrides({})


def test_a_turn_reads_wording_saved_by_another_process(german_customer, monkeypatch) -> None:
    tracker = make_tracker(german_customer, "tschüss", "goodbye")
    assert run_action(ActionGoodbye(), tracker).text.startswith("Danke für Ihre Nachricht!")
    with transaction() as s:
        translations.save(s, "de", GOODBYE, OURS, SYSTEM)
    # As another process (the console's backend) saved it: nothing of it is read here yet,
    # and this process looked long enough ago.
    i18n.install_overrides({})
    monkeypatch.setattr(translations, "_checked_at", None)
    assert run_action(ActionGoodbye(), tracker).text == OURS
    with transaction() as s:
        translations.reset(s, "de", GOODBYE, SYSTEM)
    i18n.install_overrides({"de": {GOODBYE: OURS}})
    monkeypatch.setattr(translations, "_checked_at", None)
    assert run_action(ActionGoodbye(), tracker).text.startswith("Danke für Ihre Nachricht!")
