"""Through the trained assistant: every guide command variant gets its intent with full
confidence and its reference, whatever the statistical classifier would have guessed."""

from __future__ import annotations

import httpx
import pytest

from backend.domain.commands import INTENTS
from tests.backend.domain.test_commands import variants

pytestmark = pytest.mark.rasa


def test_guide_commands_are_recognised_by_rule_in_the_assistant(assistant_stack):
    table = variants()[::37]  # a spread of the generated table: every command and form
    table += [
        ("Accept", "ACCEPT", None, ""),
        ("decline sorry", "DECLINE", None, "sorry"),
        ("CONFIRM", "CONFIRM", None, ""),
    ]
    assert len(table) > 250
    wrong = []
    with httpx.Client(base_url=assistant_stack["rasa_url"], timeout=60) as client:
        for text, command, ref, _note in table:
            parsed = client.post("/model/parse", json={"text": text}).json()
            intent = parsed["intent"]
            refs = [e["value"] for e in parsed["entities"] if e["entity"] == "ref"]
            if (intent["name"], intent["confidence"]) != (INTENTS[command], 1.0) or (
                ref is not None and refs != [ref]
            ):
                wrong.append((text, intent, refs))
    assert wrong == [], f"{len(wrong)} of {len(table)} misread, e.g. {wrong[:3]}"
