"""A staff member's reply to a customer from a lead's or a booking's page."""

from __future__ import annotations

from typing import Any

from backend import texts
from backend.console.web import Ctx
from backend.domain.errors import DomainError
from backend.services import contacts, notifications, timeline


def staff_reply(ctx: Ctx, contact: Any, object_type: str, object_id: str) -> None:
    """Free text inside the 24-hour window; outside it, an approved template (the rep's text
    as the update template's parameter, or the follow-up that asks them to write back)."""
    text = ctx.form("text")[:3000]
    choice = ctx.form("template")
    conversation = contacts.active_conversation(ctx.session, contact)
    if contacts.window_open(contact) and not choice:
        if not text:
            raise DomainError("Write the message first")
        rows = notifications.to_contact(
            ctx.session,
            contact,
            text,
            purpose="staff_message",
            object_type=object_type,
            object_id=object_id,
        )
    elif choice == "customer_update":
        if not text:
            raise DomainError("The update template needs the text of the update")
        rows = notifications.to_contact(
            ctx.session,
            contact,
            text,
            purpose="customer_update",
            object_type=object_type,
            object_id=object_id,
        )
    elif choice == "conversation_followup":
        rows = notifications.to_contact(
            ctx.session,
            contact,
            texts.CONVERSATION_FOLLOWUP,
            purpose="conversation_followup",
            object_type=object_type,
            object_id=object_id,
            template_params=[],
        )
    else:
        raise DomainError("The 24-hour window is closed: choose one of the approved templates")
    if not rows:
        raise DomainError("Nothing was sent: the customer wrote STOP, and this can wait")
    for row in rows:
        row.conversation_id = conversation.id if conversation else None
    timeline.record(
        ctx.session,
        object_type=object_type,
        object_id=object_id,
        event_type="MESSAGE",
        action="tms.console.reply",
        actor=ctx.actor,
        content={"template": choice or None, "text": text[:500]},
    )
