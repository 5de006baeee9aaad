"""Greetings, thanks, goodbyes, and the help answer for anything the assistant cannot do."""

from __future__ import annotations

from actions import handoff
from actions.common import TmsAction, Turn
from actions.reschedule import offer_other_dates
from backend import texts


class ActionGreet(TmsAction):
    """Hello, with the customer's WhatsApp name when we have it."""

    NAME = "action_greet"

    def handle(self, turn: Turn) -> None:
        turn.say(texts.greeting(turn.name))


class ActionGoodbye(TmsAction):
    """Goodbye."""

    NAME = "action_goodbye"

    def handle(self, turn: Turn) -> None:
        turn.say(texts.goodbye())


class ActionThank(TmsAction):
    """You're welcome."""

    NAME = "action_thank"

    def handle(self, turn: Turn) -> None:
        turn.say(texts.you_are_welcome())


class ActionHelp(TmsAction):
    """Out of scope or not understood: say what the assistant can do, and keep the message
    on the conversation for staff (the assigned rep is told)."""

    NAME = "action_help"

    def handle(self, turn: Turn) -> None:
        if offer_other_dates(turn):
            return  # a wish to move a booking the NLU did not place: its other dates
        handoff.keep_for_staff(turn, handoff.NOT_UNDERSTOOD)
        turn.say(texts.help_message())
