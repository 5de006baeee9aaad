"""The durable inbox: every message of a webhook batch is stored before anything else happens,
then processed in order per sender.

- `parse_webhook` checks a body and turns every `messages[]` and `statuses[]` of every
  `entry[].changes[]` into rows, before any database work; `store_parsed` writes the rows of
  one or several webhooks (the webhook's group commit, `backend.whatsapp.ingest`) in one
  statement per table, deduplicated by the database (wamid unique; (wamid, status) unique),
  so a repeat or a concurrent duplicate is a no-op. `store_webhook` does both for one body.
- `claim` hands out the oldest pending message of senders that have nothing in progress
  (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several workers can run).
- A claim is a lease: a worker that dies leaves the row to be claimed again when it expires.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend import clock, queue
from backend.config import get_settings
from backend.db import rows_affected
from backend.domain.actor import Actor
from backend.domain.enums import InboxStatus, ObjectType, Source
from backend.domain.errors import InvalidPhoneNumber
from backend.domain.phones import normalise_phone
from backend.domain.whatsapp_ids import address, is_bsuid
from backend.models import Contact, InboundMessage, MessageStatusEvent
from backend.models.base import Base
from backend.services import contacts, timeline

# What recording a message gives and which types go to the assistant belong to the arrival
# handlers; kept under these names here.
from backend.services.arrivals import DIALOGUE_TYPES, Arrival
from backend.services.message_templates import WEBHOOK_FIELDS as TEMPLATE_FIELDS
from backend.services.messaging_limits import WEBHOOK_FIELDS as LIMIT_FIELDS

logger = logging.getLogger(__name__)


def lease_length() -> timedelta:
    """How long a claimed message stays with its worker (INBOX_LEASE_SECONDS)."""
    return timedelta(seconds=get_settings().inbox_lease_seconds)


@dataclass
class StoreResult:
    messages_new: int = 0
    messages_duplicate: int = 0
    statuses_new: int = 0
    statuses_duplicate: int = 0
    ignored_changes: int = 0
    new_status_wamids: list[str] = field(default_factory=list)


class MalformedPayload(ValueError):
    """The body is JSON but not a WhatsApp webhook."""


def _timestamp(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _field(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]…, or None where a step is not an object."""
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def message_text(message: dict[str, Any]) -> str | None:
    """What the assistant reads: the text, or a reply button's id (e.g. `/affirm`)."""
    kind = message.get("type")
    if kind == "text":
        found = _field(message, "text", "body")
    elif kind == "interactive":
        reply = _field(message, "interactive", "button_reply") or _field(
            message, "interactive", "list_reply"
        )
        found = _field(reply, "id") or _field(reply, "title")
    elif kind == "button":
        found = _field(message, "button", "payload") or _field(message, "button", "text")
    else:
        found = None
    return found if isinstance(found, str) else None


def _clean(value: Any) -> Any:
    """The payload as it can be stored: PostgreSQL refuses NUL characters in text and JSON."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _objects(container: Any, key: str, where: str) -> list[dict[str, Any]]:
    """`container[key]` as a list of objects (absent: none); anything else is malformed."""
    items = container.get(key) if isinstance(container, dict) else None
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise MalformedPayload(f"`{where}.{key}` must be a list of objects")
    return items


def _identifier(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise MalformedPayload(f"`{name}` must be a non-empty string")
    text = str(value).strip()
    if len(text) > limit:
        raise MalformedPayload(f"`{name}` is longer than {limit} characters")
    return text


def _short(value: Any, limit: int) -> str | None:
    return (
        str(value)[:limit] if isinstance(value, str | int) and not isinstance(value, bool) else None
    )


def _error_code(status: dict[str, Any]) -> int | None:
    errors = status.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    code = first.get("code") if isinstance(first, dict) else None
    if code is None:
        return None
    try:
        number = int(str(code))
    except ValueError:
        logger.warning(
            "status %s: error code %r is not a number; kept without it", status.get("id"), code
        )
        return None
    return number if -(2**31) <= number < 2**31 else None


@dataclass
class ParsedWebhook:
    """A webhook body checked and turned into the rows it stores, before any database work:
    a malformed body is refused whole, and bodies can be written together (group commit)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[dict[str, Any]] = field(default_factory=list)
    # Account webhooks (template status, quality, category; the messaging limit): (field, value).
    templates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ignored_changes: int = 0


