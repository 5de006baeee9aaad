"""A traveller's papers asked for inside the chat, as a WhatsApp Flow (Meta's form in the chat).

`offer` sends the booker an interactive `flow` message for the first traveller still missing
something (inside the 24-hour window; outside it, the `papers_flow` template with the page's
link goes instead). The Flow (backend/whatsapp/flows/traveller_papers.json, published under
`WHATSAPP_PAPERS_FLOW_ID`) answers with an `nfm_reply` whose `response_json` carries our
`flow_token`: signed with `LINK_SECRET` for this purpose alone, bound to the booking and the
traveller, read back by `receive`, which files the answers through the same rules as the page
(`travellers.save`). A token that was tampered with, has expired, or comes back from another
phone than the booker's files nothing and is on the booking's timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, links, texts
from backend.config import get_settings
from backend.domain import travellers as rules
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.models import Booking, Contact, InboundMessage, OutboundMessage
from backend.services import outbox, timeline, travellers

SCREEN = "TRAVELLER"  # the Flow's first screen (its JSON's screens[0].id)
CTA = "Add details"
TOKEN_DAYS = 45


class _ClockSigner(TimestampSigner):
    """Timestamps from the project's clock (the story clock of the demo and the tests)."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        get_settings().link_secret, salt="papers-flow-token", signer=_ClockSigner
    )


def token_for(booking: Booking, position: int) -> str:
    return str(_serializer().dumps({"r": booking.ref_key, "p": position}))


@dataclass(frozen=True)
class FlowClaims:
    ref_key: str
    position: int


class FlowRefused(Exception):
    pass


def read_token(token: Any) -> FlowClaims:
    if not isinstance(token, str) or not token:
        raise FlowRefused("no flow_token")
    try:
        data = _serializer().loads(token, max_age=TOKEN_DAYS * 86400)
    except SignatureExpired as exc:
        raise FlowRefused("expired") from exc
    except BadSignature as exc:
        raise FlowRefused("not ours") from exc
    if not isinstance(data, dict) or not isinstance(data.get("p"), int):
        raise FlowRefused("not ours")
    return FlowClaims(str(data.get("r")), data["p"])


def offer(
    session: Session, booking: Booking, actor: Actor, *, position: int | None = None
) -> list[OutboundMessage]:
    """Send the Flow for traveller `position`, or the first one still missing a detail.
    Nothing when no Flow is published, the papers are locked or complete."""
    flow_id = get_settings().whatsapp_papers_flow_id
    if not flow_id:
        return []
    rows = travellers.ensure(session, booking)
    target = next(
        (
            t
            for t in rows
            if (t.position == position if position else _flow_can_fill(t.missing))
            and t.locked_at is None
        ),
        None,
    )
    if target is None:
        return []
    link = links.papers_url(booking.ref_key)
    sent = outbox.enqueue_flow(
        session,
        to_phone=booking.contact.address,
        contact_id=booking.contact_id,
        body=texts.papers_flow_offer(booking, target.position, target.full_name, len(rows)),
        flow={
            "flow_id": flow_id,
            "flow_token": token_for(booking, target.position),
            "cta": CTA,
            "screen": SCREEN,
            "data": {"intro": f"Traveller {target.position} of booking {booking.reference}"},
        },
        purpose="papers_flow",
        template_params=[booking.reference, link],
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
    )
    _log(session, booking, "tms.traveller.flow_sent", actor, traveller=target.position)
    return sent


def _flow_can_fill(missing: list[str]) -> bool:
    """Something missing that the Flow asks for (photos come in the chat or on the page)."""
    return any(name in rules.BY_NAME for name in missing)


def is_answer(row: InboundMessage) -> bool:
    interactive = (row.payload or {}).get("interactive") or {}
    return (
        row.message_type == "interactive"
        and interactive.get("type") == "nfm_reply"
        and (interactive.get("nfm_reply") or {}).get("name") == "flow"
    )


@dataclass(frozen=True)
class Filed:
    reply: str  # for the customer, first
    then_offer: Booking | None = None  # then the Flow for its next traveller missing a detail


def receive(session: Session, row: InboundMessage, contact: Contact, actor: Actor) -> Filed:
    """File a Flow's answer: the reply for the customer, and the booking whose next traveller
    gets the Flow after that reply (`offer`)."""
    nfm = ((row.payload or {}).get("interactive") or {}).get("nfm_reply") or {}
    try:
        answer = json.loads(nfm.get("response_json") or "")
    except (TypeError, ValueError):
        answer = None
    if not isinstance(answer, dict):
        return Filed(texts.papers_flow_unreadable())
    try:
        claims = read_token(answer.get("flow_token"))
    except FlowRefused as exc:
        _log_refused(session, None, contact, actor, str(exc))
        return Filed(texts.papers_flow_unreadable())
    booking = session.scalar(select(Booking).where(Booking.ref_key == claims.ref_key))
    if booking is None or booking.contact_id != contact.id:
        _log_refused(session, booking, contact, actor, "another phone than the booker's")
        return Filed(texts.papers_flow_unreadable())
    raw = {
        name: _value(answer[name])
        for name in rules.BY_NAME
        if name in answer and answer[name] not in (None, "")
    }
    try:
        saved = travellers.save(session, booking, claims.position, raw, actor, source="flow")
    except travellers.PapersLocked:
        return Filed(texts.papers_locked_in_chat(booking))
    wrong = [f"{rules.BY_NAME[name].label}: {why}" for name, why in sorted(saved.errors.items())]
    still = rules.missing_words([n for n in saved.traveller.missing if n not in saved.errors])
    reply = texts.papers_flow_saved(
        booking,
        claims.position,
        saved.traveller.full_name,
        wrong,
        still,
        links.papers_url(booking.ref_key),
    )
    return Filed(reply, None if wrong else booking)


def _value(value: Any) -> Any:
    """A Flow's DatePicker gave milliseconds since the epoch before Flow JSON 5.0."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 10**11:
        return datetime.fromtimestamp(value / 1000, UTC).date().isoformat()
    return value


def _log(session: Session, booking: Booking, action: str, actor: Actor, **content: Any) -> None:
    timeline.record(
        session,
        object_type=ObjectType.BOOKING,
        object_id=booking.id,
        event_type="TRAVELLER_FLOW",
        action=action,
        actor=actor,
        content={"booking": booking.reference, **content},
    )


def _log_refused(
    session: Session, booking: Booking | None, contact: Contact, actor: Actor, why: str
) -> None:
    if booking is not None:
        _log(session, booking, "tms.traveller.flow_refused", actor, why=why)
    else:
        timeline.record(
            session,
            object_type=ObjectType.CONTACT,
            object_id=contact.id,
            event_type="TRAVELLER_FLOW",
            action="tms.traveller.flow_refused",
            actor=actor,
            content={"why": why},
        )
