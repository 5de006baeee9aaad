"""Customers and their conversations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, PrimaryKeyConstraint, UniqueConstraint, select, tuple_, update
from sqlalchemy.orm import Session

from backend import clock
from backend.config import get_settings
from backend.domain.actor import Actor
from backend.domain.email_addresses import normalise_email
from backend.domain.enums import ConversationStatus, ObjectType, OutboxStatus, Source
from backend.domain.errors import DomainError
from backend.domain.phones import normalise_phone
from backend.domain.whatsapp_ids import is_bsuid
from backend.models import Contact, ContactConsent, Conversation, OutboundMessage
from backend.services import timeline

CUSTOMER_SERVICE_WINDOW = timedelta(hours=24)


def find_contact(session: Session, address: str) -> Contact | None:
    """The contact a WhatsApp address names: a BSUID, else a phone number."""
    if is_bsuid(address):
        return session.scalar(select(Contact).where(Contact.user_id == address))
    e164 = normalise_phone(address, get_settings().default_region)
    return session.scalar(select(Contact).where(Contact.phone == e164))


def get_or_create_contact(
    session: Session, address: str, *, profile_name: str | None = None, name: str | None = None
) -> Contact:
    """The contact of a WhatsApp address (a phone number or a BSUID), created if new."""
    if is_bsuid(address):
        return resolve_contact(session, None, address, profile_name=profile_name, name=name)
    return resolve_contact(session, address, None, profile_name=profile_name, name=name)


def resolve_contact(
    session: Session,
    phone: str | None,
    user_id: str | None,
    *,
    profile_name: str | None = None,
    name: str | None = None,
) -> Contact:
    """The one contact these identifiers name, created if new: the one rule for who a
    WhatsApp user is. A message that reveals both a phone and a BSUID joins a contact known
    by the phone with one known by the BSUID (the older keeps everything, on the timeline as
    `tms.contact.merged`); a phone's contact seen with another BSUID takes it (Meta gives a
    new one when a number changes), as `tms.contact.user_id_changed`."""
    e164 = normalise_phone(phone, get_settings().default_region) if phone else None
    if e164 is None and not user_id:
        raise ValueError("a contact needs a phone number or a business-scoped user ID")
    by_phone = session.scalar(select(Contact).where(Contact.phone == e164)) if e164 else None
    by_user_id = (
        session.scalar(select(Contact).where(Contact.user_id == user_id)) if user_id else None
    )
    addresses_before = {c.address for c in (by_phone, by_user_id) if c is not None}
    if by_phone is not None and by_user_id is not None and by_phone.id != by_user_id.id:
        contact = _merge(session, by_phone, by_user_id)
    else:
        contact = by_phone or by_user_id  # type: ignore[assignment]
    if contact is None:
        contact = Contact(phone=e164, user_id=user_id, profile_name=profile_name, name=name)
        session.add(contact)
        session.flush()
        return contact
    if e164 and contact.phone != e164:
        # The identifiers on the latest message win: a BSUID seen with another number is
        # that user's new number (an old one may be someone else's by now).
        previous_phone, contact.phone = contact.phone, e164
        if previous_phone is not None:
            _record_phone_change(session, contact, previous_phone)
    if user_id and contact.user_id != user_id:
        previous, contact.user_id = contact.user_id, user_id
        if previous is not None:
            _record_user_id_change(session, contact, previous)
    if profile_name and contact.profile_name != profile_name:
        contact.profile_name = profile_name
    if name and not contact.name:
        contact.name = name
    _readdress_queue(session, addresses_before, contact.address)
    return contact


def change_user_id(
    session: Session, previous: str, current: str, *, phone: str | None = None
) -> Contact | None:
    """Meta's `user_id_update`: the user's BSUID is now `current` (a new one comes with a new
    phone number). The contact known by `previous` (or by the phone) moves to it, joined with
    any contact already known by `current`; None when nobody here is known by either."""
    contact = session.scalar(select(Contact).where(Contact.user_id == previous))
    if contact is None and phone:
        contact = find_contact(session, phone)
    if contact is None:
        return None
    addresses_before = {contact.address, previous}
    already = session.scalar(select(Contact).where(Contact.user_id == current))
    if already is not None and already.id != contact.id:
        addresses_before.add(already.address)
        contact = _merge(session, contact, already)
    if contact.user_id != current:
        old, contact.user_id = contact.user_id, current
        _record_user_id_change(session, contact, old or previous)
    session.flush()
    _readdress_queue(session, addresses_before, contact.address)
    if phone:  # the new number comes with the new BSUID: it wins as a message's would
        return resolve_contact(session, phone, current)
    return contact


def _readdress_queue(session: Session, addresses: set[str], address: str) -> None:
    """Messages still waiting to go to a user's old address go to the one they have now (a
    BSUID Meta replaced is dead; an old number may be someone else's)."""
    old = addresses - {address}
    if not old:
        return
    session.flush()
    session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.recipient_phone.in_(old),
            OutboundMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.DEFERRED]),
        )
        .values(recipient_phone=address)
    )