# Where Meta puts who wrote, since business-scoped user IDs (docs/whatsapp.md, "Usernames and
# BSUIDs"): `contacts[]` has `user_id` always and `wa_id` (the phone) only when Meta shares it;
# `messages[].from` is the phone when shared and `from_user_id` the BSUID; a status names its
# user by `recipient_id` (phone) and `recipient_user_id` (BSUID). Parsed here and only here.
#
# A user's identifiers change by a `system` message on the `messages` field (Meta's system
# messages webhook reference, updated Aug 11, 2026; no `contacts[]`): `system.type`
# `user_changed_number` (a new number, `system.wa_id`, and with it a new BSUID) or
# `user_changed_user_id` (a new BSUID, no phone); `system.user_id` / `parent_user_id` are the
# new BSUIDs and `previous_user_id` / `previous_parent_user_id` the old ones; `from` is the old
# number when shared. Meta's changelog of that day: `user_id_update` "is not a subscribable
# webhook field", so a change of that field is ignored like any other unknown one.
IDENTITY_CHANGES = ("user_changed_number", "user_changed_user_id")


def _bsuid(value: Any) -> str | None:
    text = value.strip() if isinstance(value, str) else None
    return text if text and is_bsuid(text) else None


def _phone(value: Any) -> str | None:
    """A wa_id as E.164; None for none (or for a BSUID where a phone was expected)."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not text or is_bsuid(text):
        return None
    if len(text) > 20:
        raise MalformedPayload("a phone number (`wa_id`, `from`) is longer than 20 characters")
    return _e164_or_raw(text)


class _SenderBook:
    """A change's `contacts[]`, to name and complete the identifiers of its messages' senders."""

    def __init__(self, contacts: list[dict[str, Any]]) -> None:
        self._by_key: dict[str, dict[str, Any]] = {}
        for contact in contacts:
            for key in (_phone(contact.get("wa_id")), _bsuid(contact.get("user_id"))):
                if key:
                    self._by_key[key] = contact

    def identify(self, message: dict[str, Any]) -> tuple[str | None, str | None]:
        """(phone, BSUID) of who wrote the message; at least one, else MalformedPayload. An
        identity change names the user as we knew them (their previous identifiers)."""
        sender = message.get("from")
        phone = _phone(sender)
        user_id = _bsuid(message.get("from_user_id")) or _bsuid(sender)
        change = identity_change(message)
        if change is not None:
            phone = phone or change["previous_phone"]
            user_id = change["previous_user_id"] or user_id
            if not phone and not user_id:  # nothing of the old: named by the new
                phone, user_id = change["phone"], change["user_id"]
        contact = self._by_key.get(phone or "") or self._by_key.get(user_id or "")
        if contact is not None:
            phone = phone or _phone(contact.get("wa_id"))
            user_id = user_id or _bsuid(contact.get("user_id"))
        if not phone and not user_id:
            raise MalformedPayload("`messages[]` needs `from` or `from_user_id`")
        return phone, user_id

    def name(self, phone: str | None, user_id: str | None) -> str | None:
        contact = self._by_key.get(phone or "") or self._by_key.get(user_id or "")
        return _short(_field(contact, "profile", "name"), 120)


def _recipient(status: dict[str, Any]) -> str | None:
    """A status's user as an address: the phone when Meta gives it, else the BSUID."""
    phone = _phone(status.get("recipient_id"))
    user_id = _bsuid(status.get("recipient_user_id")) or _bsuid(status.get("recipient_id"))
    return phone or user_id


