"""WhatsApp message templates as live data (issue 26): what Meta says of each template in each
language (category, status, quality, body and parameters), kept from `tms templates sync` (Meta's
`message_templates` list) and from its template webhooks, and which one a message may use.

The rules, in one place:
- Only an APPROVED template is sent. A customer gets the template in their language when that
  language is approved with the same parameters, else the English one; a name with no record at
  all is taken as the seed (backend/whatsapp/templates.yml) declares it, until a sync or a
  webhook says otherwise.
- A status change (paused, disabled, rejected, ...) and a quality change go on the timeline;
  paused, disabled and rejected alert staff. A message whose template may not be sent is not
  sent: `not_sent` records it on the timeline of what it was about and alerts operations with
  its text (the sender sends it as a normal message instead while the window is open).
- A reclassification (template_category_update, or a sync finding another category) is kept
  (`previous_category`), put on the timeline and reported to operations and administrators:
  a utility message that Meta now bills as marketing is never sent on silently."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, i18n, texts
from backend.config import get_settings
from backend.domain.actor import SYSTEM
from backend.domain.enums import ObjectType
from backend.models import MessageTemplate, OutboundMessage
from backend.services import routing, timeline, timers

APPROVED = "APPROVED"
SENDABLE = frozenset({APPROVED})
ENGLISH = "en"
UNKNOWN_PARAMS = -1  # a template first heard of in a webhook: its parameters come with a sync
CATEGORIES = ("UTILITY", "MARKETING", "AUTHENTICATION")
# Meta's status events that put a template back in use.
BACK_IN_USE = {"REINSTATED": APPROVED, "UNARCHIVED": APPROVED}
# Status changes staff are alerted about, by their code (the registry says whom).
ALERTING_STATUSES = {
    "PAUSED": "tms.template.status.paused",
    "DISABLED": "tms.template.status.disabled",
    "REJECTED": "tms.template.status.rejected",
}


class TemplateUnavailable(Exception):
    """No approved template of that name may carry the message (paused, disabled, ...)."""

    def __init__(self, name: str, language: str, status: str) -> None:
        super().__init__(f"template {name} ({language}) is {status.lower()}: not sent")
        self.name, self.language, self.status = name, language, status


@dataclass(frozen=True)
class Listed:
    """One template as Meta's `message_templates` lists it."""

    name: str
    language: str
    category: str
    status: str
    quality: str = "UNKNOWN"
    body: str = ""
    params: int = 0
    quick_replies: tuple[str, ...] = ()
    meta_id: str | None = None


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    unchanged: int = 0


def base_language(code: str | None) -> str:
    """`de_DE`, `de-DE` and `de` are German: the part before the locale, lower case."""
    return i18n.base_language(code)


