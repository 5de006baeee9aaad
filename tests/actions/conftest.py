"""Action tests: build a tracker with `Tracker.from_dict`, run the action with a
CollectingDispatcher against a real database loaded with the demo world."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.conftest import load_demo_world


@dataclass
class Ran:
    texts: list[str]
    buttons: list[list[dict[str, Any]]]
    events: list[dict[str, Any]]
    custom: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n\n".join(self.texts)

    def slot(self, name: str) -> Any:
        return next(
            (e["value"] for e in self.events if e.get("event") == "slot" and e["name"] == name),
            None,
        )


def make_tracker(
    sender: str,
    text: str,
    intent: str,
    *,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    wamid: str | None = None,
    events: list[dict[str, Any]] | None = None,
) -> Tracker:
    metadata = {"wamid": wamid, "profile_name": "Emma"} if wamid else {"profile_name": "Emma"}
    return Tracker.from_dict(
        {
            "sender_id": sender,
            "slots": slots or {},
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.99},
                "entities": entities or [],
                "metadata": metadata,
            },
            "events": events or [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def run_action(action: Any, tracker: Tracker) -> Ran:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return Ran(
        texts=[m.get("text") or "" for m in dispatcher.messages],
        buttons=[m.get("buttons") or [] for m in dispatcher.messages],
        events=events,
        custom=[m.get("custom") or {} for m in dispatcher.messages],
    )


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "start": 0, "end": len(value)}


@pytest.fixture
def world(db_url, story_clock):
    return load_demo_world(db_url)


CUSTOMER = "+61499000001"
SARAH = "+9779801000001"
OPS = "+9779801000002"
RAJESH = "+9779801000003"
AMIT = "+9779801000004"


def tap(sender: str, payload: str, **kwargs: Any) -> Tracker:
    """The tracker of a tapped button or list row, parsed as Rasa parses `/intent{...}`."""
    import json
    import re

    found = re.fullmatch(r"/(\w+)(\{.*\})?", payload)
    assert found, payload
    values = json.loads(found.group(2) or "{}")
    return make_tracker(
        sender,
        payload,
        found.group(1),
        entities=[entity(name, str(value)) for name, value in values.items()],
        **kwargs,
    )


def payloads(ran: Ran, index: int = 0) -> dict[str, str]:
    """Title → payload of the buttons (or list rows) of the `index`-th reply."""
    return {b["title"]: b["payload"] for b in ran.buttons[index]}
