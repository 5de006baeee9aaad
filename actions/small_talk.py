"""Greetings, thanks, goodbyes, and the help answer for anything the assistant cannot do."""

from __future__ import annotations

from actions.common import TmsAction, Turn
from backend import texts
from backend.domain.enums import ObjectType, Role
from backend.services import leads, notifications, timeline


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
        keep_for_staff(turn)
        turn.say(texts.help_message())


def keep_for_staff(turn: Turn, *, someone: bool = False) -> None:
    """A message the assistant cannot act on: on the conversation's timeline for staff, and
    the customer's rep told (`someone`: sales are told when the customer has no rep yet)."""
    timeline.record(
        turn.session,
        object_type=turn.conversation.object_type or ObjectType.CONVERSATION,
        object_id=turn.conversation.object_id or turn.conversation.id,
        event_type="UNHANDLED",
        action="tms.conversation.unhandled",
        actor=turn.actor,
        content={"text": turn.text},
    )
    if turn.staff is None:
        rep = leads.rep_of_conversation(turn.session, turn.conversation)
        if rep is not None:
            notifications.to_staff(
                turn.session,
                rep,
                texts.rep_unanswered_message(
                    turn.contact.display_name, turn.contact.phone, turn.text
                ),
                purpose="rep_alert",
                object_type=ObjectType.CONVERSATION,
                object_id=turn.conversation.id,
            )
        elif someone:
            notifications.to_role(
                turn.session,
                Role.SALES,
                texts.rep_unanswered_message(
                    turn.contact.display_name, turn.contact.phone, turn.text
                ),
                purpose="rep_alert",
                object_type=ObjectType.CONVERSATION,
                object_id=turn.conversation.id,
            )
