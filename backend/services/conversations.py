"""A staff member writes to a customer: one rule whichever screen or program sends it (the
console's reply form, `POST /api/conversations/<id>/messages`), as Chatwoot's message builder
does for an agent's message.

Inside the 24-hour window free text goes as it is; outside it only an approved template may
go, chosen on purpose (the rep's text as the update template's parameter, or the follow-up
that asks the customer to write back), never a silent fallback. A customer who wrote STOP is
not sent what can wait, and the sender is told. Every reply is on the timeline of what it is
about, with who wrote it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from backend import texts
from backend.domain.actor import Actor
from backend.domain.errors import DomainError
from backend.models import Contact, OutboundMessage
from backend.services import contacts, notifications, timeline

# The templates a staff member may choose when the window is closed.
REPLY_TEMPLATES = ("customer_update", "conversation_followup")
TEXT_LIMIT = 3000


def staff_reply(
    session: Session,
    contact: Contact,
    *,
    text: str,
    template: str | None,
    object_type: str,
    object_id: str,
    actor: Actor,
) -> list[OutboundMessage]:
    """Queue a staff member's message to `contact` about (`object_type`, `object_id`)."""
    text = text.strip()
    if len(text) > TEXT_LIMIT:
        raise DomainError(f"A reply holds at most {TEXT_LIMIT:,} characters")
    if template and template not in REPLY_TEMPLATES:
        raise DomainError(f"No template {template!r}: choose {' or '.join(REPLY_TEMPLATES)}")
    conversation = contacts.active_conversation(session, contact)
    if not template and contacts.window_open(contact):
        if not text:
            raise DomainError("Write the message first")
        rows = notifications.to_contact(
            session,
            contact,
            text,
            purpose="staff_message",
            object_type=object_type,
            object_id=object_id,
        )
    elif template == "customer_update":
        if not text:
            raise DomainError("The update template needs the text of the update")
        rows = notifications.to_contact(
            session,
            contact,
            text,
            purpose="customer_update",
            object_type=object_type,
            object_id=object_id,
        )
    elif template == "conversation_followup":
        rows = notifications.to_contact(
            session,
            contact,
            lambda: texts.CONVERSATION_FOLLOWUP,
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
        session,
        object_type=object_type,
        object_id=object_id,
        event_type="MESSAGE",
        action="tms.console.reply",
        actor=actor,
        content={"template": template or None, "text": text[:500]},
    )
    return rows