def identity_change(message: dict[str, Any]) -> dict[str, str | None] | None:
    """A `system` message that changes who the user is (`user_changed_number`,
    `user_changed_user_id`) as {"type", "previous_phone", "previous_user_id", "phone",
    "user_id"}; None for any other message, or one that names no new identifier.
    `system.customer` (the old number) and `new_wa_id` (the new one) are read as Meta's
    older versions of this message had them."""
    system = message.get("system") if message.get("type") == "system" else None
    kind = system.get("type") if isinstance(system, dict) else None
    if kind not in IDENTITY_CHANGES:
        return None
    assert isinstance(system, dict)
    try:
        new_phone = (
            _phone(system.get("wa_id")) or _phone(system.get("new_wa_id"))
            if kind == "user_changed_number"
            else None
        )
        previous_phone = _phone(message.get("from")) or _phone(system.get("customer"))
    except MalformedPayload:
        new_phone = previous_phone = None
    change = {
        "type": str(kind),
        "previous_phone": previous_phone,
        "previous_user_id": _bsuid(system.get("previous_user_id")),
        "phone": new_phone,
        "user_id": _bsuid(system.get("user_id")),
    }
    if not change["phone"] and not change["user_id"]:
        logger.warning("%s without a new wa_id or user_id: kept as a notice only", kind)
        return None
    return change


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def parse_webhook(payload: Any, phone_number_id: str) -> ParsedWebhook:
    """The rows of every message and status of a webhook body, in the body's order. Raises
    MalformedPayload when the body is not shaped like a WhatsApp webhook. A well-formed body
    with odd values (an unknown status, a non-numeric error code) is kept as far as it makes
    sense, and logged."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise MalformedPayload("expected an object with an `entry` list")
    # PostgreSQL's text cannot hold NUL: a "\u0000" in a message would fail the store (a 500,
    # and Meta's retries would fail the same way); it carries nothing a person wrote.
    payload = _without_nul(payload)
    parsed = ParsedWebhook()
    now = clock.now()
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            raise MalformedPayload("`entry[]` must be objects")
        for change in _objects(entry, "changes", "entry[]"):
            value = change.get("value") or {}
            if not isinstance(value, dict):
                raise MalformedPayload("`changes[].value` must be an object")
            # About the account (its templates, its messaging limit), not one number's traffic.
            if change.get("field") in (*TEMPLATE_FIELDS, *LIMIT_FIELDS):
                parsed.templates.append((str(change["field"]), _clean(value)))
                continue
            metadata = value.get("metadata") or {}
            if not isinstance(metadata, dict):
                raise MalformedPayload("`value.metadata` must be an object")
            if str(metadata.get("phone_number_id", "")) != phone_number_id:
                logger.warning(
                    "webhook change for phone_number_id %r ignored", metadata.get("phone_number_id")
                )
                parsed.ignored_changes += 1
                continue
            senders = _SenderBook(_objects(value, "contacts", "value"))
            for message in _objects(value, "messages", "value"):
                wamid = _identifier(message.get("id"), "messages[].id", 160)
                phone, user_id = senders.identify(message)
                text = message_text(message)
                parsed.messages.append(
                    {
                        "wamid": wamid,
                        "from_phone": address(phone, user_id),
                        "from_user_id": user_id,
                        "phone_number_id": phone_number_id,
                        "profile_name": (senders.name(phone, user_id) or "").replace("\x00", "")
                        or None,
                        "message_type": _short(message.get("type"), 24) or "unknown",
                        "text": text.replace("\x00", "") if isinstance(text, str) else None,
                        "payload": _clean(message),
                        "sent_at": _timestamp(message.get("timestamp")),
                        "stored_at": now,
                        "status": InboxStatus.PENDING,
                        "attempts": 0,
                    }
                )
            for status in _objects(value, "statuses", "value"):
                wamid = _identifier(status.get("id"), "statuses[].id", 160)
                state = _identifier(status.get("status"), "statuses[].status", 200).lower()
                if len(state) > 16:
                    logger.warning("status %s: unknown status %r ignored", wamid, state[:40])
                    continue
                recipient = _recipient(status)
                parsed.statuses.append(
                    {
                        "wamid": wamid,
                        "status": state,
                        "recipient_phone": recipient,
                        "occurred_at": _timestamp(status.get("timestamp")),
                        "error_code": _error_code(status),
                        "payload": _clean(status),
                        "stored_at": now,
                        "applied": False,
                    }
                )
    return parsed


# What makes a row a repeat: the database's unique keys.
MESSAGE_KEY = ("wamid",)
STATUS_KEY = ("wamid", "status")


def store_parsed(
    bind: Session | Connection, webhooks: Sequence[ParsedWebhook]
) -> list[StoreResult]:
    """Store the rows of several webhooks with one INSERT per table, deduplicated by the
    database (ON CONFLICT DO NOTHING on wamid, and on (wamid, status)); one result per webhook,
    in order. A key that several of them carry counts as new for the first only; ids follow
    the webhooks' order, so each sender's messages keep theirs. The caller commits."""
    connection = bind.connection() if isinstance(bind, Session) else bind
    results = [StoreResult(ignored_changes=w.ignored_changes) for w in webhooks]
    message_owners = _first_owners(webhooks, "messages", MESSAGE_KEY)
    new_messages = _insert_new(connection, _table(InboundMessage), message_owners, MESSAGE_KEY)
    status_owners = _first_owners(webhooks, "statuses", STATUS_KEY)
    new_statuses = _insert_new(connection, _table(MessageStatusEvent), status_owners, STATUS_KEY)
    for index, (webhook, result) in enumerate(zip(webhooks, results, strict=True)):
        for row in webhook.messages:
            key: tuple[Any, ...] = (row["wamid"],)
            if message_owners[key][1] == index and key in new_messages:
                new_messages.discard(key)  # a repeat within the same body is a duplicate
                result.messages_new += 1
            else:
                result.messages_duplicate += 1
        for row in webhook.statuses:
            key = (row["wamid"], row["status"])
            if status_owners[key][1] == index and key in new_statuses:
                new_statuses.discard(key)
                result.statuses_new += 1
                result.new_status_wamids.append(row["wamid"])
            else:
                result.statuses_duplicate += 1
    return results


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)  # a mapped class's own table, not a join or a view
    return table


def _insert_new(
    connection: Connection,
    table: Table,
    owners: dict[tuple[Any, ...], tuple[dict[str, Any], int]],
    key: tuple[str, ...],
) -> set[tuple[Any, ...]]:
    """Insert the owners' rows in one statement (a multi-row VALUES list, in order), skipping
    keys already stored; returns the keys it inserted. Core on the table, not the ORM's bulk
    path: the rows are plain values already."""
    if not owners:
        return set()
    insert = sqlite_insert if connection.dialect.name == "sqlite" else pg_insert
    statement = (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(key))
        .returning(*(table.c[k] for k in key))
    )
    rows = [row for row, _ in owners.values()]
    return {tuple(found) for found in connection.execute(statement, rows)}


def _first_owners(
    webhooks: Sequence[ParsedWebhook], rows: str, key: tuple[str, ...]
) -> dict[tuple[Any, ...], tuple[dict[str, Any], int]]:
    """Each key's first row among the webhooks and the index of the webhook it came from,
    in order (dicts keep insertion order)."""
    owners: dict[tuple[Any, ...], tuple[dict[str, Any], int]] = {}
    for index, webhook in enumerate(webhooks):
        for row in getattr(webhook, rows):
            owners.setdefault(tuple(row[k] for k in key), (row, index))
    return owners


def store_webhook(session: Session, payload: Any, phone_number_id: str) -> StoreResult:
    """Store every message and status of a webhook body. Raises MalformedPayload when the body
    is not shaped like a WhatsApp webhook (nothing is written then). The caller commits."""
    return store_parsed(session, [parse_webhook(payload, phone_number_id)])[0]


@functools.lru_cache(maxsize=8192)
def _e164_or_raw(wa_id: str) -> str:
    # Cached: phonenumbers took two thirds of the time of parsing a webhook, and the same
    # customers and guides write again and again.
    if not wa_id:
        return ""
    try:
        return normalise_phone(wa_id)
    except InvalidPhoneNumber:
        return ("+" + wa_id.lstrip("+"))[:20]


def claim(session: Session, limit: int) -> list[InboundMessage]:
    """The next message of up to `limit` senders, oldest first, leased to this worker under
    one token, left on each row as `lease_token` (see `backend.queue`).

    A sender's message is only handed out when it is that sender's oldest unfinished one and
    no other worker holds one of theirs, which keeps each sender's messages in order. A
    message whose worker's lease ran out (it died) is handed out again. A sender is their
    `sender_key` (`assign_sender_keys`), whichever of their identifiers a message carries.
    """
    now = clock.now()
    assign_sender_keys(session)
    rows = queue.claim_in_order(
        session,
        InboundMessage,
        "sender_key",
        due=and_(
            InboundMessage.sender_key.is_not(None),
            queue.due_or_lapsed(
                InboundMessage, now, waiting=InboxStatus.PENDING, working=InboxStatus.PROCESSING
            ),
        ),
        unfinished=[InboxStatus.PENDING, InboxStatus.PROCESSING],
        held_by_other=lambda busy: and_(
            busy.status == InboxStatus.PROCESSING, busy.next_attempt_at > now
        ),
        limit=limit,
    )
    for row in rows:
        row.status = InboxStatus.PROCESSING
        row.attempts += 1
    queue.lease(rows, now, lease_length())
    return rows


def _identifiers(row: InboundMessage) -> set[str]:
    """Every identifier a stored message names its sender by: its address, its BSUID and, for
    an identity change, the new ones too (its sender's next messages carry those)."""
    found = {row.from_phone, *([row.from_user_id] if row.from_user_id else [])}
    change = identity_change(row.payload or {}) if row.message_type == "system" else None
    if change is not None:
        found |= {v for k, v in change.items() if k != "type" and v}
    return found


def assign_sender_keys(session: Session) -> int:
    """Give each message the inbox has not keyed yet its sender's key, in arrival order: the
    key of an unfinished message of theirs (by any identifier they share: a message with both
    their phone and their BSUID, or an identity change, joins the two), else of the contact
    these identifiers name (`contacts.keys_by_identifier`), else the message's address. So a customer who
    wrote by their BSUID alone and then shares their phone stays one sender, in order and to
    the assistant. Run in the claim's transaction (rows locked: two claims key each row once).
    Returns how many were keyed."""
    new_rows = list(
        session.scalars(
            select(InboundMessage)
            .where(InboundMessage.sender_key.is_(None))
            .order_by(InboundMessage.id)
            .with_for_update()
        )
    )
    if not new_rows:
        return 0
    wanted: set[str] = set()
    for row in new_rows:
        wanted |= _identifiers(row)
    unfinished = [InboxStatus.PENDING, InboxStatus.PROCESSING]
    keyed = session.scalars(
        select(InboundMessage)
        .where(
            InboundMessage.sender_key.is_not(None),
            InboundMessage.status.in_(unfinished),
            or_(
                InboundMessage.from_phone.in_(wanted),
                InboundMessage.from_user_id.in_(wanted),
                InboundMessage.message_type == "system",
            ),
        )
        .order_by(InboundMessage.id)
    )
    by_identifier: dict[str, str] = {}
    for row in keyed:
        for identifier in _identifiers(row):
            by_identifier[identifier] = str(row.sender_key)
    known = contacts.keys_by_identifier(session, wanted)
    for row in new_rows:
        identifiers = _identifiers(row)
        key = next((by_identifier[i] for i in sorted(identifiers) if i in by_identifier), None)
        if key is None:
            own = [known[i] for i in (row.from_phone, row.from_user_id) if i and i in known]
            key = str(min(own)[2]) if own else row.from_phone
        row.sender_key = key
        for identifier in identifiers:
            by_identifier[identifier] = key
    session.flush()
    return len(new_rows)


def extend_lease(session: Session, token: str) -> int:
    """Move on the lease of the messages still held under `token`; returns how many."""
    return rows_affected(
        session.execute(
            update(InboundMessage)
            .where(
                InboundMessage.lease_token == token,
                InboundMessage.status == InboxStatus.PROCESSING,
            )
            .values(next_attempt_at=clock.now() + lease_length())
        )
    )


def holds(row: InboundMessage | None, token: str) -> bool:
    """Whether the worker with `token` still holds `row` (its lease was not taken over)."""
    return row is not None and row.status == InboxStatus.PROCESSING and row.lease_token == token


def sender_contact(session: Session, row: InboundMessage) -> Contact:
    """The contact who wrote `row`, by every identifier the webhook gave (its phone, its BSUID
    or both: `contacts.resolve_contact` merges when a message reveals both)."""
    phone = None if is_bsuid(row.from_phone) else row.from_phone
    contact = contacts.resolve_contact(
        session, phone, row.from_user_id, profile_name=row.profile_name, sender_key=row.sender_key
    )
    contacts.ensure_sender_key(session, contact, row.sender_key)
    return contact


def arrival_contact(session: Session, row: InboundMessage) -> Contact:
    """The contact a message is recorded for. A `system` message that changes who the user
    is first moves their contact to the new identifiers (in the sender's order: what they
    wrote before it is answered first); the change applied already, or a user unknown here,
    gives the contact of the new identifiers."""
    change = identity_change(row.payload or {}) if row.message_type == "system" else None
    if change is None:
        return sender_contact(session, row)
    contact = contacts.apply_identity_change(
        session,
        previous_phone=change["previous_phone"],
        previous_user_id=change["previous_user_id"],
        phone=change["phone"],
        user_id=change["user_id"],
    ) or contacts.resolve_contact(
        session, change["phone"], change["user_id"], sender_key=row.sender_key
    )
    contacts.ensure_sender_key(session, contact, row.sender_key)
    return contact


def record_arrival(session: Session, row: InboundMessage) -> Arrival:
    """The contact, its window, its conversation and the timeline entry for one message.

    Runs once per message (a retry finds the timeline entry already there)."""
    contact = arrival_contact(session, row)
    contacts.touch_inbound(contact, row.sent_at or row.stored_at)
    conversation, _ = contacts.get_or_open_conversation(session, contact)
    conversation.last_message_at = row.sent_at or row.stored_at
    actor = Actor(Source.WHATSAPP, phone=contact.phone, conversation_id=conversation.id)
    if row.conversation_id is None:
        row.conversation_id = conversation.id
        timeline.record(
            session,
            object_type=conversation.object_type or ObjectType.CONVERSATION,
            object_id=conversation.object_id or conversation.id,
            event_type="MESSAGE",
            action="tms.message.inbound",
            actor=actor,
            content={
                "text": row.text if row.text is not None else f"[{row.message_type}]",
                "direction": "inbound",
                "type": row.message_type,
                "wamid": row.wamid,
                **({"payload": row.payload} if row.message_type not in DIALOGUE_TYPES else {}),
            },
            occurred_at=row.sent_at or row.stored_at,
        )
    return Arrival(contact=contact, conversation=conversation, actor=actor)


def mark_done(row: InboundMessage) -> None:
    row.status = InboxStatus.DONE
    row.processed_at = clock.now()
    row.next_attempt_at = None
    row.last_error = None
    row.lease_token = None


def backoff(attempts: int) -> timedelta:
    """2, 4, 8 … seconds, at most five minutes."""
    return queue.backoff(attempts, floor=2.0, ceiling=300.0)


def mark_failed_attempt(row: InboundMessage, error: str, max_attempts: int) -> bool:
    """Back to PENDING with backoff; FAILED once the attempts are used up. True if FAILED."""
    row.last_error = error[:2000]
    row.lease_token = None
    if row.attempts >= max_attempts:
        row.status = InboxStatus.FAILED
        row.next_attempt_at = None
        return True
    row.status = InboxStatus.PENDING
    row.next_attempt_at = clock.now() + backoff(row.attempts)
    return False


def retry_failed(
    session: Session,
    actor: Actor,
    *,
    ids: Sequence[int] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    everything: bool = False,
) -> list[int]:
    """Put FAILED messages back in the queue (by id, by when they were stored, or all of them),
    with their attempts reset; each is on its conversation's timeline. Returns their ids."""
    if not (ids or since or until or everything):
        return []
    rows = queue.failed_rows(
        session,
        InboundMessage,
        failed=InboxStatus.FAILED,
        when=InboundMessage.stored_at,
        ids=ids,
        since=since,
        until=until,
    )
    for row in rows:
        row.status = InboxStatus.PENDING
        row.attempts = 0
        row.next_attempt_at = None
        timeline.record(
            session,
            object_type=ObjectType.CONVERSATION if row.conversation_id else ObjectType.CONTACT,
            object_id=row.conversation_id or row.from_phone,
            event_type="RETRY",
            action="tms.message.inbound.retried",
            actor=actor,
            content={"wamid": row.wamid, "lastError": row.last_error},
        )
    return [row.id for row in rows]


def queue_depth(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(InboundMessage.status, func.count()).group_by(InboundMessage.status)
    )
    return {str(status): int(count) for status, count in rows}
