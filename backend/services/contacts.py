"""Customers and their conversations."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    PrimaryKeyConstraint,
    UniqueConstraint,
    or_,
    select,
    tuple_,
    update,
)
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
    sender_key: str | None = None,
) -> Contact:
    """The one contact these identifiers name, created if new: the one rule for who a
    WhatsApp user is. A message that reveals both a phone and a BSUID joins a contact known
    by the phone with one known by the BSUID (the older keeps everything, on the timeline as
    `tms.contact.merged`); a phone's contact seen with another BSUID takes it (Meta gives a
    new one when a number changes), as `tms.contact.user_id_changed`. A new contact's
    `sender_key` is the one given (the key its first message was ordered under), else its
    address (`ensure_sender_key`)."""
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
        ensure_sender_key(session, contact, sender_key)
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


def ensure_sender_key(session: Session, contact: Contact, wanted: str | None = None) -> str:
    """The contact's key for the assistant and the inbox's order, set once and never changed:
    `wanted` (the key its first message was ordered under) or its address, else its id when
    another contact already has that key (a number Meta gave to someone else)."""
    if contact.sender_key:
        return contact.sender_key
    key = wanted or contact.address
    taken = session.scalar(
        select(Contact.id).where(Contact.sender_key == key, Contact.id != contact.id)
    )
    contact.sender_key = contact.id if taken is not None else key
    session.flush()
    return contact.sender_key


def keys_by_identifier(session: Session, identifiers: set[str]) -> dict[str, tuple[Any, ...]]:
    """For each of these identifiers (phones in E.164, BSUIDs) that a contact is known by:
    (its created_at, its id, its sender key), so the oldest of several can be chosen (the
    one a merge keeps). One query for all of them."""
    if not identifiers:
        return {}
    found: dict[str, tuple[Any, ...]] = {}
    wanted = sorted(identifiers)
    for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
        rows = session.execute(
            select(
                Contact.created_at, Contact.id, Contact.sender_key, Contact.phone, Contact.user_id
            ).where(or_(Contact.phone.in_(chunk), Contact.user_id.in_(chunk)))
        )
        for created_at, contact_id, key, phone, user_id in rows:
            entry = (created_at, contact_id, key or phone or user_id)
            for identifier in (phone, user_id):
                if identifier in identifiers:
                    found[identifier] = entry
    return found


def apply_identity_change(
    session: Session,
    *,
    previous_phone: str | None,
    previous_user_id: str | None,
    phone: str | None,
    user_id: str | None,
) -> Contact | None:
    """Meta's identity change (a `system` message, `user_changed_number` or
    `user_changed_user_id`): the user known by `previous_phone` / `previous_user_id` is now
    known by `phone` (a new number, when Meta shares it) and `user_id` (their new BSUID). The
    contact moves with everything it has (bookings, consent, conversations, its sender key),
    joined with any contact already known by the new identifiers; each change is on its
    timeline and messages still queued go to the new address. A change already applied (Meta
    sent it again) changes nothing. None when nobody here is known by any of them."""
    region = get_settings().default_region
    new_phone = normalise_phone(phone, region) if phone else None
    old_phone = normalise_phone(previous_phone, region) if previous_phone else None
    contact = None
    if previous_user_id:
        contact = session.scalar(select(Contact).where(Contact.user_id == previous_user_id))
    if contact is None and old_phone:
        contact = session.scalar(select(Contact).where(Contact.phone == old_phone))
    if contact is None:  # already moved (Meta sent it again), or never known here
        if user_id:
            contact = session.scalar(select(Contact).where(Contact.user_id == user_id))
        if contact is None and new_phone:
            contact = session.scalar(select(Contact).where(Contact.phone == new_phone))
        return contact
    addresses_before = {contact.address, *(a for a in (old_phone, previous_user_id) if a)}
    for column, value in ((Contact.user_id, user_id), (Contact.phone, new_phone)):
        other = session.scalar(select(Contact).where(column == value)) if value else None
        if other is not None and other.id != contact.id:
            addresses_before.add(other.address)
            contact = _merge(session, contact, other)
    if user_id and contact.user_id != user_id:
        old, contact.user_id = contact.user_id, user_id
        session.flush()
        _record_user_id_change(session, contact, old or previous_user_id or "")
    if new_phone and contact.phone != new_phone:
        old, contact.phone = contact.phone, new_phone
        session.flush()
        _record_phone_change(session, contact, old or old_phone or "")
    session.flush()
    _readdress_queue(session, addresses_before, contact.address)
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
    gone_id, gone_key = gone.id, gone.sender_key
    session.flush()
    session.expire_all()  # conversations and the like now belong to `keep`
    gone_row = session.get(Contact, gone_id)
    session.delete(gone_row)
    session.flush()  # frees the unique phone and user_id before `keep` takes them
    keep = session.get(Contact, keep.id)  # type: ignore[assignment]
    keep.phone, keep.user_id = phone, user_id
    # The older's key stays (its dialogue goes on); the other's is taken only when it had none.
    keep.sender_key = keep.sender_key or gone_key
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
