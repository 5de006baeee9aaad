"""What an outbox row becomes on the wire: free-form inside the 24-hour window, its approved
template outside it, and the template fallback after a 131047 — once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, i18n, texts
from backend.config import get_settings
from backend.domain.enums import OutboxStatus
from backend.domain.whatsapp_messages import (
    Button,
    Buttons,
    FlowMessage,
    ListMessage,
    MessageLimitError,
    Row,
    Template,
    Text,
    WireMessage,
)
from backend.models import Contact, OutboundMessage
from backend.services import contacts, languages
from backend.whatsapp.templates import TemplateSpec, approved, template_for


class NoTemplate(Exception):
    """Outside the window and no approved template carries this kind of message."""


def window_is_open(session: Session, phone: str) -> bool:
    contact = session.scalar(select(Contact).where(Contact.phone == phone))
    margin = timedelta(minutes=get_settings().window_margin_minutes)
    return contact is not None and contacts.window_open(contact, margin=margin)


def open_windows(session: Session, phones: set[str]) -> set[str]:
    """Which of these numbers may get free-form messages now (one query for a whole batch)."""
    if not phones:
        return set()
    margin = timedelta(minutes=get_settings().window_margin_minutes)
    found = session.scalars(select(Contact).where(Contact.phone.in_(phones)))
    return {c.phone for c in found if contacts.window_open(c, margin=margin)}


def template_spec_for(row: OutboundMessage) -> tuple[TemplateSpec, list[str]]:
    """The template and its parameters for a row, by purpose; a generic one otherwise."""
    spec = template_for(row.purpose)
    if spec is not None and (row.template_params or spec.params == 0):
        return spec, list(row.template_params or [])[: spec.params]
    if row.purpose == "reply":
        spec = template_for("conversation_followup")
        assert spec is not None
        return spec, []
    generic = template_for("staff_alert" if row.staff_id else "customer_update")
    if generic is None:
        raise NoTemplate(f"no template for {row.purpose!r}")
    return generic, [row.body or ""]


def _payloads(row: OutboundMessage) -> list[str]:
    """The row's button payloads: a template's quick replies carry them outside the window."""
    return [str(b["id"]) for b in row.buttons or [] if isinstance(b, dict) and b.get("id")]


def to_template(row: OutboundMessage) -> Template:
    spec, params = template_spec_for(row)
    template = spec.build(params, _payloads(row))
    row.kind = "template"
    row.template_name = spec.name
    row.template_language = spec.language
    row.template_params = list(template.parameters)
    return template


def wire_message(
    session: Session, row: OutboundMessage, *, window_open: bool | None = None
) -> WireMessage:
    """The message to send for a row, applying the window rule (may turn the row into its
    template). `window_open` may be given when the caller already looked it up."""
    if row.kind == "template":
        spec = approved(row.template_name or "")
        if spec is None:
            raise MessageLimitError(f"template {row.template_name} is not approved")
        return spec.build(list(row.template_params), _payloads(row))
    is_open = (
        window_open if window_open is not None else window_is_open(session, row.recipient_phone)
    )
    if not is_open:
        return to_template(row)
    if row.kind == "buttons":
        return Buttons(
            body=row.body or "",
            buttons=tuple(Button(id=b["id"], title=b["title"]) for b in row.buttons),
        )
    if row.kind == "flow" and row.flow:
        return FlowMessage(
            body=row.body or "",
            flow_id=str(row.flow["flow_id"]),
            flow_token=str(row.flow["flow_token"]),
            cta=str(row.flow["cta"]),
            screen=str(row.flow["screen"]),
            data=dict(row.flow.get("data") or {}),
        )
    if row.kind == "list":
        # The label of the button that opens the list, in the reader's language.
        contact = session.get(Contact, row.contact_id) if row.contact_id else None
        with i18n.speaking(languages.language_of(contact) if contact else None):
            list_button = texts.LIST_BUTTON
        return ListMessage(
            body=row.body or "",
            button=list_button,
            rows=tuple(
                Row(id=b["id"], title=b["title"], description=b.get("description") or "")
                for b in row.buttons
            ),
        )
    return Text(row.body or "")


def queue_template_fallback(session: Session, row: OutboundMessage) -> OutboundMessage | None:
    """After a 131047 for `row`, queue its template once; None if already done or impossible."""
    if row.kind == "template":
        return None
    already = session.scalar(
        select(OutboundMessage.id).where(OutboundMessage.fallback_of_id == row.id)
    )
    if already is not None:
        return None
    fallback = OutboundMessage(
        recipient_phone=row.recipient_phone,
        contact_id=row.contact_id,
        staff_id=row.staff_id,
        kind=row.kind,
        body=row.body,
        buttons=row.buttons,
        purpose=row.purpose,
        template_params=row.template_params,
        status=OutboxStatus.QUEUED,
        object_type=row.object_type,
        object_id=row.object_id,
        conversation_id=row.conversation_id,
        fallback_of_id=row.id,
        created_at=clock.now(),
    )
    try:
        to_template(fallback)
    except (NoTemplate, ValueError):
        return None
    session.add(fallback)
    return fallback
