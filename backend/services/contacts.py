"""Customers and their conversations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock
from backend.config import get_settings
from backend.domain.actor import Actor
from backend.domain.email_addresses import normalise_email
from backend.domain.enums import ConversationStatus, ObjectType, Source
from backend.domain.errors import DomainError
from backend.domain.phones import normalise_phone
from backend.models import Contact, Conversation
from backend.services import timeline

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)


def find_contact(session: Session, phone: str) -> Contact | None:
    e164 = normalise_phone(phone, get_settings().default_region)
    return session.scalar(select(Contact).where(Contact.phone == e164))


def get_or_create_contact(
    session: Session, phone: str, *, profile_name: str | None = None, name: str | None = None
) -> Contact:
    e164 = normalise_phone(phone, get_settings().default_region)
    contact = session.scalar(select(Contact).where(Contact.phone == e164))
    if contact is None:
        contact = Contact(phone=e164, profile_name=profile_name, name=name)
        session.add(contact)
        session.flush()
    else:
        if profile_name and contact.profile_name != profile_name:
            contact.profile_name = profile_name
        if name and not contact.name:
            contact.name = name
    return contact


def touch_inbound(contact: Contact, at: datetime | None = None) -> None:
    """A message from the contact opens (or extends) the 24-hour customer-service window."""
    at = at or clock.now()
    if contact.last_inbound_at is None or contact.last_inbound_at < at:
        contact.last_inbound_at = at


def window_open(contact: Contact, *, margin: timedelta = timedelta(0)) -> bool:
    if contact.last_inbound_at is None:
        return False
    return clock.now() < contact.last_inbound_at + CUSTOMER_SERVICE_WINDOW - margin


def active_conversation(session: Session, contact: Contact) -> Conversation | None:
    return session.scalar(
        select(Conversation).where(
            Conversation.contact_id == contact.id,
            Conversation.status == ConversationStatus.ACTIVE,
        )
    )


def get_or_open_conversation(session: Session, contact: Contact) -> tuple[Conversation, bool]:
    """(the contact's active conversation, whether it was just opened)."""
    conversation = active_conversation(session, contact)
    if conversation is not None:
        return conversation, False
    conversation = Conversation(contact_id=contact.id, status=ConversationStatus.ACTIVE)
    session.add(conversation)
    session.flush()
    timeline.record(
        session,
        object_type=ObjectType.CONVERSATION,
        object_id=conversation.id,
        event_type="CREATED",
        action="tms.conversation.opened",
        actor=Actor(Source.WHATSAPP, phone=contact.phone, conversation_id=conversation.id),
        content={"contact": contact.phone},
    )
    return conversation, True


def bind_conversation(
    session: Session, conversation: Conversation, object_type: str, object_id: str, actor: Actor
) -> None:
    """Point the conversation at what it is about now (a lead, then its booking)."""
    if (conversation.object_type, conversation.object_id) == (str(object_type), object_id):
        return
    conversation.object_type, conversation.object_id = str(object_type), object_id
    timeline.record(
        session,
        object_type=ObjectType.CONVERSATION,
        object_id=conversation.id,
        event_type="BOUND",
        action="tms.conversation.bound",
        actor=actor.in_conversation(conversation.id),
        content={"objectType": str(object_type), "objectId": object_id},
    )


def set_bot_paused(
    session: Session, conversation: Conversation, paused: bool, actor: Actor
) -> None:
    if conversation.bot_paused == paused:
        return
    conversation.bot_paused = paused
    timeline.record(
        session,
        object_type=ObjectType.CONVERSATION,
        object_id=conversation.id,
        event_type="HANDOFF",
        action="tms.conversation.bot_paused" if paused else "tms.conversation.bot_resumed",
        actor=actor.in_conversation(conversation.id),
        content={"paused": paused},
    )


def set_email(session: Session, contact: Contact, raw: str, actor: Actor) -> str:
    """Store the contact's e-mail address (validated, normalised); on the timeline. Returns
    the address. DomainError when it is not a usable address."""
    address = normalise_email(raw)
    if address is None:
        raise DomainError(f"{raw.strip()[:60]!r} is not an e-mail address")
    previous = contact.email
    contact.email = address
    if previous != address:
        timeline.record(
            session,
            object_type=ObjectType.CONTACT,
            object_id=contact.id,
            event_type="EMAIL_SET",
            action="tms.contact.email_set",
            actor=actor,
            content={"email": address, "previous": previous},
        )
    return address
