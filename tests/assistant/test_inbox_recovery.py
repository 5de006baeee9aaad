"""The inbox against the real Rasa and action server: nothing lost when they are down, nothing
answered twice after a crash between calling Rasa and saving its replies."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from backend import clock
from backend.db import transaction
from backend.domain.enums import InboxStatus
from backend.models import InboundMessage, Lead, OutboundMessage
from backend.whatsapp import inbox
from backend.whatsapp.inbox_worker import InboxWorker, RasaClient
from tests.backend.whatsapp import payloads as p
from tests.processes import free_port

pytestmark = pytest.mark.rasa
ENQUIRY = "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March 2025"


def _store(url: str, wa_id: str, text: str) -> str:
    message = p.text_message(wa_id, text, ts=int(clock.now().timestamp()))
    with transaction(url) as s:
        inbox.store_webhook(s, p.webhook([message]), p.PHONE_NUMBER_ID)
    return message["id"]


def _replies_to(url: str, phone: str) -> list[str]:
    with transaction(url) as s:
        return [
            r.body
            for r in s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.recipient_phone == phone, OutboundMessage.purpose == "reply")
                .order_by(OutboundMessage.id)
            )
        ]


def test_rasa_down_leaves_the_message_pending_and_it_is_answered_once_back_up(
    assistant_stack, demo_world_pg
):
    url = demo_world_pg
    wamid = _store(url, "61499200001", ENQUIRY)

    async def scenario() -> None:
        dead = RasaClient(f"http://127.0.0.1:{free_port()}")
        down = InboxWorker(dead, ready_wait=0.5)  # waits this long for Rasa, then an attempt
        assert await down.run_once() == 1
        with transaction(url) as s:
            row = s.scalar(select(InboundMessage).where(InboundMessage.wamid == wamid))
            assert (
                row.status == InboxStatus.PENDING
                and row.attempts == 1
                and "ConnectError" in row.last_error
            )
        await dead.aclose()
        live = RasaClient(assistant_stack["rasa_url"])
        with clock.frozen(clock.now() + inbox.backoff(1) * 2):
            assert await InboxWorker(live).run_once() == 1
        await live.aclose()

    asyncio.run(scenario())
    replies = _replies_to(url, "+61499200001")
    assert len(replies) == 1 and replies[0].startswith("Thank you for your interest in EBC Trek!")
    with transaction(url) as s:
        assert (
            s.scalar(select(InboundMessage).where(InboundMessage.wamid == wamid)).status
            == InboxStatus.DONE
        )


def test_a_crash_after_rasa_answered_does_not_answer_or_act_twice(assistant_stack, demo_world_pg):
    url = demo_world_pg
    _store(url, "61499200002", ENQUIRY)

    async def scenario() -> None:
        rasa = RasaClient(assistant_stack["rasa_url"])
        crashed = InboxWorker(rasa)
        (row_id,), token = await asyncio.to_thread(crashed._claim)
        turn = await asyncio.to_thread(crashed._arrive, row_id, token)
        first = await rasa.send(turn.sender, turn.text, turn.metadata)
        assert first  # Rasa answered and the actions acted; then the worker died
        with clock.frozen(clock.now() + inbox.lease_length() * 2):
            assert await InboxWorker(rasa).run_once() == 1
        await rasa.aclose()

    asyncio.run(scenario())
    replies = _replies_to(url, "+61499200002")
    assert len(replies) == 1 and "I've created your enquiry" in replies[0]
    with transaction(url) as s:
        leads = s.scalar(
            select(func.count()).select_from(Lead).where(Lead.contact.has(phone="+61499200002"))
        )
        assert leads == 1


def test_action_server_down_is_retried_not_lost(assistant_stack, demo_world_pg):
    """Rasa up but its action server gone: Rasa answers nothing, the message stays pending."""
    url = demo_world_pg
    wamid = _store(url, "61499200003", "what's included in the Everest Base Camp trek?")
    from tests.processes import start_action_server

    assistant_stack["actions"].stop()
    try:

        async def attempt() -> None:
            rasa = RasaClient(assistant_stack["rasa_url"])
            await InboxWorker(rasa).run_once()
            await rasa.aclose()

        asyncio.run(attempt())
        with transaction(url) as s:
            row = s.scalar(select(InboundMessage).where(InboundMessage.wamid == wamid))
            assert row.status == InboxStatus.PENDING and "answered nothing" in row.last_error
        assert _replies_to(url, "+61499200003") == []
    finally:
        server, _port = start_action_server(
            url, assistant_stack["logs"], port=assistant_stack["action_port"]
        )
        server.wait_ready(90)
        assistant_stack["actions"] = server

    async def retry() -> None:
        rasa = RasaClient(assistant_stack["rasa_url"])
        with clock.frozen(clock.now() + inbox.backoff(1) * 2):
            await InboxWorker(rasa).run_once()
        await rasa.aclose()

    asyncio.run(retry())
    replies = _replies_to(url, "+61499200003")
    assert len(replies) == 1 and "includes" in replies[0]
