"""Rasa's calls to the action server (addons/action_calls.py), in Rasa's own environment
(action_calls_probe.py): connections are reused, a connection the server closed while idle is
not a failed call, and action responses are validated exactly as Rasa validates them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.assistant.backing_services import rasa_probe

pytestmark = pytest.mark.rasa


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    findings, stderr = rasa_probe("action_calls_probe", timeout=300)
    return {**findings, "stderr": stderr}


ASKED = [*range(6), *range(8), 99]


def test_calls_reuse_one_connection_where_rasa_opens_one_per_call(probe):
    pooled, stock = probe["pooled"], probe["stock"]
    assert pooled["echoes"] == ASKED and stock["echoes"] == ASKED  # every call answered
    assert stock["connections_back_to_back"] == 6  # Rasa's own: a connection per call
    assert pooled["connections_back_to_back"] == 1
    # Eight at once need up to eight; then the server closed them while idle and the last
    # call opened a new one instead of failing on a closed one.
    assert pooled["connections"] <= 1 + 8 + 1 < stock["connections"] == len(ASKED)
    assert "Unclosed client session" not in probe["stderr"]


def test_action_responses_are_validated_as_rasa_does(probe):
    ours, rasa = probe["validation_pooled"], probe["validation_stock"]
    assert ours["valid"] is True and rasa["valid"] is True
    assert ours["errors"] == rasa["errors"]
    assert all(e and "Failed to validate Action server response" in e for e in ours["errors"])
