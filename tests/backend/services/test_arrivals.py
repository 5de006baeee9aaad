"""The arrival handlers, in order: consent (customers' STOP / START), paused conversations (to
the rep), silent types, what the assistant cannot read (kept and acknowledged), and then the
assistant; each checked through the inbox worker on PostgreSQL, with a Rasa that records what
it is sent."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.config import Settings
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import AssignmentRole, InboxStatus, Role
from backend.models import InboundMessage, MediaAttachment, OutboundMessage, TimelineEvent
from backend.services import arrivals, assignments, contacts, outbox, trips
from backend.services.arrivals import ARRIVAL_HANDLERS, Arrival, ArrivalHandler
from backend.whatsapp import inbox
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient
from tests import factories
from tests.backend.whatsapp import payloads as p

CUSTOMER = "+61412600001"
_ids = itertools.count(1)

pytestmark = pytest.mark.usefixtures("pg_db_url", "frozen_clock")


class RecordingRasa:
    """A ready Rasa that keeps each message it is sent and answers `answer` to each."""

    def __init__(self, answer: tuple[str, ...] = ("Namaste!",)) -> None:
        self.answer = answer
        self.sent: list[str] = []
        self.metadata: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(200, text="Hello from Rasa: 3.6.21")
        turn = json.loads(request.content)
        self.sent.append(turn["message"])
        self.metadata.append(turn["metadata"])
        return httpx.Response(
            200, json=[{"recipient_id": turn["sender"], "text": text} for text in self.answer]
        )


def message(phone: str, kind: str, content: Any) -> dict[str, Any]:
    """A message of any type, shaped as the Cloud API sends it."""
    return {
        "from": phone.lstrip("+"),
        "id": f"wamid.ARRIVAL{next(_ids):06d}",
        "timestamp": str(int(clock.now().timestamp())),
        "type": kind,
        kind: content,
    }


def text(phone: str, body: str) -> dict[str, Any]:
    return message(phone, "text", {"body": body})


def arrive(*messages: dict[str, Any], rasa: RecordingRasa | None = None) -> RecordingRasa:
    """Store the messages as one webhook and let the inbox worker take them all."""
    rasa = rasa or RecordingRasa()
    with transaction() as s:
        inbox.store_webhook(s, p.webhook(list(messages)), p.PHONE_NUMBER_ID)

    async def work() -> None:
        client = RasaClient("http://rasa.test:5005", transport=httpx.MockTransport(rasa))
        worker = InboxWorker(client, Settings())

        async def action_server_up() -> bool:
            return True  # an empty answer is the assistant's silence, not an outage

        worker.action_server_up = action_server_up  # type: ignore[method-assign]
        try:
            while await worker.run_once():
                pass
        finally:
            await client.aclose()

    asyncio.run(work())
    with transaction() as s:
        statuses = set(s.scalars(select(InboundMessage.status)))
    assert statuses == {InboxStatus.DONE}
    return rasa


def sent_to(phone: str) -> list[str]:
    with transaction() as s:
        return list(
            s.scalars(
                select(OutboundMessage.body)
                .where(OutboundMessage.recipient_phone == phone)
                .order_by(OutboundMessage.id)
            )
        )


def actions_on_timeline() -> list[str]:
    """What the messages left on the timeline (the conversation's opening aside)."""
    with transaction() as s:
        return list(
            s.scalars(
                select(TimelineEvent.action)
                .where(TimelineEvent.action != "tms.conversation.opened")
                .order_by(TimelineEvent.id)
            )
        )


def opted_out(phone: str) -> bool:
    with transaction() as s:
        contact = contacts.find_contact(s, phone)
        assert contact is not None
        return contact.opted_out_at is not None


def sales_member() -> str:
    with transaction() as s:
        return factories.staff(s, "Sita Rai", Role.SALES).phone


def pause_conversation(phone: str) -> None:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, phone, name="Emma")
        conversation, _ = contacts.get_or_open_conversation(s, contact)
        contacts.set_bot_paused(s, conversation, True, SYSTEM)


def test_the_handlers_are_tried_in_this_order() -> None:
    assert [handler.name for handler in ARRIVAL_HANDLERS] == [
        "consent",
        "data request",
        "guide command without a phone",
        "paused",
        "silent",
        "language choice",
        "foreign language",
        "flow answer",
        "traveller photo",
        "payment receipt",
        "not dialogue",
    ]


def test_a_customers_text_is_a_turn_for_the_assistant() -> None:
    rasa = arrive(text(CUSTOMER, "When is the next Everest trek?"))
    assert rasa.sent == ["When is the next Everest trek?"]
    assert sent_to(CUSTOMER) == ["Namaste!"]
    assert actions_on_timeline() == ["tms.message.inbound"]


