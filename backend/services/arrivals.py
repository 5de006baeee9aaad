"""What becomes of an inbound WhatsApp message once it is recorded: handlers tried in order,
the first that handles it ends the chain (as pywa's handlers do: a filter, then a callback);
a message that none handles is a turn for the assistant.

1. `consent`: STOP / START from a customer (not staff): applied and confirmed here, whoever
   else is talking to them (the assistant, a paused conversation's rep).
2. `data request`: "delete my data", "a copy of my data" from a customer: recorded,
   operations alerted, the customer told a person will confirm (`data_requests`).
3. `paused`: a conversation a rep has paused: the message goes to the rep, the assistant
   stays quiet.
4. `silent`: reactions and system notices: on the timeline, nobody answers.
   `language choice`: "English please", "auf Deutsch bitte": the customer's language, kept
   and confirmed in it. `foreign language`: clearly written in a language the assistant does
   not speak: answered in English that the team has it, the rep told which language.
5. `flow answer`: a WhatsApp Flow's answer (the travellers' papers), filed by
   `papers_flow.receive`.
6. `traveller photo`: a passport page or a portrait for the traveller file, filed on the next
   traveller lacking one (`papers_photos`), sealed as soon as its bytes arrive.
7. `payment receipt`: a customer's photo or PDF while a booking of theirs awaits payment by
   transfer or card link: kept, filed on the booking as a proof to check, and acknowledged.
8. `not dialogue`: media, locations and anything without text: kept (`media.receive`) and
   acknowledged.
   A guide command from someone known only by a BSUID (no phone, so not recognised as
   staff) is answered that guide commands need their phone.
9. Otherwise the assistant: a `DialogueTurn`. When it answers nothing, `forward_unanswered`
   tells staff.

A new kind of arrival is one entry in `ARRIVAL_HANDLERS`. The inbox worker
(`backend/whatsapp/inbox_worker.py`) only moves messages: it records the arrival, asks
`route`, and marks the message done when a handler took it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backend import i18n, texts
from backend.domain import commands
from backend.domain import languages as language_rules
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, Source
from backend.models import Contact, Conversation, InboundMessage
from backend.services import (
    consent,
    data_requests,
    languages,
    media,
    outbox,
    papers_flow,
    papers_photos,
    payment_proofs,
    routing,
    timeline,
    translations,
)
from backend.services import staff as staff_service

logger = logging.getLogger(__name__)

# Types handed to the assistant; others are recorded and acknowledged without it.
DIALOGUE_TYPES = {"text", "interactive", "button"}

SILENT_TYPES = {"reaction", "system", "unsupported_ephemeral"}

MEDIA_TYPES = {"location", "image", "document", "video", "audio", "sticker"}


@dataclass(frozen=True)
class Arrival:
    """Who wrote and where: what recording a message gives (`inbox.record_arrival`)."""

    contact: Contact
    conversation: Conversation
    actor: Actor


@dataclass(frozen=True)
class DialogueTurn:
    """A message for the assistant, as the worker sends it to Rasa."""

    row_id: int
    sender: str
    text: str
    metadata: dict[str, Any]


Check = Callable[[Session, InboundMessage, Arrival], bool]


@dataclass(frozen=True)
class ArrivalHandler:
    """`applies` is the filter; `handle` acts and says whether the message needs nothing
    more (False passes it on to the next handler)."""

    name: str
    applies: Check
    handle: Check


def _reply(session: Session, arrival: Arrival, body: str) -> None:
    outbox.enqueue_text(
        session,
        to_phone=arrival.contact.address,
        contact_id=arrival.contact.id,
        body=body,
        purpose="reply",
        conversation_id=arrival.conversation.id,
    )


def is_consent_command(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """STOP or START typed by a customer; staff are never opted out of their own work."""
    return (
        row.message_type == "text"
        and consent.command_of(row.text) is not None
        and staff_service.by_phone(session, arrival.contact.phone) is None
    )


def apply_consent(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    actor = Actor(Source.WHATSAPP, phone=arrival.contact.phone)
    if consent.command_of(row.text) == "stop":
        consent.opt_out(session, arrival.contact, actor)
        body = texts.consent_stopped()
    else:
        consent.opt_in(session, arrival.contact, actor)
        body = texts.consent_started()
    _reply(session, arrival, body)
    return True


def is_guide_command_without_phone(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """A guide command (CHECKIN, ISSUE, UPDATE, CHECKOUT, PAID) from someone WhatsApp names
    only by a business-scoped user ID: staff are recognised by their phone, so nobody is."""
    found = commands.parse_command(row.text) if row.message_type == "text" else None
    return (
        arrival.contact.phone is None
        and found is not None
        and found.intent in commands.STAFF_ONLY_INTENTS
    )


def explain_guide_commands_need_phone(
    session: Session, row: InboundMessage, arrival: Arrival
) -> bool:
    _reply(session, arrival, texts.guide_commands_need_phone())
    return True


def is_data_request(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """ "Delete my data", "a copy of my data": a customer's request about their personal data."""
    return (
        row.message_type == "text"
        and data_requests.kind_of(row.text) is not None
        and staff_service.by_phone(session, arrival.contact.phone) is None
    )


