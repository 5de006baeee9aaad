"""The outbox: every message the product sends is a row here first.

This module is the one API for enqueuing; the WhatsApp sender (backend/whatsapp) delivers the
rows, paces them and applies the 24-hour window and template rules.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain.enums import OutboxStatus
from backend.models import OutboundMessage
from backend.whatsapp.messages import (
    BUTTON_BODY_LIMIT,
    BUTTON_LIMIT,
    BUTTON_TITLE_LIMIT,
    TEXT_LIMIT,
)


def enqueue_text(
    session: Session,
    *,
    to_phone: str,
    body: str,
    contact_id: str | None = None,
    staff_id: str | None = None,
    purpose: str | None = None,
    template_params: list[Any] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    conversation_id: str | None = None,
) -> list[OutboundMessage]:
    """Queue a text; longer than WhatsApp's 4096 characters, it is split at paragraphs."""
    common = dict(
        to_phone=to_phone,
        contact_id=contact_id,
        staff_id=staff_id,
        purpose=purpose,
        template_params=template_params,
        object_type=object_type,
        object_id=object_id,
        conversation_id=conversation_id,
    )
    return _queue(session, [_row("text", part, [], **common) for part in split_text(body)])


def enqueue_buttons(
    session: Session,
    *,
    to_phone: str,
    body: str,
    buttons: list[dict[str, str]],
    contact_id: str | None = None,
    staff_id: str | None = None,
    purpose: str | None = None,
    template_params: list[Any] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    conversation_id: str | None = None,
) -> list[OutboundMessage]:
    """Queue a message with reply buttons ({"id", "title"}); when Meta's limits (3 buttons,
    titles of 20 characters, a 1024-character body) do not allow buttons, the options are
    written into the text instead, so nothing is lost."""
    fits = (
        1 <= len(buttons) <= BUTTON_LIMIT
        and all(0 < len(b["title"]) <= BUTTON_TITLE_LIMIT for b in buttons)
        and len(body) <= BUTTON_BODY_LIMIT
    )
    if not fits:
        options = "\n".join(f"• {b['title']}" for b in buttons)
        return enqueue_text(
            session,
            to_phone=to_phone,
            body=f"{body}\n\n{options}",
            contact_id=contact_id,
            staff_id=staff_id,
            purpose=purpose,
            template_params=template_params,
            object_type=object_type,
            object_id=object_id,
            conversation_id=conversation_id,
        )
    row = _row(
        "buttons",
        body,
        [{"id": b["id"], "title": b["title"]} for b in buttons],
        to_phone=to_phone,
        contact_id=contact_id,
        staff_id=staff_id,
        purpose=purpose,
        template_params=template_params,
        object_type=object_type,
        object_id=object_id,
        conversation_id=conversation_id,
    )
    return _queue(session, [row])


def _row(
    kind: str,
    body: str,
    buttons: list[dict[str, str]],
    *,
    to_phone: str,
    contact_id: str | None,
    staff_id: str | None,
    purpose: str | None,
    template_params: list[Any] | None,
    object_type: str | None,
    object_id: str | None,
    conversation_id: str | None,
) -> OutboundMessage:
    return OutboundMessage(
        recipient_phone=to_phone,
        contact_id=contact_id,
        staff_id=staff_id,
        kind=kind,
        body=body,
        buttons=buttons,
        purpose=purpose,
        template_params=template_params or [],
        status=OutboxStatus.QUEUED,
        object_type=str(object_type) if object_type else None,
        object_id=object_id,
        conversation_id=conversation_id,
    )


def _queue(session: Session, rows: list[OutboundMessage]) -> list[OutboundMessage]:
    session.add_all(rows)
    session.flush()
    return rows


def split_text(body: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at paragraph, then line, then word boundaries so no part exceeds `limit`."""
    body = body.strip()
    if len(body) <= limit:
        return [body]
    parts: list[str] = []
    current = ""
    for separator_chunks in _chunks(body, limit):
        if current and len(current) + 2 + len(separator_chunks) > limit:
            parts.append(current)
            current = separator_chunks
        else:
            current = f"{current}\n\n{separator_chunks}" if current else separator_chunks
    if current:
        parts.append(current)
    return parts


def _chunks(body: str, limit: int) -> list[str]:
    chunks: list[str] = []
    for paragraph in body.split("\n\n"):
        if len(paragraph) <= limit:
            chunks.append(paragraph)
            continue
        line_buf = ""
        for word in paragraph.replace("\n", " \n ").split(" "):
            while len(word) > limit:  # one unbroken run longer than the limit
                if line_buf:
                    chunks.append(line_buf)
                    line_buf = ""
                chunks.append(word[:limit])
                word = word[limit:]
            candidate = f"{line_buf} {word}" if line_buf else word
            if len(candidate) > limit:
                chunks.append(line_buf)
                line_buf = word
            else:
                line_buf = candidate
        if line_buf:
            chunks.append(line_buf)
    return [c.strip() for c in chunks if c.strip()]


def messages_to(session: Session, phone: str) -> list[OutboundMessage]:
    return list(
        session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.recipient_phone == phone)
            .order_by(OutboundMessage.id)
        )
    )