def test_stop_and_start_from_a_customer_are_answered_without_the_assistant() -> None:
    rasa = arrive(text(CUSTOMER, "STOP"))
    assert opted_out(CUSTOMER)
    arrive(text(CUSTOMER, "start"), rasa=rasa)
    assert not opted_out(CUSTOMER)
    assert rasa.sent == []
    assert sent_to(CUSTOMER) == [texts.consent_stopped(), texts.consent_started()]
    assert actions_on_timeline() == [
        "tms.message.inbound",
        "tms.contact.opted_out",
        "tms.message.inbound",
        "tms.contact.opted_in",
    ]


def test_stop_from_staff_goes_to_the_assistant() -> None:
    with transaction() as s:
        guide = factories.staff(s, "Rajesh Kumar", Role.GUIDE).phone
    rasa = arrive(text(guide, "STOP"))
    assert rasa.sent == ["STOP"] and not opted_out(guide)


def test_the_assistant_is_told_whether_a_customer_or_staff_wrote() -> None:
    """The guide-command rule reads it: a customer's "Update: we're 3 now" is no command."""
    with transaction() as s:
        guide = factories.staff(s, "Rajesh Kumar", Role.GUIDE).phone
    rasa = arrive(text(CUSTOMER, "Update: we're 3 now"), text(guide, "UPDATE TRP2503001 ok"))
    # two senders' turns may reach the assistant in either order; each is told its own kind
    told = {sent: m["sender_kind"] for sent, m in zip(rasa.sent, rasa.metadata, strict=True)}
    assert told == {"Update: we're 3 now": "customer", "UPDATE TRP2503001 ok": "staff"}


def test_a_customer_who_asks_for_a_language_is_answered_in_it_from_then_on() -> None:
    rasa = arrive(text(CUSTOMER, "auf Deutsch bitte"))
    assert rasa.sent == []
    assert sent_to(CUSTOMER) == [texts.language_chosen("de")]
    rasa = arrive(text(CUSTOMER, "When is the next Everest trek, and how much is it?"))
    assert rasa.metadata[-1]["language"] == "de"  # chosen: detection does not change it
    assert "tms.contact.language_chosen" in actions_on_timeline()


def test_a_clear_message_in_a_spoken_language_sets_the_language_for_the_assistant() -> None:
    rasa = arrive(text(CUSTOMER, "Hola, queremos ir al campo base del Everest en octubre"))
    assert rasa.metadata[-1]["language"] == "es"
    rasa = arrive(text(CUSTOMER, "ok"), rasa=rasa)
    assert rasa.metadata[-1]["language"] == "es"  # too short to change it
    tapped = {
        "type": "button_reply",
        "button_reply": {"id": '/affirm{"answer_to": "quote:abc"}', "title": "Reservar plazas"},
    }
    rasa = arrive(message(CUSTOMER, "interactive", tapped), rasa=rasa)
    assert rasa.metadata[-1]["language"] == "es"  # a button's payload says no language
    assert actions_on_timeline().count("tms.contact.language_detected") == 1


def test_a_language_the_assistant_does_not_speak_goes_to_the_rep_with_an_english_answer() -> None:
    with transaction() as s:
        rep = factories.staff(s, "Sita Rai", Role.SALES)
    said = "Buongiorno, vorrei prenotare il trekking al campo base dell'Everest"
    rasa = arrive(text(CUSTOMER, said))
    assert rasa.sent == []
    assert sent_to(CUSTOMER) == [texts.foreign_language_received("it")]
    alert = sent_to(rep.phone)
    assert len(alert) == 1 and "Italian" in alert[0] and said in alert[0]
    assert actions_on_timeline()[-2:] == [
        "tms.message.inbound",
        "tms.conversation.foreign_language",
    ]


def test_stop_in_a_paused_conversation_is_consent_not_a_message_for_the_rep() -> None:
    rep = sales_member()
    pause_conversation(CUSTOMER)
    rasa = arrive(text(CUSTOMER, "STOP"))
    assert sent_to(CUSTOMER) == [texts.consent_stopped()]
    assert sent_to(rep) == [] and rasa.sent == []


