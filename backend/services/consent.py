"""Consent, kept per category of message (Meta's: `utility` and `marketing`).

A customer who writes STOP (or UNSUBSCRIBE) gets no marketing or non-essential messages until
they write START. Essential messages (their booking, payments due, the trip, safety and
incident notices, answers to what they write) still go out: they need them.

Marketing has its own state too (`contact_consents`), because Meta refuses marketing to one
user while their utility messages still go:
- 131050: the user stopped marketing messages from this business in WhatsApp. Marketing to
  them is suppressed until they opt in again (START, or agreeing to hear about future
  departures: `opt_in_marketing`).
- 131049: Meta's per-user marketing limit (frequency capping across every business). Meta
  asks not to retry at once and to wait at least 24 hours: marketing to them pauses for 24
  hours, then 48, 96, ... (at most 8 days) while Meta keeps refusing; a delivered marketing
  message or an opt-in ends the streak. Not permanent: it is not their choice.

The rule is applied where every message is queued (`backend/services/outbox.py`), so every
path honours it: the assistant, staff, the scheduler. Each change is on the contact's
timeline."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, object_session

from backend import clock
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import ObjectType
from backend.domain.message_pricing import CAMPAIGN_PURPOSES, MARKETING, UTILITY
from backend.models import Contact, ContactConsent, OutboundMessage
from backend.services import contacts, timeline

STOP_WORDS = {"STOP", "UNSUBSCRIBE", "STOP ALL", "OPT OUT", "OPTOUT"}
START_WORDS = {"START", "SUBSCRIBE", "UNSTOP", "OPT IN", "OPTIN"}
# What a customer who said STOP does not get. Everything else about their booking and their
# trip is essential.
NON_ESSENTIAL_PURPOSES = frozenset(
    {"feedback_request", "conversation_followup"} | CAMPAIGN_PURPOSES
)
# What is marketing (Meta's category): what 131050 and 131049 stop.
MARKETING_PURPOSES = CAMPAIGN_PURPOSES
CATEGORIES = (UTILITY, MARKETING)

OPTED_IN, OPTED_OUT, PAUSED = "opted_in", "opted_out", "paused"
MARKETING_STOPPED_CODE, MARKETING_LIMIT_CODE = 131050, 131049
FIRST_PAUSE, LONGEST_PAUSE = timedelta(hours=24), timedelta(days=8)


def command_of(text: str | None) -> str | None:
    """ "stop" or "start" when the whole message is one of the consent words, else None."""
    words = " ".join(re.sub(r"[^A-Za-z ]+", " ", text or "").upper().split())
    if words in STOP_WORDS:
        return "stop"
    if words in START_WORDS:
        return "start"
    return None


def allows(contact: Contact | None, purpose: str | None) -> bool:
    """Whether a message of `purpose` may be queued for `contact`."""
    return withheld_because(contact, purpose) is None


def withheld_because(contact: Contact | None, purpose: str | None) -> str | None:
    """Why a message of `purpose` may not go to `contact` (None: it may)."""
    if contact is None:
        return None
    if contact.opted_out_at is not None and purpose in NON_ESSENTIAL_PURPOSES:
        return "the customer wrote STOP"
    if purpose in MARKETING_PURPOSES:
        session = object_session(contact)
        state = _state(session, contact, MARKETING) if session is not None else None
        if state is not None and state.status == OPTED_OUT:
            return "the customer stopped marketing messages"
        if state is not None and state.status == PAUSED and _paused(state):
            return "Meta's marketing limit for this customer: paused for now"
    return None


def _paused(state: ContactConsent) -> bool:
    return state.paused_until is not None and clock.now() < state.paused_until


def categories(session: Session, contact: Contact) -> dict[str, str]:
    """Where the contact stands per category: opted_in, opted_out, paused or unknown."""
    found = {}
    for category in CATEGORIES:
        state = _state(session, contact, category)
        status = state.status if state is not None else "unknown"
        if state is not None and status == PAUSED and not _paused(state):
            status = "unknown"  # the pause is over
        found[category] = status
    if contact.opted_out_at is not None:
        found[UTILITY] = OPTED_OUT  # non-essential utility only: their booking's still go
    return found


def opt_out(session: Session, contact: Contact, actor: Actor) -> bool:
    """STOP: true when this changed anything (a second STOP is not news)."""
    if contact.opted_out_at is not None:
        return False
    contact.opted_out_at = clock.now()
    for category in CATEGORIES:
        _set(session, contact, category, OPTED_OUT, "stop")
    _record(session, contact, "opted_out", actor)
    return True


def opt_in(session: Session, contact: Contact, actor: Actor) -> bool:
    """START: every category again (marketing too: they asked to hear from us)."""
    marketing = _state(session, contact, MARKETING)
    suppressed = marketing is not None and marketing.status in (OPTED_OUT, PAUSED)
    if contact.opted_out_at is None and not suppressed:
        return False
    contact.opted_out_at = None
    for category in CATEGORIES:
        _set(session, contact, category, OPTED_IN, "start")
    _record(session, contact, "opted_in", actor)
    return True


def opt_in_marketing(
    session: Session, contact: Contact, actor: Actor, *, source: str = "customer"
) -> bool:
    """The customer agreed to hear about future departures (marketing): recorded, and any
    suppression (131050, 131049) lifted. True when this changed anything."""
    state = _state(session, contact, MARKETING)
    if state is not None and state.status == OPTED_IN:
        return False
    _set(session, contact, MARKETING, OPTED_IN, source)
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="CONSENT",
        action="tms.contact.marketing_opted_in",
        actor=actor,
        content={"phone": contact.phone, "source": source},
    )
    return True


def decline_marketing(session: Session, contact: Contact, actor: Actor) -> bool:
    """They said no to hearing about future departures: no marketing until they opt in."""
    state = _state(session, contact, MARKETING)
    if state is not None and state.status == OPTED_OUT:
        return False
    _set(session, contact, MARKETING, OPTED_OUT, "declined")
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="CONSENT",
        action="tms.contact.marketing_declined",
        actor=actor,
        content={"phone": contact.phone},
    )
    return True


def marketing_undecided(session: Session, contact: Contact) -> bool:
    """Nothing said either way about marketing (and no STOP): they may be asked."""
    return contact.opted_out_at is None and _state(session, contact, MARKETING) is None


def marketing_delivered(session: Session, row: OutboundMessage) -> None:
    """A marketing message reached them: Meta's limit no longer holds; the streak ends."""
    if row.purpose not in MARKETING_PURPOSES:
        return
    contact = _contact_of(session, row)
    state = _state(session, contact, MARKETING) if contact is not None else None
    if state is not None and state.pauses:
        state.pauses = 0


