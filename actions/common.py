"""What every custom action shares: one transaction per turn, the sender's identity, the
WhatsApp message id, and replaying a stored answer when the same message is processed twice.

Actions stay thin: they parse, call a backend service, and phrase the reply with
backend/texts.py.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, i18n, texts
from backend.assistant_protocol import RETRY_MARKER
from backend.config import get_settings
from backend.db import transaction
from backend.domain import choices
from backend.domain.actor import Actor
from backend.domain.commands import reference_in
from backend.domain.enums import Source
from backend.domain.errors import ConcurrentChange, DomainError, InvalidPhoneNumber
from backend.domain.phones import normalise_phone
from backend.domain.whatsapp_ids import is_bsuid
from backend.models import ActionReceipt, Booking, Contact, Conversation, Refund, Staff
from backend.services import contacts, languages, refunds, translations
from backend.services import staff as staff_service

logger = logging.getLogger(__name__)


@dataclass
class Turn:
    """One message from one person, inside one database transaction."""

    session: Session
    tracker: Tracker
    contact: Contact
    conversation: Conversation
    staff: Staff | None
    actor: Actor
    text: str
    replies: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str, buttons: list[dict[str, str]] | None = None) -> None:
        self.replies.append({"text": text, "buttons": buttons or []})

    def set_slot(self, name: str, value: Any) -> None:
        self.events.append({"event": "slot", "timestamp": None, "name": name, "value": value})

    def slot(self, name: str) -> Any:
        return self.tracker.get_slot(name)

    @property
    def answer_to(self) -> choices.AnswerTo | None:
        """What a tapped button or list row answers (None for a typed message)."""
        return choices.parse_answer_to(
            next(self.tracker.get_latest_entity_values(choices.ANSWER_TO), None)
        )

    def reference_in_text(self) -> str | None:
        entity = next(self.tracker.get_latest_entity_values("ref"), None)
        return reference_in(self.text) or entity

    @property
    def name(self) -> str | None:
        return self.contact.name or self.contact.profile_name


def sender_phone(tracker: Tracker) -> str:
    """A sender id that is an address: the phone (E.164), or the business-scoped user ID
    when WhatsApp shares no phone (backend/domain/whatsapp_ids.py)."""
    if is_bsuid(tracker.sender_id):
        return str(tracker.sender_id)
    return normalise_phone(tracker.sender_id, get_settings().default_region)


class UnknownSender(Exception):
    """A sender id that is neither a contact's key nor an address."""


def sender_contact(session: Session, tracker: Tracker, profile_name: str | None) -> Contact:
    """Who wrote, as the inbox worker names them: the contact whose `sender_key` the sender id
    is (it stays theirs when they share their phone or get a new BSUID), else the contact of
    the address it is (created if new). InvalidPhoneNumber when it is neither."""
    key = str(tracker.sender_id)
    contact = session.scalar(select(Contact).where(Contact.sender_key == key))
    if contact is not None:
        return contact
    return contacts.get_or_create_contact(session, sender_phone(tracker), profile_name=profile_name)


def wamid_of(tracker: Tracker) -> str | None:
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata.get("wamid")


