"""Issue 22: each rule the actions used to write themselves has one home, and every way in
gets the same result from it (who hears about what, a hold being placed, a yes/no answer,
the action modules' imports)."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from actions import questions
from actions.answers import ActionAffirm, ActionDeny
from actions.booking import ActionCancelBooking, ActionHumanHandoff, ActionRequestHold
from actions.enquiry import ActionSubmitEnquiry
from actions.knowledge import ActionAnswerFaq
from actions.small_talk import ActionHelp
from backend import texts
from backend.config import get_settings
from backend.db import transaction
from backend.domain import choices, timeline_actions
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import BookingStatus, LeadStatus, ObjectType, Source
from backend.domain.timeline_actions import Audience
from backend.models import Booking, Contact, Conversation, Lead, OutboundMessage
from backend.services import catalog, contacts, inventory, leads, routing
from backend.services import staff as staff_service
from tests.actions.conftest import CUSTOMER, SARAH, make_tracker, run_action, tap

OTHER = "+61499000002"


def _enquire(phone: str = CUSTOMER) -> str:
    run_action(
        ActionSubmitEnquiry(),
        make_tracker(
            phone,
            "EBC for 3 people in March",
            "enquire_trip",
            slots={"trek": "EBC", "group_size": "3", "travel_date": "March"},
        ),
    )
    with transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.phone == phone))
        return s.scalar(select(Lead).where(Lead.contact_id == contact.id)).id


def _quote(lead_id: str) -> None:
    with transaction() as s:
        lead = s.get(Lead, lead_id)
        leads.quote_lead(s, lead, catalog.departures_of(s, lead.product)[0], 3, SYSTEM)


def _without_rep(lead_id: str) -> None:
    with transaction() as s:
        s.get(Lead, lead_id).assigned_staff_id = None


def _alerted(since: int) -> set[str]:
    with transaction() as s:
        return set(
            s.scalars(
                select(OutboundMessage.recipient_phone).where(
                    OutboundMessage.purpose == "rep_alert", OutboundMessage.id > since
                )
            )
        )


def _last_message_id() -> int:
    with transaction() as s:
        return max(s.scalars(select(OutboundMessage.id)), default=0)


def _expected(code: str) -> set[str]:
    """Who the registry says hears about `code` in the customer's conversation."""
    with transaction() as s:
        contact = s.scalar(select(Contact).where(Contact.phone == CUSTOMER))
        conversation = contacts.active_conversation(s, contact)
        return {m.phone for m in routing.who_hears(s, code, conversation=conversation).staff}


# -- 1. who hears about what -------------------------------------------------------------

CHAT_EVENTS = {
    "not understood": (
        ActionHelp,
        "what's your favourite colour",
        "tms.conversation.unhandled",
    ),
    "asks for a person": (
        ActionHumanHandoff,
        "can I talk to a person",
        "tms.conversation.bot_paused",
    ),
    "hold before a quote": (
        ActionRequestHold,
        "please hold the spots",
        "tms.lead.hold_requested",
    ),
    "question for the team": (
        ActionAnswerFaq,
        "can my drone fly at base camp",
        "tms.conversation.question_unanswered",
    ),
}


def test_every_chat_event_alerts_the_rep_first():
    for _, _, code in CHAT_EVENTS.values():
        assert [a.to for a in timeline_actions.alerts_for(code)] == [Audience.REP], code


@pytest.mark.parametrize("rep", ["the rep", "no rep"])
@pytest.mark.parametrize("case", list(CHAT_EVENTS))
def test_each_action_tells_whom_the_table_names(world, case, rep):
    action, text, code = CHAT_EVENTS[case]
    lead_id = _enquire()
    if rep == "no rep":
        _without_rep(lead_id)
    expected = _expected(code)
    assert expected == ({SARAH} if rep == "the rep" else expected)
    since = _last_message_id()
    run_action(action(), make_tracker(CUSTOMER, text, "x"))
    assert _alerted(since) == expected


def test_without_a_rep_sales_hear_of_a_cancellation_as_of_a_hold_request(world):
    """Behaviour change: a cancellation with no rep used to reach nobody."""
    lead_id = _enquire()
    _quote(lead_id)
    run_action(ActionRequestHold(), make_tracker(CUSTOMER, "hold please", "request_hold"))
    _without_rep(lead_id)
    with transaction() as s:
        sales = {m.phone for m in staff_service.with_role(s, "SALES")}
        reference = s.scalar(select(Booking).where(Booking.lead_id == lead_id)).reference
    assert sales
    since = _last_message_id()
    run_action(ActionAffirm(), tap(CUSTOMER, choices.payload("affirm", f"cancel:{reference}")))
    assert _alerted(since) == sales == _expected("tms.booking.status.cancelled")


# -- 2. a hold being placed --------------------------------------------------------------


def _unlinked(text: str) -> str:
    return re.sub(r"https?://\S+", "<link>", text)


def _hold_state(lead_id: str) -> tuple[object, ...]:
    with transaction() as s:
        lead = s.get(Lead, lead_id)
        booking = s.scalar(select(Booking).where(Booking.lead_id == lead_id))
        conversation = contacts.active_conversation(s, lead.contact)
        hold = inventory.active_hold(s, booking)
        assert hold is not None
        lasts = hold.expires_at - hold.created_at
        return (
            lead.status,
            booking.status,
            booking.party_size,
            (conversation.object_type, conversation.object_id == booking.id),
            round(lasts / timedelta(hours=1)),
        )