def refused_by_meta(session: Session, row: OutboundMessage, code: int | None) -> None:
    """Meta refused a marketing message to this user (131050 or 131049): suppress marketing to
    them as the code says, on their timeline. Their utility messages are not touched."""
    contact = _contact_of(session, row)
    if contact is None or code not in (MARKETING_STOPPED_CODE, MARKETING_LIMIT_CODE):
        return
    content: dict[str, object] = {"phone": contact.phone, "outboundId": row.id, "code": code}
    if code == MARKETING_STOPPED_CODE:
        state = _state(session, contact, MARKETING)
        if state is not None and state.status == OPTED_OUT:
            return  # already suppressed: not news
        _set(session, contact, MARKETING, OPTED_OUT, "meta_131050")
        action = "tms.contact.marketing_stopped"
    else:
        state = _state(session, contact, MARKETING)
        pauses = (state.pauses if state is not None else 0) + 1
        until = clock.now() + min(FIRST_PAUSE * 2 ** (pauses - 1), LONGEST_PAUSE)
        if state is not None and state.status == OPTED_OUT:
            return  # they said no: a pause says less
        state = _set(session, contact, MARKETING, PAUSED, "meta_131049", paused_until=until)
        state.pauses = pauses
        content["until"] = _iso(until)
        action = "tms.contact.marketing_paused"
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="CONSENT",
        action=action,
        actor=SYSTEM,
        content=content,
    )


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="minutes")


def _contact_of(session: Session, row: OutboundMessage) -> Contact | None:
    if row.contact_id:
        return session.get(Contact, row.contact_id)
    return contacts.find_contact(session, row.recipient_phone)


def _state(session: Session, contact: Contact, category: str) -> ContactConsent | None:
    return session.get(ContactConsent, (contact.id, category))


def _set(
    session: Session,
    contact: Contact,
    category: str,
    status: str,
    source: str,
    *,
    paused_until: datetime | None = None,
) -> ContactConsent:
    state = _state(session, contact, category)
    if state is None:
        state = ContactConsent(contact_id=contact.id, category=category, pauses=0)
        session.add(state)
    state.status, state.source, state.paused_until = status, source, paused_until
    state.changed_at = clock.now()
    if status == OPTED_IN:
        state.pauses = 0
    session.flush()
    return state


def record_withheld(session: Session, contact: Contact, purpose: str | None) -> None:
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="CONSENT",
        action="tms.contact.message_withheld",
        actor=SYSTEM,
        content={
            "purpose": purpose,
            "reason": withheld_because(contact, purpose) or "the customer wrote STOP",
        },
    )


def _record(session: Session, contact: Contact, what: str, actor: Actor) -> None:
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="CONSENT",
        action=f"tms.contact.{what}",
        actor=actor,
        content={"phone": contact.phone},
    )