class TmsAction(Action):
    """Base for the project's actions: run `handle(turn)` in one transaction, off the event loop.

    A DomainError becomes a polite reply (and the transaction rolls back). A change someone
    else made meanwhile, or any other error, rolls back and answers with the retry marker
    (`RETRY_MARKER`): the backend's inbox takes the message up again later, and the stored
    receipt of a turn that did complete makes a repeat harmless.
    """

    NAME: ClassVar[str] = ""

    def name(self) -> str:
        return self.NAME

    def handle(self, turn: Turn) -> None:  # pragma: no cover - every action overrides it
        raise NotImplementedError

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            replies, events = await asyncio.to_thread(self._run_in_transaction, tracker)
        except Exception as exc:
            # Rasa would swallow the error and answer nothing: say "try me again" instead,
            # so the message is retried rather than taken as answered.
            if not isinstance(exc, ConcurrentChange):
                logger.exception("%s failed; the message will be retried", self.name())
            dispatcher.utter_message(json_message={RETRY_MARKER: type(exc).__name__})
            return []
        for reply in replies:
            dispatcher.utter_message(text=reply["text"], buttons=reply.get("buttons") or [])
        return events

    def _run_in_transaction(
        self, tracker: Tracker
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        wamid = wamid_of(tracker)
        try:
            with transaction() as session:
                if wamid:
                    receipt = session.scalar(
                        select(ActionReceipt).where(
                            ActionReceipt.wamid == wamid, ActionReceipt.action_name == self.name()
                        )
                    )
                    if receipt is not None:
                        logger.info("replaying %s for %s", self.name(), wamid)
                        return receipt.messages, receipt.events
                translations.refresh(session)  # staff's wording (Translations page), if changed
                turn = self._turn(session, tracker)
                # Replies in the customer's language (services/languages.py keeps it).
                with i18n.speaking(languages.language_of(turn.contact)):
                    if not typed_refund_choice(turn):
                        self.handle(turn)
                if wamid:
                    session.add(
                        ActionReceipt(
                            wamid=wamid,
                            action_name=self.name(),
                            messages=turn.replies,
                            events=turn.events,
                            created_at=clock.now(),
                        )
                    )
                return turn.replies, turn.events
        except ConcurrentChange:
            raise  # transient: retried, not refused
        except UnknownSender:
            return [{"text": texts.help_message()}], []
        except DomainError as exc:
            logger.info("%s refused: %s", self.name(), exc)
            return [{"text": texts.guide_command_refused(str(exc).rstrip("."))}], []

    def _turn(self, session: Session, tracker: Tracker) -> Turn:
        metadata = tracker.latest_message.get("metadata") or {}
        try:
            contact = sender_contact(session, tracker, metadata.get("profile_name"))
        except InvalidPhoneNumber as exc:
            raise UnknownSender(str(tracker.sender_id)) from exc
        conversation, _ = contacts.get_or_open_conversation(session, contact)
        return Turn(
            session=session,
            tracker=tracker,
            contact=contact,
            conversation=conversation,
            # Staff are recognised by their phone: never by a BSUID alone.
            staff=staff_service.by_phone(session, contact.phone),
            actor=Actor(Source.WHATSAPP, phone=contact.phone, conversation_id=conversation.id),
            text=typed_text(tracker),
        )


def answer_refund_choice(turn: Turn, refund: Refund, choice: str) -> None:
    """The customer chose a refund or a credit (a button, a typed word): recorded once, OPS
    alerted, the customer told what happens next (or that it is already settled)."""
    booking = turn.session.get(Booking, refund.booking_id)
    assert booking is not None
    if refunds.choose(turn.session, refund, choice, turn.actor):
        turn.say(texts.refund_choice_received(booking, choice, refund.refundable_minor))
    else:
        turn.say(texts.refund_choice_already(booking, str(refund.status), refund.choice))


def typed_refund_choice(turn: Turn) -> bool:
    """REFUND or CREDIT typed as the whole message while one of the sender's refunds waits for
    their choice: that choice, whatever intent the assistant read in the word (the buttons'
    question is asked by the backend, outside any conversation's pending slot)."""
    choice = refunds.choice_in(turn.text) if turn.text else None
    if choice is None:
        return False
    refund = refunds.open_of_contact(turn.session, turn.contact.id)
    if refund is None:
        return False
    answer_refund_choice(turn, refund, choice)
    return True


CLARIFYING_TEXT = "clarifying_text"  # the words "Do you mean …?" asked about (actions/clarify.py)


def typed_text(tracker: Tracker) -> str:
    """What the person wrote; a tapped button's payload (`/affirm{...}`) is not words, except
    an answer to "Do you mean …?": the words it asked about, now understood."""
    text = tracker.latest_message.get("text") or ""
    if not text.startswith("/"):
        return text
    answered = choices.parse_answer_to(
        next(tracker.get_latest_entity_values(choices.ANSWER_TO), None)
    )
    if answered is not None and answered.kind == choices.CLARIFY:
        return str(tracker.get_slot(CLARIFYING_TEXT) or "")
    return ""
