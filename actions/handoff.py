"""Handing a message or the whole conversation to a person: on the timeline for staff, and
the people the timeline action registry names told (`backend.services.routing.alert`).
Imports no action module."""

from __future__ import annotations

from actions.common import Turn
from backend import texts
from backend.domain.enums import ObjectType
from backend.services import contacts, leads, routing, timeline

NOT_UNDERSTOOD = "tms.conversation.unhandled"
QUESTION_FOR_TEAM = "tms.conversation.question_unanswered"
PASSED_TO_TEAM = "tms.conversation.passed_to_team"


def keep_for_staff(turn: Turn, alert_for: str = NOT_UNDERSTOOD) -> None:
    """A message the assistant cannot act on: on the conversation's timeline for staff
    (`tms.conversation.unhandled`), and whoever the registry names for `alert_for` (the code of
    what the customer was told happened to it) told."""
    timeline.record(
        turn.session,
        object_type=turn.conversation.object_type or ObjectType.CONVERSATION,
        object_id=turn.conversation.object_id or turn.conversation.id,
        event_type="UNHANDLED",
        action="tms.conversation.unhandled",
        actor=turn.actor,
        content={"text": turn.text},
    )
    routing.alert(
        turn.session,
        alert_for,
        texts.rep_unanswered_message(turn.contact.display_name, turn.contact.address, turn.text),
        object_type=ObjectType.CONVERSATION,
        object_id=turn.conversation.id,
        conversation=turn.conversation,
        sender_is_staff=turn.staff is not None,
    )


def hand_off(turn: Turn) -> None:
    """The customer asked for a person: the bot pauses for this conversation (staff resume
    it) and the rep, else sales on duty, are alerted."""
    contacts.set_bot_paused(turn.session, turn.conversation, True, turn.actor)
    lead = leads.lead_of_conversation(turn.session, turn.conversation)
    alert = texts.rep_handoff(
        turn.contact.display_name,
        turn.contact.address,
        lead.reference if lead else None,
        turn.text,
    )
    told = routing.alert(
        turn.session,
        "tms.conversation.bot_paused",
        alert,
        object_type=ObjectType.CONVERSATION,
        object_id=turn.conversation.id,
        conversation=turn.conversation,
    )
    turn.say(texts.handoff_started(told.rep))
