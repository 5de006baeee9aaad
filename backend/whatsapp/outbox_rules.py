"""What an outbox row becomes on the wire: free-form inside the 24-hour window, its approved
template outside it (in the reader's language when Meta approved it there, else English), and
the template fallback after a 131047 — once. A template Meta paused or disabled carries
nothing: inside the window the text goes as it is, outside it the row is not sent
(`backend/services/message_templates.py` reports it)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select
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
from backend.services import contacts, languages, message_templates
from backend.whatsapp.templates import TemplateSpec, approved, live_spec, template_for


class NoTemplate(Exception):
    """Outside the window and no approved template carries this kind of message."""


class TemplateNotSendable(NoTemplate):
    """The message's template exists but Meta does not let it be sent now (paused, ...)."""

    def __init__(self, problem: message_templates.TemplateUnavailable) -> None:
        super().__init__(str(problem))
        self.problem = problem


def window_is_open(session: Session, phone: str) -> bool:
    contact = session.scalar(
        select(Contact).where(or_(Contact.phone == phone, Contact.user_id == phone))
    )
    margin = timedelta(minutes=get_settings().window_margin_minutes)
    return contact is not None and contacts.window_open(contact, margin=margin)


def open_windows(session: Session, phones: set[str]) -> set[str]:
    """Which of these numbers may get free-form messages now (one query for a whole batch)."""
    if not phones:
        return set()
    margin = timedelta(minutes=get_settings().window_margin_minutes)
    # A recipient is an address: a phone, or a BSUID for a customer who shares no phone.
    found = session.scalars(
        select(Contact).where(or_(Contact.phone.in_(phones), Contact.user_id.in_(phones)))
    )
    return {
        known
        for c in found
        if contacts.window_open(c, margin=margin)
        for known in (c.phone, c.user_id)
        if known
    }


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


def reader_language(session: Session, row: OutboundMessage) -> str | None:
    """The language the row's reader gets templates in (staff: English)."""
    contact = session.get(Contact, row.contact_id) if row.contact_id and not row.staff_id else None
    return languages.language_of(contact) if contact is not None else None


def _live(session: Session, seed: TemplateSpec, language: str | None) -> TemplateSpec:
    try:
        return live_spec(session, seed, language)
    except message_templates.TemplateUnavailable as exc:
        raise TemplateNotSendable(exc) from exc


def to_template(session: Session, row: OutboundMessage) -> Template:
    seed, params = template_spec_for(row)
    spec = _live(session, seed, reader_language(session, row))
    # The parameters the product wrote, in the language of the template chosen.
    template = spec.build(i18n.for_template(params, spec.language), _payloads(row))
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
    is_open = (
        window_open if window_open is not None else window_is_open(session, row.recipient_phone)
    )
    if row.kind == "template":
        seed = approved(row.template_name or "")
        if seed is None:
            raise MessageLimitError(f"template {row.template_name} is not approved")
        try:
            spec = _live(session, seed, row.template_language)
        except TemplateNotSendable:
            if not (is_open and row.body):
                raise
            row.kind = "text"  # the window is open: its words go as a normal message
            return Text(row.body)
        return spec.build(i18n.for_template(row.template_params, spec.language), _payloads(row))
    if not is_open:
        return to_template(session, row)
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
        to_template(session, fallback)
    except TemplateNotSendable as exc:
        message_templates.not_sent(session, row, exc.problem)
        return None
    except (NoTemplate, ValueError):
        return None
    session.add(fallback)
    return fallback
