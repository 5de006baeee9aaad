"""Yes and no: a tapped button answers the question its payload names; a typed word answers
the pending question, else the one still open (see actions/questions.py for the questions
and their order)."""

from __future__ import annotations

from actions import questions
from actions.common import TmsAction, Turn


class ActionAffirm(TmsAction):
    """Yes / Accept / CONFIRM."""

    NAME = "action_affirm"

    def handle(self, turn: Turn) -> None:
        questions.answer(turn, yes=True)


class ActionDeny(TmsAction):
    """No / Decline / DECLINE."""

    NAME = "action_deny"

    def handle(self, turn: Turn) -> None:
        questions.answer(turn, yes=False)