def test_a_hold_from_the_chat_and_from_the_console_is_the_same_hold(world):
    chat_lead, console_lead = _enquire(CUSTOMER), _enquire(OTHER)
    _quote(chat_lead)
    _quote(console_lead)
    ran = run_action(ActionRequestHold(), make_tracker(CUSTOMER, "hold please", "request_hold"))
    with transaction() as s:
        lead = s.get(Lead, console_lead)
        booking = leads.hold_and_send(s, lead, Actor(Source.ADMIN, staff_id=lead.assigned_staff_id))
        sent = s.scalar(
            select(OutboundMessage.body).where(
                OutboundMessage.purpose == "hold_placed", OutboundMessage.object_id == booking.id
            )
        )
    expected = (
        LeadStatus.WON,
        BookingStatus.HELD,
        3,
        (ObjectType.BOOKING, True),
        get_settings().hold_hours,
    )
    assert _hold_state(chat_lead) == _hold_state(console_lead) == expected
    # The same words: "held until ..." from the hold the service returned, however placed.
    with transaction() as s:
        for booking_id, said in [
            (s.scalar(select(Booking.id).where(Booking.lead_id == chat_lead)), ran.texts[0]),
            (booking.id, sent),
        ]:
            held = s.get(Booking, booking_id)
            hold = inventory.active_hold(s, held)
            # The signed links carry the second they were made: compared without them.
            assert _unlinked(said) == _unlinked(texts.hold_placed(held, hold.expires_at))


# -- 3. yes/no questions -----------------------------------------------------------------


def _cancel_asked() -> tuple[str, str]:
    lead_id = _enquire()
    _quote(lead_id)
    run_action(ActionRequestHold(), make_tracker(CUSTOMER, "hold please", "request_hold"))
    asked = run_action(
        ActionCancelBooking(), make_tracker(CUSTOMER, "I need to cancel", "cancel_booking")
    )
    with transaction() as s:
        reference = s.scalar(select(Booking).where(Booking.lead_id == lead_id)).reference
    pending = asked.slot("pending_question")
    # Asked in words or with buttons, the question has one name.
    assert pending == choices.answer_to(choices.CANCEL, reference)
    assert {b["payload"] for b in asked.buttons[0]} == {
        choices.payload(intent, pending) for intent in ("affirm", "deny")
    }
    return reference, pending


def _answer(how: str, yes: bool, pending: str):
    action, intent = (ActionAffirm(), "affirm") if yes else (ActionDeny(), "deny")
    slots = {"pending_question": pending}
    if how == "typed":
        return run_action(action, make_tracker(CUSTOMER, intent, intent, slots=slots))
    return run_action(action, tap(CUSTOMER, choices.payload(intent, pending), slots=slots))


@pytest.mark.parametrize("how", ["typed", "tapped"])
def test_a_typed_and_a_tapped_answer_to_a_question_do_the_same(world, how):
    reference, pending = _cancel_asked()
    kept = _answer(how, False, pending)
    assert "stays as it is" in kept.text and kept.slot("pending_question") is None
    done = _answer(how, True, pending)
    with transaction() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == reference))
        assert booking.status == BookingStatus.CANCELLED
        assert done.text == texts.cancelled(booking)
        assert done.slot("pending_question") is None
    # Once more: the booking's status (it was "Sorry, I couldn't do that" when typed).
    again = _answer(how, True, pending)
    with transaction() as s:
        booking = s.scalar(select(Booking).where(Booking.reference == reference))
        assert again.text == texts.booking_status(booking)


def test_a_typed_yes_follows_the_registry_order():
    kinds = [question.kind for question in questions.REGISTRY]
    assert kinds == [
        choices.ASSIGNMENT,
        choices.RESOLVED,
        choices.CANCEL,
        choices.WAITLIST_OFFER,
        choices.EMAIL,
        choices.QUOTE,
        choices.REFUND,
        choices.NEWS,  # only ever pending after a rating: last, it never takes another's Yes
    ]


# -- 4. action modules import helpers, never each other ----------------------------------

ACTIONS = Path(__file__).resolve().parents[2] / "actions"
HELPERS = {
    "common",
    "context",
    "handoff",
    "faq",
    "dates",
    "holds",
    "options",
    "questions",
    "private",
    "reschedule",
}


def _imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [(name, node) for name in names]
        elif isinstance(node, ast.Import):
            found += [(a.name, node) for a in node.names]
    return found


def test_action_modules_import_helpers_never_each_other():
    for path in sorted(ACTIONS.glob("*.py")):
        module = path.stem
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        for name, node in _imports(tree):
            if not name.startswith("actions."):
                continue
            target = name.split(".")[1]
            assert id(node) in top_level, f"{module}: import inside a function ({name})"
            if module in HELPERS:
                continue
            assert target in HELPERS, f"actions.{module} imports the action module {name}"


def test_the_inbox_workers_cases_are_rows_of_the_same_table(world):
    """What the inbox worker's two alerts will get from routing.alert: a paused chat and
    a silent assistant reach the rep, else sales; a staff sender's silence reaches ops."""
    _without_rep(_enquire())
    with transaction() as s:
        sales = {m.phone for m in staff_service.with_role(s, "SALES")}
        ops = {m.phone for m in staff_service.with_role(s, "OPS")}
        conversation = s.scalar(select(Conversation))
        for code in ("tms.conversation.forwarded", "tms.conversation.assistant_silent"):
            told = routing.who_hears(s, code, conversation=conversation)
            assert {m.phone for m in told.staff} == sales and told.rep is None
        told = routing.who_hears(
            s, "tms.conversation.assistant_silent", conversation=None, sender_is_staff=True
        )
        assert {m.phone for m in told.staff} == ops