def _record_phone_change(session: Session, contact: Contact, previous: str) -> None:
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="PHONE_CHANGED",
        action="tms.contact.phone_changed",
        actor=Actor(Source.WHATSAPP, phone=contact.phone),
        content={"previous": previous, "phone": contact.phone},
    )


def _record_user_id_change(session: Session, contact: Contact, previous: str) -> None:
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="USER_ID_CHANGED",
        action="tms.contact.user_id_changed",
        actor=Actor(Source.WHATSAPP, phone=contact.phone),
        content={"previous": previous, "userId": contact.user_id},
    )


def _merge(session: Session, first: Contact, second: Contact) -> Contact:
    """Join two contacts of one person: the older keeps its id, takes the other's
    identifiers, details it lacks and everything that points at the other (conversations,
    leads, bookings, consent…), and the other is removed. Only one conversation stays
    active."""
    keep, gone = sorted((first, second), key=lambda c: (c.created_at, c.id))
    phone = keep.phone or gone.phone
    user_id = gone.user_id or keep.user_id
    if active_conversation(session, keep) is not None:
        for conversation in session.scalars(
            select(Conversation).where(
                Conversation.contact_id == gone.id,
                Conversation.status == ConversationStatus.ACTIVE,
            )
        ):
            conversation.status = ConversationStatus.CLOSED
    # Consent per category: the later word stands, whichever identifier said it.
    for mine in session.scalars(select(ContactConsent).where(ContactConsent.contact_id == keep.id)):
        theirs = session.get(ContactConsent, (gone.id, mine.category))
        if theirs is not None and theirs.changed_at > mine.changed_at:
            session.delete(mine)
    # Rows unique per contact and something else (a campaign's recipients, consent): where
    # both contacts have one, the kept contact's stands.
    session.flush()
    for column in _columns_pointing_at_contacts():
        for others in _unique_with(column):
            session.execute(
                column.table.delete().where(
                    column == gone.id,
                    tuple_(*others).in_(select(*others).where(column == keep.id)),
                )
            )
    session.flush()
    for column in _columns_pointing_at_contacts():
        session.execute(
            column.table.update().where(column == gone.id).values({column.name: keep.id})
        )
    for attribute in ("profile_name", "name", "email", "language", "opted_out_at"):
        if getattr(keep, attribute) is None:
            setattr(keep, attribute, getattr(gone, attribute))
    keep.language_chosen = keep.language_chosen or gone.language_chosen
    if gone.last_inbound_at and (
        keep.last_inbound_at is None or keep.last_inbound_at < gone.last_inbound_at
    ):
        keep.last_inbound_at = gone.last_inbound_at
    gone_id = gone.id
    session.flush()
    session.expire_all()  # conversations and the like now belong to `keep`
    gone_row = session.get(Contact, gone_id)
    session.delete(gone_row)
    session.flush()  # frees the unique phone and user_id before `keep` takes them
    keep = session.get(Contact, keep.id)  # type: ignore[assignment]
    keep.phone, keep.user_id = phone, user_id
    session.flush()
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=keep.id,
        event_type="MERGED",
        action="tms.contact.merged",
        actor=Actor(Source.WHATSAPP, phone=phone),
        content={"phone": phone, "userId": user_id, "mergedContact": gone_id},
    )
    return keep


def _unique_with(column: Column[Any]) -> list[list[Column[Any]]]:
    """The other columns of each unique key (constraint, primary key or unique index without a
    condition) that `column` is part of."""
    table = column.table
    keys = [
        list(constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)
    ]
    keys += [
        list(index.columns)
        for index in table.indexes
        if index.unique and index.dialect_options["postgresql"].get("where") is None
    ]
    return [
        [c for c in key if c is not column]
        for key in keys
        if any(c is column for c in key) and len(key) > 1
    ]


def _columns_pointing_at_contacts() -> list[Column[Any]]:
    """Every column with a foreign key to contacts.id, from the models' metadata."""
    contacts = Contact.__table__
    return [
        column
        for table in Contact.metadata.sorted_tables
        for column in table.columns
        if any(fk.column.table is contacts for fk in column.foreign_keys)
    ]


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
        content={"contact": contact.address},
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