def test_a_paused_conversation_passes_every_message_to_the_rep() -> None:
    rep = sales_member()
    pause_conversation(CUSTOMER)
    rasa = arrive(
        text(CUSTOMER, "Can I bring my dog?"),
        message(CUSTOMER, "reaction", {"message_id": "wamid.EARLIER", "emoji": "👍"}),
        message(CUSTOMER, "image", {"id": "MEDIA-1", "mime_type": "image/jpeg"}),
    )
    assert rasa.sent == [] and sent_to(CUSTOMER) == []
    # Checked before the silent and media handlers: the rep sees the reaction and the photo.
    assert sent_to(rep) == [
        texts.rep_forward("Emma", CUSTOMER, said)
        for said in ("Can I bring my dog?", "[reaction]", "[image]")
    ]


def test_a_reaction_is_on_the_timeline_and_answered_by_nobody() -> None:
    rasa = arrive(message(CUSTOMER, "reaction", {"message_id": "wamid.EARLIER", "emoji": "❤"}))
    assert rasa.sent == [] and sent_to(CUSTOMER) == []
    assert actions_on_timeline() == ["tms.message.inbound"]
    with transaction() as s:
        content = s.scalar(
            select(TimelineEvent.content).where(TimelineEvent.action == "tms.message.inbound")
        )
        assert content is not None and (content["type"], content["text"]) == (
            "reaction",
            "[reaction]",
        )


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("image", {"id": "MEDIA-2", "mime_type": "image/jpeg", "caption": "Our group"}),
        ("location", {"latitude": 27.7172, "longitude": 85.324, "name": "Thamel"}),
    ],
)
def test_a_customers_media_is_kept_and_acknowledged(kind: str, content: dict[str, Any]) -> None:
    rasa = arrive(message(CUSTOMER, kind, content))
    assert rasa.sent == []
    assert sent_to(CUSTOMER) == [texts.media_received(kind)]
    with transaction() as s:
        assert [m.kind for m in s.scalars(select(MediaAttachment))] == [kind]


def test_a_guides_photo_is_filed_on_the_trip_its_caption_names() -> None:
    with transaction() as s:
        trip = trips.ensure_trip(s, factories.departure(s, factories.ebc(s)), SYSTEM)
        guide = factories.staff(s, "Rajesh Kumar", Role.GUIDE)
        offer = assignments.assign_staff(s, trip, guide, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM)
        assignments.respond_to_assignment(s, offer, True, SYSTEM)
        reference, phone = trip.reference, guide.phone
    rasa = arrive(message(phone, "image", {"id": "MEDIA-3", "caption": f"{reference} camp"}))
    assert rasa.sent == []
    with transaction() as s:
        trip = trips.find_trip(s, reference)
        assert sent_to(phone) == [texts.media_filed("image", trip, None, False)]
        assert s.scalar(select(MediaAttachment.trip_id)) == trip.id


@pytest.mark.parametrize(
    "unreadable",
    [
        message(CUSTOMER, "contacts", [{"name": {"formatted_name": "Pasang"}}]),
        text(CUSTOMER, ""),
    ],
    ids=["a contact card", "an empty text"],
)
def test_what_the_assistant_cannot_read_is_answered_here(unreadable: dict[str, Any]) -> None:
    rasa = arrive(unreadable)
    assert rasa.sent == []
    assert sent_to(CUSTOMER) == [texts.unsupported_message()]


def test_when_the_assistant_says_nothing_a_person_is_told() -> None:
    rep = sales_member()
    rasa = arrive(text(CUSTOMER, "Can I bring my dog?"), rasa=RecordingRasa(answer=()))
    assert rasa.sent == ["Can I bring my dog?"] and sent_to(CUSTOMER) == []
    assert sent_to(rep) == [texts.rep_unanswered_message("Emma", CUSTOMER, "Can I bring my dog?")]


def test_a_new_kind_of_arrival_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    def is_greeting(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
        return (row.text or "").lower() == "namaste"

    def greet(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
        outbox.enqueue_text(
            session,
            to_phone=arrival.contact.phone,
            contact_id=arrival.contact.id,
            body="🙏",
            purpose="reply",
            conversation_id=arrival.conversation.id,
        )
        return True

    def decline(session: Session, row: InboundMessage, arrival: Arrival) -> bool:
        return False  # looked, and left it to the next handler

    monkeypatch.setattr(
        arrivals,
        "ARRIVAL_HANDLERS",
        (
            ArrivalHandler("declines", lambda *_: True, decline),
            *ARRIVAL_HANDLERS,
            ArrivalHandler("greeting", is_greeting, greet),
        ),
    )
    rasa = arrive(text(CUSTOMER, "Namaste"), text("+61412600002", "Hello"))
    assert sent_to(CUSTOMER) == ["🙏"]
    assert rasa.sent == ["Hello"]  # the rest still reaches the assistant