def _notice_id(*parts: str) -> str:
    """A notice's subject (at most 36 characters) for parts that may be longer."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:36]


def _key(record: MessageTemplate) -> str:
    return f"{record.name} ({record.language})"


def _subject(name: str, language: str) -> str:
    return f"template:{name}:{language}"


def records(session: Session) -> list[MessageTemplate]:
    """Every template record, by name then language."""
    return list(
        session.scalars(
            select(MessageTemplate).order_by(MessageTemplate.name, MessageTemplate.language)
        )
    )


def choose(
    session: Session, name: str, language: str | None, params: int
) -> MessageTemplate | None:
    """The approved record of `name` to send to someone reading `language`: that language's,
    else English; with `params` parameters (or not yet known). None: no record of `name` at all
    (the seed decides). Raises TemplateUnavailable when records exist and none may be sent."""
    found = list(session.scalars(select(MessageTemplate).where(MessageTemplate.name == name)))
    if not found:
        return None
    found.sort(key=lambda r: (len(r.language), r.language))  # `de` before `de_DE`
    for wanted in dict.fromkeys([base_language(language), ENGLISH]):
        for record in found:
            if (
                base_language(record.language) == wanted
                and record.status in SENDABLE
                and record.params in (params, UNKNOWN_PARAMS)
            ):
                return record
    english = next((r for r in found if base_language(r.language) == ENGLISH), None)
    if english is None:
        raise TemplateUnavailable(name, ENGLISH, "MISSING")
    if english.status in SENDABLE:  # approved, with other parameters than the message's
        raise TemplateUnavailable(
            name, english.language, f"approved with {english.params} parameters"
        )
    raise TemplateUnavailable(name, english.language, english.status)


# -- What Meta says: the list (sync) and the webhooks --------------------------------------------
def sync(session: Session, listed: Iterable[Listed]) -> SyncReport:
    """Make the records what Meta's list says: new ones added, changes recorded (and reported),
    records Meta no longer lists marked DELETED."""
    report = SyncReport()
    existing = {(r.name, r.language): r for r in records(session)}
    seen: set[tuple[str, str]] = set()
    for item in listed:
        seen.add((item.name, item.language))
        record = existing.get((item.name, item.language))
        if record is None:
            record = MessageTemplate(
                name=item.name,
                language=item.language,
                category=item.category,
                status=item.status,
                quality=item.quality,
                body=item.body,
                params=item.params,
                quick_replies=list(item.quick_replies),
                meta_id=item.meta_id,
                updated_at=clock.now(),
            )
            session.add(record)
            report.added.append(_key(record))
            continue
        before = (record.status, record.category, record.quality, record.body, record.params)
        if record.status != item.status:
            _status_changed(session, record, item.status, reason=None)
        if record.category != item.category:
            _reclassified(session, record, record.category, item.category)
        if record.quality != item.quality:
            _quality_changed(session, record, item.quality)
        record.body, record.params = item.body, item.params
        record.quick_replies = list(item.quick_replies)
        record.meta_id = item.meta_id or record.meta_id
        if before != (record.status, record.category, record.quality, record.body, record.params):
            record.updated_at = clock.now()
            report.changed.append(_key(record))
        else:
            report.unchanged += 1
    for key, record in existing.items():
        if key not in seen and record.status != "DELETED":
            _status_changed(session, record, "DELETED", reason="no longer listed by Meta")
            record.updated_at = clock.now()
            report.gone.append(_key(record))
    return report


WEBHOOK_FIELDS = (
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
)


def apply_webhook(session: Session, field_name: str, value: Mapping[str, Any]) -> None:
    """One change of a template webhook (Meta's `changes[].value` for `field_name`). Meta sends
    a webhook again when unsure: a change already applied changes nothing."""
    name = str(value.get("message_template_name") or "")
    language = str(value.get("message_template_language") or "")
    if not name or not language:
        return
    record = _record_for(session, name, language, value)
    if field_name == "message_template_status_update":
        event = str(value.get("event") or "").upper()
        status = BACK_IN_USE.get(event, event)
        category = str(value.get("message_template_category") or "").upper()
        if category in CATEGORIES and category != record.category:
            _reclassified(session, record, record.category, category)
        if status and status != record.status:
            reason = value.get("reason")
            other = value.get("other_info") or {}
            detail = " ".join(
                str(v)
                for v in (
                    reason if reason not in (None, "NONE") else None,
                    other.get("title"),
                    other.get("description"),
                )
                if v
            )
            _status_changed(session, record, status, reason=detail or None)
    elif field_name == "message_template_quality_update":
        quality = str(value.get("new_quality_score") or "").upper()
        if quality and quality != record.quality:
            _quality_changed(session, record, quality)
    elif field_name == "template_category_update":
        new = str(value.get("new_category") or "").upper()
        correct = str(value.get("correct_category") or "").upper()
        if correct:  # impending: Meta will move it to `correct` in 24 hours
            when = value.get("category_update_timestamp")
            if correct != record.category and timers.record_notice(
                session, "template-reclassify", _notice_id(_subject(name, language), correct)
            ):
                _report_reclassification(session, record, record.category, correct, when)
        elif new and new != record.category:
            _reclassified(
                session, record, str(value.get("previous_category") or record.category), new
            )
    record.updated_at = clock.now()


def _record_for(
    session: Session, name: str, language: str, value: Mapping[str, Any]
) -> MessageTemplate:
    """The record a webhook is about; one is made for a template not synced yet (its body
    and parameters are filled by the next sync)."""
    record = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.name == name, MessageTemplate.language == language
        )
    )
    if record is None:
        sibling = session.scalar(select(MessageTemplate).where(MessageTemplate.name == name))
        category = str(
            value.get("message_template_category") or value.get("previous_category") or ""
        )
        record = MessageTemplate(
            name=name,
            language=language,
            category=category.upper()
            if category.upper() in CATEGORIES
            else (sibling.category if sibling else "UTILITY"),
            status="PENDING",
            quality="UNKNOWN",
            body="",
            params=UNKNOWN_PARAMS,
            quick_replies=[],
            meta_id=str(value.get("message_template_id") or "") or None,
            updated_at=clock.now(),
        )
        session.add(record)
        session.flush()
    return record


def _status_changed(
    session: Session, record: MessageTemplate, status: str, *, reason: str | None
) -> None:
    previous, record.status, record.reason = record.status, status, reason
    code = f"tms.template.status.{status.lower()}"
    content = {
        "template": record.name,
        "language": record.language,
        "status": status,
        "previous": previous,
        "reason": reason,
    }
    timeline.record(
        session,
        object_type=ObjectType.SYSTEM,
        object_id=_subject(record.name, record.language),
        event_type="TEMPLATE",
        action=code,
        actor=SYSTEM,
        content=content,
    )
    if status in ALERTING_STATUSES:
        routing.alert(
            session,
            ALERTING_STATUSES[status],
            texts.template_status_alert(record.name, record.language, status, reason or ""),
            object_type=ObjectType.SYSTEM,
            object_id=_subject(record.name, record.language),
        )


def _quality_changed(session: Session, record: MessageTemplate, quality: str) -> None:
    previous, record.quality = record.quality, quality
    timeline.record(
        session,
        object_type=ObjectType.SYSTEM,
        object_id=_subject(record.name, record.language),
        event_type="TEMPLATE",
        action="tms.template.quality_changed",
        actor=SYSTEM,
        content={
            "template": record.name,
            "language": record.language,
            "quality": quality,
            "previous": previous,
        },
    )


def _reclassified(session: Session, record: MessageTemplate, previous: str, new: str) -> None:
    record.previous_category, record.category = previous, new
    _report_reclassification(session, record, previous, new, None)


def _report_reclassification(
    session: Session, record: MessageTemplate, previous: str, new: str, when: Any
) -> None:
    at = None
    if isinstance(when, int | float | str) and str(when).isdigit():
        at = datetime.fromtimestamp(int(when), UTC)
    content = {
        "template": record.name,
        "language": record.language,
        "previous": previous,
        "category": new,
        "from": at.isoformat() if at else None,
    }
    timeline.record(
        session,
        object_type=ObjectType.SYSTEM,
        object_id=_subject(record.name, record.language),
        event_type="TEMPLATE",
        action="tms.template.reclassified",
        actor=SYSTEM,
        content=content,
    )
    routing.alert(
        session,
        "tms.template.reclassified",
        texts.template_reclassified_alert(record.name, record.language, previous, new, at),
        object_type=ObjectType.SYSTEM,
        object_id=_subject(record.name, record.language),
    )


def refused_by_meta(session: Session, name: str, language: str, status: str) -> TemplateUnavailable:
    """Meta refused to send `name` in `language` (132001, 132015, 132016): the record learns
    the status (PAUSED, DISABLED; MISSING is left to the next sync)."""
    record = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.name == name, MessageTemplate.language == language
        )
    )
    if record is not None and status != "MISSING" and record.status != status:
        _status_changed(session, record, status, reason="refused by Meta on sending")
        record.updated_at = clock.now()
    return TemplateUnavailable(name, language, status)


# -- A message its template may not carry --------------------------------------------------------
def not_sent(session: Session, row: OutboundMessage, problem: TemplateUnavailable) -> None:
    """`row` was not sent because its template may not be: on the timeline of what it was
    about, and operations alerted with what could not be sent (one alert per template per
    alert window: the rest are on the timeline). A staff alert that could not go is not
    alerted about again (that would loop)."""
    object_type = row.object_type or (ObjectType.STAFF if row.staff_id else ObjectType.CONTACT)
    object_id = str(row.object_id or row.staff_id or row.contact_id or row.recipient_phone)
    text = (row.shown_body if row.kind != "template" else row.body) or ""
    timeline.record(
        session,
        object_type=object_type,
        object_id=object_id,
        event_type="MESSAGE",
        action="tms.template.not_sent",
        actor=SYSTEM,
        content={
            "template": problem.name,
            "status": problem.status.lower(),
            "to": row.recipient_phone,
            "text": text,
            "outboundId": row.id,
        },
    )
    if row.staff_id:
        return
    window = max(get_settings().alert_window_minutes, 1)
    minute = int(clock.now().timestamp() // 60)
    bucket = datetime.fromtimestamp((minute - minute % window) * 60, UTC)
    if not timers.record_notice(
        session, "template-not-sent", _notice_id(problem.name, bucket.strftime("%Y-%m-%dT%H:%M"))
    ):
        return
    routing.alert(
        session,
        "tms.template.not_sent",
        texts.template_not_sent_alert(problem.name, problem.status, row.recipient_phone, text),
        object_type=object_type,
        object_id=object_id,
    )
