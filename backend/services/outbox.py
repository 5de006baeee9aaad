"""The outbox: every message the product sends is a row here first.

This module is the one API for enqueuing; the WhatsApp sender (backend/whatsapp) delivers the
rows, paces them and applies the 24-hour window and template rules.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.domain.enums import OutboxStatus
from backend.domain.whatsapp_messages import (
    BUTTON_BODY_LIMIT,
    BUTTON_LIMIT,
    BUTTON_TITLE_LIMIT,
    LIST_ROW_DESCRIPTION_LIMIT,
    LIST_ROW_ID_LIMIT,
    LIST_ROW_LIMIT,
    LIST_ROW_TITLE_LIMIT,
    TEXT_LIMIT,
    shorten,
)
from backend.models import Contact, OutboundMessage
from backend.services import consent


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
    common: dict[str, Any] = dict(
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
    """Queue a choice ({"id", "title"}, optionally "description"): up to 3 options without
    descriptions are reply buttons, up to 10 (or any with a description) a list. Titles too long
    for WhatsApp are shortened, never refused by the API. A body too long for an interactive
    message, or more than 10 options, goes as text with the options written out (typing the
    option still works), so nothing is lost."""
    as_list = len(buttons) > BUTTON_LIMIT or any(b.get("description") for b in buttons)
    title_limit = LIST_ROW_TITLE_LIMIT if as_list else BUTTON_TITLE_LIMIT
    options = [
        {
            "id": str(b["id"]),
            "title": shorten(str(b.get("title") or b["id"]), title_limit),
            **(
                {"description": shorten(str(b["description"]), LIST_ROW_DESCRIPTION_LIMIT)}
                if as_list and b.get("description")
                else {}
            ),
        }
        for b in buttons
    ]
    common: dict[str, Any] = {
        "to_phone": to_phone,
        "contact_id": contact_id,
        "staff_id": staff_id,
        "purpose": purpose,
        "template_params": template_params,
        "object_type": object_type,
        "object_id": object_id,
        "conversation_id": conversation_id,
    }
    fits = (
        1 <= len(options) <= LIST_ROW_LIMIT
        and len(body.strip()) > 0
        and len(body) <= BUTTON_BODY_LIMIT
        and all(len(o["id"]) <= LIST_ROW_ID_LIMIT for o in options)
    )
    if not fits:
        written = "\n".join(f"• {b['title']}" for b in buttons)
        return enqueue_text(session, body=f"{body}\n\n{written}", **common)
    return _queue(session, [_row("list" if as_list else "buttons", body, options, **common)])


def enqueue_flow(
    session: Session,
    *,
    to_phone: str,
    body: str,
    flow: dict[str, Any],
    contact_id: str | None = None,
    purpose: str | None = None,
    template_params: list[Any] | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[OutboundMessage]:
    """Queue a WhatsApp Flow ({"flow_id", "flow_token", "cta", "screen", "data"}): a form
    inside the chat. It needs the 24-hour window; outside it the row goes as its purpose's
    template (which must carry another way to the same form, a link)."""
    row = _row(
        "flow",
        body,
        [],
        to_phone=to_phone,
        contact_id=contact_id,
        staff_id=None,
        purpose=purpose,
        template_params=template_params,
        object_type=object_type,
        object_id=object_id,
        conversation_id=None,
    )
    row.flow = dict(flow)
    return _queue(session, [row])


def enqueue_template(
    session: Session,
    *,
    to_phone: str,
    template_name: str,
    params: list[Any],
    body: str,
    language: str | None = None,
    contact_id: str | None = None,
    purpose: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> list[OutboundMessage]:
    """Queue a named template (a campaign's marketing template), in `language` when Meta
    approved it there, else English. `body` is its text as the reader sees it (the timeline)."""
    row = _row(
        "template",
        body,
        [],
        to_phone=to_phone,
        contact_id=contact_id,
        staff_id=None,
        purpose=purpose,
        template_params=params,
        object_type=object_type,
        object_id=object_id,
        conversation_id=None,
    )
    row.template_name, row.template_language = template_name, language
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
    """Queue the rows, except what a customer who wrote STOP no longer wants (kept on the
    timeline instead)."""
    kept = []
    for row in rows:
        contact = session.get(Contact, row.contact_id) if row.contact_id else None
        if consent.allows(contact, row.purpose):
            kept.append(row)
        elif contact is not None:
            consent.record_withheld(session, contact, row.purpose)
    session.add_all(kept)
    session.flush()
    return kept


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
