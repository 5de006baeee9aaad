"""The mail outbox: e-mails are queued in the transaction that causes them (a payment that
confirms a booking, a guide's Accept) and sent by the mail worker (`backend/mail/sender.py`).

Queueing the same e-mail twice (its `dedupe_key`) is a no-op, so a replayed payment or a
retried action never mails twice. Every step is on the timeline of the object it is about.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import queue, rendering
from backend.config import get_settings
from backend.domain.actor import Actor
from backend.domain.enums import EmailStatus, ObjectType
from backend.models import OutboundEmail
from backend.services import timeline


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str | None


def compose(name: str, /, **context: Any) -> Composed:
    """`mail/<name>.txt` (its first line `Subject: …`) and `mail/<name>.html`."""
    rendered = rendering.render(f"mail/{name}.txt", **context)
    first, _, body = rendered.partition("\n")
    if not first.startswith("Subject: "):
        raise ValueError(f"mail/{name}.txt must start with a Subject: line")
    html = rendering.render(f"mail/{name}.html", **context)
    return Composed(
        subject=first.removeprefix("Subject: ").strip(), text=body.lstrip("\n"), html=html
    )


def new_message_id() -> str:
    domain = get_settings().mail_from_address.rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    purpose: str,
    recipient: str,
    composed: Composed,
    actor: Actor,
    object_type: str,
    object_id: str,
    attachments: Sequence[dict[str, Any]] = (),
    contact_id: str | None = None,
    staff_id: str | None = None,
) -> OutboundEmail | None:
    """Queue an e-mail; None when this one (`dedupe_key`) was queued before."""
    if session.scalar(select(OutboundEmail.id).where(OutboundEmail.dedupe_key == dedupe_key)):
        return None
    row = OutboundEmail(
        dedupe_key=dedupe_key,
        purpose=purpose,
        recipient=recipient,
        contact_id=contact_id,
        staff_id=staff_id,
        subject=composed.subject[:200],
        body_text=composed.text,
        body_html=composed.html,
        attachments=list(attachments),
        message_id=new_message_id(),
        status=EmailStatus.QUEUED,
        attempts=0,
        object_type=object_type,
        object_id=object_id,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None  # queued concurrently by someone else: theirs stands
    timeline.record(
        session,
        object_type=object_type,
        object_id=object_id,
        event_type="EMAIL_QUEUED",
        action="tms.email.queued",
        actor=actor,
        content={
            "emailId": row.id,
            "to": recipient,
            "subject": row.subject,
            "purpose": purpose,
            "attachments": [a.get("kind") for a in attachments],
        },
    )
    return row


def retry_failed(
    session: Session,
    actor: Actor,
    *,
    ids: Sequence[int] = (),
    since: datetime | None = None,
    until: datetime | None = None,
    everything: bool = False,
) -> list[int]:
    """Queue FAILED e-mails again (by id, by when they failed, or all), attempts reset."""
    if not (ids or since or until or everything):
        return []
    rows = queue.failed_rows(
        session,
        OutboundEmail,
        failed=EmailStatus.FAILED,
        when=OutboundEmail.failed_at,
        ids=ids,
        since=since,
        until=until,
    )
    for row in rows:
        timeline.record(
            session,
            object_type=row.object_type or ObjectType.OUTBOUND_EMAIL,
            object_id=str(row.object_id or row.id),
            event_type="EMAIL_RETRY",
            action="tms.email.retried",
            actor=actor,
            content={"emailId": row.id, "to": row.recipient, "lastError": row.last_error},
        )
        row.status = EmailStatus.QUEUED
        row.attempts = 0
        row.next_attempt_at = None
        row.failed_at = None
        row.lease_token = None
    return [row.id for row in rows]


def recent(session: Session, limit: int = 50, status: str | None = None) -> list[OutboundEmail]:
    query = select(OutboundEmail).order_by(OutboundEmail.id.desc()).limit(limit)
    if status:
        query = query.where(OutboundEmail.status == status)
    return list(session.scalars(query))


def depth(session: Session) -> dict[str, int]:
    """E-mails by status (the metrics' gauge)."""
    rows = session.execute(
        select(OutboundEmail.status, func.count()).group_by(OutboundEmail.status)
    )
    return {str(status): int(count) for status, count in rows}
