"""Drives the bounded tracker store in Rasa's own environment (Python 3.10) and prints what it
saw as JSON, for tests/assistant/test_bounded_tracker_store.py (the test suite runs in the
backend's environment, where Rasa is not installed):

    .venv-rasa/bin/python -m tests.assistant.tracker_store_probe TRACKER_URL all|SCENARIO,... [WINDOW]

The store is built from the project's endpoints.yml (as `rasa run` builds it, behind Rasa's
FailSafeTrackerStore) with the domain in domain.yml. Each turn is logged the way Rasa's
processor logs one (load, session start if new, user message, slots, actions, action listen,
save). After every turn the bounded tracker is compared with what Rasa's stock
SQLTrackerStore loads from the same table: the whole session, replayed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore, TrackerStore
from rasa.core.utils import AvailableEndpoints
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
LISTEN = "action_listen"


class Probe:
    def __init__(self, url: str, window_turns: int) -> None:
        os.environ["TRACKER_DIALECT"] = "postgresql"
        os.environ["TRACKER_STORE_URL"] = url
        os.environ["TRACKER_WINDOW_TURNS"] = str(window_turns)
        os.environ.setdefault("ACTION_ENDPOINT_URL", "http://127.0.0.1:9/webhook")
        os.environ.setdefault("ACTION_SERVER_SECRET", "probe")
        self.domain = Domain.load(str(ROOT / "domain.yml"))
        endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.yml"))
        self.bounded = FailSafeTrackerStore(
            TrackerStore.create(endpoints.tracker_store, domain=self.domain)
        )
        self.stock = SQLTrackerStore(self.domain, host=url)
        self.appended: dict[str, int] = {}
        self.turns: dict[str, int] = {}
        self.loaded: list[int] = []
        self.mismatches: list[str] = []
        self.mismatch_turns: list[int] = []
        self.window_turns = window_turns

    # -- Rasa's processor, in short -------------------------------------------------------------
    async def load(self, sender: str) -> DialogueStateTracker:
        tracker = await self.bounded.get_or_create_tracker(sender, append_action_listen=False)
        self.loaded.append(len(tracker.events))
        if not tracker.applied_events():
            carried = [
                SlotSet(name, slot.value)
                for name, slot in tracker.slots.items()
                if slot.has_been_set
            ]
            self.log(
                tracker,
                [ActionExecuted("action_session_start"), SessionStarted(), *carried],
                [ActionExecuted(LISTEN)],
            )
        return tracker

    def log(self, tracker: DialogueStateTracker, *groups: Iterable[Event]) -> None:
        for group in groups:
            for event in group:
                tracker.update(event, self.domain)
                self.appended[tracker.sender_id] = self.appended.get(tracker.sender_id, 0) + 1

    async def turn(
        self,
        sender: str,
        intent: str,
        *,
        slots: dict[str, Any] | None = None,
        action: str = "action_answer_faq",
        extra: Callable[[], list[Event]] | None = None,
        save_twice: bool = False,
    ) -> DialogueStateTracker:
        tracker = await self.load(sender)
        self.turns[sender] = self.turns.get(sender, 0) + 1
        text = f"{intent} #{self.appended.get(sender, 0)}"
        self.log(
            tracker,
            [UserUttered(text, {"name": intent, "confidence": 1.0})],
            [SlotSet(k, v) for k, v in (slots or {}).items()],
            [ActionExecuted(action)],
            extra() if extra else [],
            [BotUttered(f"answer to {text}"), ActionExecuted(LISTEN)],
        )
        await self.bounded.save(tracker)
        if save_twice:  # Rasa saves some trackers more than once (the HTTP API, reminders)
            await self.bounded.save(tracker)
        await self.compare(sender)
        return tracker

    # -- the checks -----------------------------------------------------------------------------
    async def compare(self, sender: str) -> None:
        bounded = await self.bounded.retrieve(sender)
        stock = await self.stock.retrieve(sender)
        assert bounded is not None and stock is not None
        turn = self.appended.get(sender, 0)
        for what, ours, theirs in (
            ("slots", bounded.current_slot_values(), stock.current_slot_values()),
            ("active loop", bounded.active_loop_name, stock.active_loop_name),
            ("paused", bounded.is_paused(), stock.is_paused()),
            ("latest message", bounded.latest_message.text, stock.latest_message.text),
            ("latest action", bounded.latest_action_name, stock.latest_action_name),
            # Only the state before a window differs from a full replay's, and a window holds
            # `window_turns` turns or more, each with a state or more, then the current one.
            (
                "last states",
                bounded.past_states(self.domain)[-self.window_turns - 1 :],
                stock.past_states(self.domain)[-self.window_turns - 1 :],
            ),
        ):
            if ours != theirs:
                self.mismatches.append(f"{sender} after {turn} events: {what}: {ours} != {theirs}")
                self.mismatch_turns.append(self.turns.get(sender, 0))

    async def rows(self, sender: str) -> list[dict[str, Any]]:
        """Every stored event of the sender, in order (as Rasa's 'all sessions' loads them)."""
        full = await self.stock.retrieve_full_tracker(sender)
        return [e.as_dict() for e in full.events] if full else []

    def report(self, **extra: Any) -> dict[str, Any]:
        return {
            "mismatches": self.mismatches[:20],
            "mismatch_count": len(self.mismatches),
            "first_mismatch_turn": min(self.mismatch_turns, default=None),
            "loaded": self.loaded,
            **extra,
        }


# -- scenarios ------------------------------------------------------------------------------------
async def long_conversation(probe: Probe) -> dict[str, Any]:
    """A customer enquires (a form, slots), then writes for 300 turns: slot changes, a pause,
    a reverted message, a double save. Nothing the dialogue needs is lost; loads stay small."""
    sender = "+61499300001"
    await probe.turn(
        sender,
        "enquire_trip",
        slots={"trek": "EBC"},
        action="enquiry_form",
        extra=lambda: [ActiveLoop("enquiry_form"), SlotSet("requested_slot", "group_size")],
    )
    await probe.turn(
        sender,
        "inform",
        slots={"group_size": "3 people"},
        action="enquiry_form",
        extra=lambda: [
            SlotSet("requested_slot", None),
            ActiveLoop(None),
            ActionExecuted("action_submit_enquiry"),
            SlotSet("pending_question", "full_options"),
        ],
    )
    stock_sizes: list[int] = []
    for i in range(300):
        slots = {"option_number": str(i)} if i % 7 == 0 else None
        extra: Callable[[], list[Event]] | None = None
        if i == 40:
            extra = lambda: [ConversationPaused()]  # noqa: E731
        elif i == 90:
            extra = lambda: [ConversationResumed()]  # noqa: E731
        elif i == 150:
            extra = lambda: [UserUtteranceReverted()]  # noqa: E731
        await probe.turn(sender, "faq", slots=slots, extra=extra, save_twice=i % 50 == 0)
        if i in (10, 100, 299):
            stock = await probe.stock.retrieve(sender)
            stock_sizes.append(len(stock.events) if stock else 0)
    tracker = await probe.bounded.retrieve(sender)
    assert tracker is not None
    stored = await probe.rows(sender)
    return probe.report(
        stored=len(stored),
        appended=probe.appended[sender],
        stock_loaded=stock_sizes,
        slots={k: tracker.get_slot(k) for k in ("trek", "group_size", "pending_question")},
        turns=probe.turns[sender],
        stored_user_turns=len([e for e in stored if e["event"] == "user"]),
    )


async def open_form(probe: Probe) -> dict[str, Any]:
    """A form left open for many turns: the window does not start inside it until the form
    has run for four windows."""
    sender = "+61499300002"
    await probe.turn(
        sender,
        "enquire_trip",
        action="enquiry_form",
        extra=lambda: [ActiveLoop("enquiry_form"), SlotSet("requested_slot", "trek")],
    )
    for _ in range(6 * probe.window_turns):
        await probe.turn(sender, "inform", action="enquiry_form")
    return probe.report(stored=len(await probe.rows(sender)), appended=probe.appended[sender])


async def new_session(probe: Probe) -> dict[str, Any]:
    """A new session (after a day's silence) with carried-over slots: the window moves to it,
    and the tracker is exactly what the stock store loads."""
    sender = "+61499300003"
    await probe.turn(sender, "enquire_trip", slots={"trek": "ANN"})
    for _ in range(3 * probe.window_turns):
        await probe.turn(sender, "faq")
    tracker = await probe.load(sender)
    probe.log(
        tracker,
        [ActionExecuted("action_session_start"), SessionStarted(), SlotSet("trek", "ANN")],
        [ActionExecuted(LISTEN)],
    )
    await probe.bounded.save(tracker)
    same: list[bool] = []
    for _ in range(3):
        await probe.turn(sender, "faq")
        bounded = await probe.bounded.retrieve(sender)
        stock = await probe.stock.retrieve(sender)
        assert bounded is not None and stock is not None
        same.append([e.as_dict() for e in bounded.events] == [e.as_dict() for e in stock.events])
    return probe.report(same_events_as_stock=same, stored=len(await probe.rows(sender)))


async def legacy_conversation(probe: Probe) -> dict[str, Any]:
    """A long conversation stored by Rasa's stock store (before this store was deployed):
    loaded whole once, then windowed."""
    sender = "+61499300004"
    stock_only = Probe.__new__(Probe)
    stock_only.__dict__.update(probe.__dict__)
    stock_only.bounded = FailSafeTrackerStore(probe.stock)
    stock_only.loaded = []
    await stock_only.turn(sender, "enquire_trip", slots={"trek": "EBC"})
    for _ in range(60):
        await stock_only.turn(sender, "faq")
    probe.appended = stock_only.appended
    probe.mismatches = stock_only.mismatches
    for _ in range(30):
        await probe.turn(sender, "faq")
    stored = await probe.rows(sender)
    return probe.report(stored=len(stored), appended=probe.appended[sender])


async def unshared_lock(probe: Probe) -> dict[str, Any]:
    """Two processes handle the sender at once (no shared lock store): the second save keeps
    all its events (the stock store would drop as many as the first one wrote) and the next
    turn rebuilds from the whole session."""
    sender = "+61499300005"
    for _ in range(3 * probe.window_turns):
        await probe.turn(sender, "faq")
    first = await probe.load(sender)
    second = await probe.load(sender)
    probe.log(first, [UserUttered("first", {"name": "faq"}), ActionExecuted(LISTEN)])
    probe.log(second, [UserUttered("second", {"name": "faq"}), ActionExecuted(LISTEN)])
    await probe.bounded.save(first)
    await probe.bounded.save(second)
    probe.mismatches.clear()  # the interleaved turn is the point, not a mismatch
    probe.mismatch_turns.clear()
    await probe.turn(sender, "faq")
    stored = await probe.rows(sender)
    return probe.report(
        stored=len(stored),
        appended=probe.appended[sender],
        user_texts=[e["text"] for e in stored if e["event"] == "user"][-3:],
    )


SCENARIOS = {
    "long_conversation": long_conversation,
    "open_form": open_form,
    "new_session": new_session,
    "legacy_conversation": legacy_conversation,
    "unshared_lock": unshared_lock,
}


async def run(url: str, scenarios: list[str], window_turns: int) -> dict[str, Any]:
    # A fresh probe (and store) per scenario: each counts only its own turns.
    return {name: await SCENARIOS[name](Probe(url, window_turns)) for name in scenarios}


def main(argv: list[str]) -> int:
    url, scenarios = argv[0], argv[1]
    window_turns = int(argv[2]) if len(argv) > 2 else 5
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    names = list(SCENARIOS) if scenarios == "all" else scenarios.split(",")
    print(json.dumps(asyncio.run(run(url, names, window_turns))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
