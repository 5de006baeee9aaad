"""Consent: a customer who writes STOP (or UNSUBSCRIBE) gets no marketing or non-essential
messages until they write START. Essential messages (their booking, payments due, the trip,
safety and incident notices, answers to what they write) still go out: they need them.

The rule is applied where every message is queued (`backend/services/outbox.py`), so every
path honours it: the assistant, staff, the scheduler."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import ObjectType
from backend.models import Contact
from backend.services import timeline

STOP_WORDS = {"STOP", "UNSUBSCRIBE", "STOP ALL", "OPT OUT", "OPTOUT"}
START_WORDS = {"START", "SUBSCRIBE", "UNSTOP", "OPT IN", "OPTIN"}
# What a customer who said STOP does not get. Everything else about their booking and their
# trip is essential.
NON_ESSENTIAL_PURPOSES = frozenset({"feedback_request", "conversation_followup", "marketing"})


def command_of(text: str | None) -> str | None:
    """ "stop" or "start" when the whole message is one of the consent words, else None."""
    words = " ".join(re.sub(r"[^A-Za-z ]+", " ", text or "").upper().split())
    if words in STOP_WORDS:
        return "stop"
    if words in START_WORDS:
        return "start"
    return None


def allows(contact: Contact | None, purpose: str | None) -> bool:
    return contact is None or contact.opted_out_at is None or purpose not in NON_ESSENTIAL_PURPOSES


def opt_out(session: Session, contact: Contact, actor: Actor) -> bool:
    """True when this changed anything (a second STOP is not news)."""
    if contact.opted_out_at is not None:
        return False
    contact.opted_out_at = clock.now()
    _record(session, contact, "opted_out", actor)
    return True


def opt_in(session: Session, contact: Contact, actor: Actor) -> bool:
    if contact.opted_out_at is None:
        return False
    contact.opted_out_at = None
    _record(session, contact, "opted_in", actor)
    return True


def record_withheld(session: Session, contact: Contact, purpose: str | None) -> None:
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="CONSENT",
        action="tms.contact.message_withheld",
        actor=SYSTEM,
        content={"purpose": purpose, "reason": "the customer wrote STOP"},
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