def take_data_request(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    kind = data_requests.kind_of(row.text)
    assert kind is not None
    _reply(session, arrival, data_requests.request(session, arrival.contact, kind, arrival.actor))
    return True


def is_paused(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    return bool(arrival.conversation.bot_paused)


def forward_to_rep(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """A paused conversation is a person's: they get every message, whatever its type."""
    text = row.text or f"[{row.message_type}]"
    routing.alert(
        session,
        "tms.conversation.forwarded",
        texts.rep_forward(arrival.contact.display_name, arrival.contact.address, text),
        object_type=ObjectType.CONVERSATION,
        object_id=arrival.conversation.id,
        conversation=arrival.conversation,
    )
    return True


def is_silent(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    return row.message_type in SILENT_TYPES


def leave_on_timeline(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """Recording the arrival put it on the timeline; a reaction needs no answer."""
    return True


def is_not_dialogue(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    return row.message_type in MEDIA_TYPES or row.message_type not in DIALOGUE_TYPES or not row.text


def keep_and_acknowledge(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """Media is kept (a guide's on their trip, said so); anything else unreadable is
    answered with what the assistant can read."""
    filed = media.receive(session, row, arrival.contact)
    if filed is not None and filed.trip is not None:
        body = texts.media_filed(row.message_type, filed.trip, filed.incident, filed.started_here)
    elif row.message_type in MEDIA_TYPES:
        body = texts.media_received(row.message_type)
    else:
        body = texts.unsupported_message()
    _reply(session, arrival, body)
    return True


def _from_customer_text(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    return (
        row.message_type == "text"
        and bool(row.text)
        and staff_service.by_phone(session, arrival.contact.phone) is None
    )


def is_language_choice(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """ "English please", "auf Deutsch bitte": all the message asks is a language."""
    return _from_customer_text(session, row, arrival) and (
        language_rules.requested_language(row.text) is not None
    )


def choose_language(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    code = language_rules.requested_language(row.text)
    assert code is not None
    languages.choose(session, arrival.contact, code, arrival.actor)
    _reply(session, arrival, texts.language_chosen(code))
    return True


def is_foreign_language(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """Clearly written in a language the assistant does not speak (Italian, Japanese, ...)."""
    return (
        _from_customer_text(session, row, arrival)
        and not arrival.contact.language_chosen
        and languages.foreign_language(row.text) is not None
    )


def hand_foreign_language_to_rep(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """A short answer in English that the team has it, and the rep told which language: a
    guess in the wrong language would be worse than a person a little later."""
    code = languages.foreign_language(row.text)
    assert code is not None
    contact = arrival.contact
    timeline.record(
        session,
        object_type=ObjectType.CONVERSATION,
        object_id=arrival.conversation.id,
        event_type="LANGUAGE",
        action="tms.conversation.foreign_language",
        actor=arrival.actor,
        content={"language": code, "language_name": language_rules.name_of(code)},
    )
    routing.alert(
        session,
        "tms.conversation.foreign_language",
        texts.rep_foreign_language(contact.display_name, contact.address, code, row.text or ""),
        object_type=ObjectType.CONVERSATION,
        object_id=arrival.conversation.id,
        conversation=arrival.conversation,
    )
    _reply(session, arrival, texts.foreign_language_received(code))
    return True


def is_flow_answer(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """A WhatsApp Flow's answer (an `nfm_reply`): the travellers' papers form."""
    return papers_flow.is_answer(row)


def file_flow_answer(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """Filed through the traveller file's rules; the customer hears what was saved, what to
    correct and what is still to come."""
    filed = papers_flow.receive(session, row, arrival.contact, arrival.actor)
    _reply(session, arrival, filed.reply)
    if filed.then_offer is not None:
        papers_flow.offer(session, filed.then_offer, arrival.actor)
    return True


def is_traveller_photo(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """A photo for the traveller file: a passport page or a portrait, by its caption or while a
    traveller of the customer's next trip lacks one (`papers_photos.target_of`)."""
    return papers_photos.target_of(session, row, arrival.contact) is not None


def file_traveller_photo(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """Reserved on the next traveller lacking that photo (sealed once its bytes arrive); the
    customer is told whose it was filed as."""
    reply = papers_photos.reserve(session, row, arrival.contact, arrival.actor)
    if reply is None:
        return False
    _reply(session, arrival, reply)
    return True


def is_payment_receipt(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """A customer's photo or PDF while a booking of theirs awaits payment (transfer or card
    link switched on): plausibly the receipt (`payment_proofs.chat_receipt_booking`)."""
    return payment_proofs.chat_receipt_booking(session, row, arrival.contact) is not None


def file_payment_receipt(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
    """Kept as any media is, and filed on the booking as a proof to check; the customer is
    told it is being checked (or that this file was received already)."""
    booking = payment_proofs.chat_receipt_booking(session, row, arrival.contact)
    filed = media.receive(session, row, arrival.contact)
    if booking is None or filed is None:
        return False
    payment_proofs.file_from_chat(session, filed.attachment, booking, arrival.actor)
    _reply(session, arrival, texts.proof_received(booking))
    return True


ARRIVAL_HANDLERS: tuple[ArrivalHandler, ...] = (
    ArrivalHandler("consent", is_consent_command, apply_consent),
    ArrivalHandler("data request", is_data_request, take_data_request),
    ArrivalHandler(
        "guide command without a phone",
        is_guide_command_without_phone,
        explain_guide_commands_need_phone,
    ),
    ArrivalHandler("paused", is_paused, forward_to_rep),
    ArrivalHandler("silent", is_silent, leave_on_timeline),
    ArrivalHandler("language choice", is_language_choice, choose_language),
    ArrivalHandler("foreign language", is_foreign_language, hand_foreign_language_to_rep),
    ArrivalHandler("flow answer", is_flow_answer, file_flow_answer),
    ArrivalHandler("traveller photo", is_traveller_photo, file_traveller_photo),
    ArrivalHandler("payment receipt", is_payment_receipt, file_payment_receipt),
    ArrivalHandler("not dialogue", is_not_dialogue, keep_and_acknowledge),
)


def dialogue_turn(
    row: InboundMessage, arrival: Arrival, *, from_staff: bool, language: str
) -> DialogueTurn:
    return DialogueTurn(
        row_id=row.id,
        # The contact's key, not its address: a customer who shares their phone (or gets a new
        # BSUID) goes on in the same dialogue (docs/whatsapp.md, "Usernames and BSUIDs").
        sender=arrival.contact.sender_key or arrival.contact.address,
        text=row.text or "",
        metadata={
            "wamid": row.wamid,
            "profile_name": row.profile_name,
            "message_type": row.message_type,
            # The guide-command rule reads this (addons/guide_commands.py): a customer's
            # "Update: we're 3 now" is their news, never a guide's UPDATE.
            "sender_kind": "staff" if from_staff else "customer",
            "language": language,
        },
    )


def handled_by(
    session: Session,
    row: InboundMessage,
    arrival: Arrival,
    handlers: Sequence[ArrivalHandler] | None = None,
) -> ArrivalHandler | None:
    """Run the handlers (`ARRIVAL_HANDLERS`, read at each call) in order until one handles
    the message; that one, or None when the message is for the assistant."""
    for handler in ARRIVAL_HANDLERS if handlers is None else handlers:
        if handler.applies(session, row, arrival) and handler.handle(session, row, arrival):
            logger.debug("message %s: handled by %s", row.wamid, handler.name)
            return handler
    return None


def route(session: Session, row: InboundMessage, arrival: Arrival) -> DialogueTurn | None:
    """None when a handler took the message (it is done); else the assistant's turn."""
    translations.refresh(session)  # staff's wording (Translations page), if it changed
    with i18n.speaking(languages.language_of(arrival.contact)):
        if handled_by(session, row, arrival) is not None:
            return None
    from_staff = staff_service.by_phone(session, arrival.contact.phone) is not None
    # Only typed words say a language: a tap carries a button's payload, not the customer's.
    language = (
        languages.notice(session, arrival.contact, row.text, arrival.actor)
        if not from_staff and row.message_type == "text"
        else languages.language_of(arrival.contact)
    )
    return dialogue_turn(row, arrival, from_staff=from_staff, language=language)


def forward_unanswered(session: Session, row: InboundMessage, contact: Contact) -> None:
    """After the dialogue: the assistant said nothing, so a person should see the message."""
    conversation = session.get(Conversation, row.conversation_id) if row.conversation_id else None
    routing.alert(
        session,
        "tms.conversation.assistant_silent",
        texts.rep_unanswered_message(contact.display_name, contact.address, row.text or ""),
        object_type=ObjectType.CONVERSATION,
        object_id=row.conversation_id,
        conversation=conversation,
        sender_is_staff=staff_service.by_phone(session, contact.phone) is not None,
    )
