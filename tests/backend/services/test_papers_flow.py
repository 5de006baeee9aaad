"""The travellers' papers as a WhatsApp Flow: offered for the first traveller still missing
something (a Flow inside the window, the page's link as a template outside it), its answer
(`nfm_reply`) filed through the traveller file's rules by the inbox worker, the next traveller
offered; a tampered, expired or another phone's `flow_token` files nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from backend import clock, links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.whatsapp_messages import FlowMessage, MessageLimitError, Template
from backend.models import Booking, OutboundMessage, TimelineEvent
from backend.services import papers_flow, travellers
from backend.whatsapp import outbox_rules
from devkit.fake_graph import check_flow
from tests import factories
from tests.backend.services.test_arrivals import arrive, message

pytestmark = pytest.mark.usefixtures("pg_db_url", "frozen_clock")

FLOW_JSON = Path(__file__).resolve().parents[3] / "backend/whatsapp/flows/traveller_papers.json"


def _booking(size: int = 2) -> str:
    with transaction() as s:
        product = factories.ebc(s)
        product.max_altitude_m = 5545
        dep = factories.departure(s, product, start=clock.local_today() + timedelta(days=40))
        return factories.confirmed_booking(s, dep, size).id


def _flows(booking_id: str) -> list[OutboundMessage]:
    with transaction() as s:
        return list(
            s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.object_id == booking_id, OutboundMessage.kind == "flow")
                .order_by(OutboundMessage.id)
            )
        )


def _offer(booking_id: str) -> OutboundMessage:
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        [row] = papers_flow.offer(s, booking, SYSTEM)
        return row


def _answers(booking: Booking, **changes) -> dict:
    dep = booking.departure
    return {
        "full_name": "Ann Lee",
        "nationality": "Australia",
        "passport_number": "PA7654321",
        "passport_expiry": (dep.end_date + relativedelta(years=3)).isoformat(),
        "date_of_birth": (clock.local_today() - relativedelta(years=41)).isoformat(),
        "sex": "F",
        "insurer": "Cover-More",
        "policy_number": "CM-1",
        "assistance_phone": "+61 2 8907 5619",
        "covers_helicopter": "yes",
        "cover_altitude_m": "6000",
        "emergency_name": "Bo Lee",
        "emergency_relationship": "husband",
        "emergency_phone": "+61412345678",
        "diet": "",
        "medical": "",
        "arrival_flight": "TG 319",
        "arrival_date": (dep.start_date - timedelta(days=2)).isoformat(),
        **changes,
    }


def _answer(phone: str, token: str, answers: dict) -> None:
    """The phone completes the Flow: Meta's nfm_reply, answers and token as a JSON string."""
    arrive(
        message(
            phone,
            "interactive",
            {
                "type": "nfm_reply",
                "nfm_reply": {
                    "name": "flow",
                    "body": "Sent",
                    "response_json": json.dumps({"flow_token": token, **answers}),
                },
            },
        )
    )


def _state(booking_id: str, position: int) -> tuple[dict, list[str]]:
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        row = travellers.get(s, booking, position)
        return travellers.values_of(row), list(row.missing)


def _replies(phone: str) -> list[str]:
    with transaction() as s:
        return list(
            s.scalars(
                select(OutboundMessage.body)
                .where(OutboundMessage.recipient_phone == phone, OutboundMessage.kind == "text")
                .order_by(OutboundMessage.id)
            )
        )


def test_the_flow_goes_in_the_window_and_as_the_pages_link_outside_it() -> None:
    booking_id = _booking()
    row = _offer(booking_id)
    assert row.flow["screen"] == papers_flow.SCREEN and row.purpose == "papers_flow"
    with transaction() as s:
        row = s.get(OutboundMessage, row.id)
        inside = outbox_rules.wire_message(s, row, window_open=True)
        assert isinstance(inside, FlowMessage)
        assert check_flow(inside.payload()["interactive"]["action"], ["demo-papers-flow"]) is None
        outside = outbox_rules.wire_message(s, row, window_open=False)
        assert isinstance(outside, Template) and outside.name == "papers_flow"
        booking = s.get(Booking, booking_id)
        assert factories.link_in(outside.parameters[1], "papers") == links.LinkClaims(
            "papers", booking.ref_key
        )


def test_an_answer_is_filed_and_the_next_traveller_is_offered() -> None:
    booking_id = _booking(2)
    row = _offer(booking_id)
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        phone, answers = booking.contact.phone, _answers(booking)
    _answer(phone, row.flow["flow_token"], answers)
    values, missing = _state(booking_id, 1)
    assert values["passport_number"] == "PA7654321" and values["nationality"] == "AU"
    assert missing == ["passport_photo", "portrait_photo"]
    assert (
        "Ann Lee's details are saved. Still to come: a photo of the passport" in _replies(phone)[-1]
    )
    second = _flows(booking_id)[-1]
    assert papers_flow.read_token(second.flow["flow_token"]).position == 2
    with transaction() as s:
        saved_reply = s.scalar(
            select(OutboundMessage.id).where(
                OutboundMessage.recipient_phone == phone,
                OutboundMessage.body.like("%details are saved%"),
            )
        )
    assert saved_reply < second.id  # the thanks first, then the next traveller's form


def test_wrong_answers_are_named_and_the_right_ones_kept() -> None:
    booking_id = _booking(1)
    row = _offer(booking_id)
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        phone, answers = booking.contact.phone, _answers(booking, emergency_phone="ring Bo")
    _answer(phone, row.flow["flow_token"], answers)
    values, missing = _state(booking_id, 1)
    assert values["insurer"] == "Cover-More" and "emergency_phone" in missing
    reply = _replies(phone)[-1]
    assert "Emergency contact's phone: a phone number with its country code" in reply
    assert "/papers/" in reply


@pytest.mark.parametrize("how", ["tampered", "another phone", "expired"])
def test_a_token_not_ours_for_this_phone_files_nothing(how) -> None:
    booking_id = _booking(1)
    row = _offer(booking_id)
    token = row.flow["flow_token"]
    with transaction() as s:
        booking = s.get(Booking, booking_id)
        phone, answers = booking.contact.phone, _answers(booking)
    if how == "tampered":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    elif how == "another phone":
        phone = "+61412999888"
    else:
        clock.set_clock(lambda: clock.machine_now() + timedelta(days=papers_flow.TOKEN_DAYS + 1))
    try:
        _answer(phone, token, answers)
    finally:
        if how == "expired":
            clock.set_clock(clock.machine_now)
    values, _ = _state(booking_id, 1)
    assert values.get("passport_number") is None
    assert "couldn't read that form" in _replies(phone)[-1]
    with transaction() as s:
        refused = s.scalars(
            select(TimelineEvent.content).where(
                TimelineEvent.action == "tms.traveller.flow_refused"
            )
        ).all()
    assert len(refused) == 1


def test_flow_limits_are_refused_before_sending() -> None:
    with pytest.raises(MessageLimitError):
        FlowMessage("Add details", "F1", "t", "Add details 🏔️", "TRAVELLER")
    with pytest.raises(MessageLimitError):
        FlowMessage("Add details", "F1", "t", "A call to action too long", "TRAVELLER")


def test_the_fake_refuses_what_meta_refuses_in_a_flow() -> None:
    good = FlowMessage("Body", "demo-papers-flow", "tok", "Add details", "TRAVELLER").payload()
    action = good["interactive"]["action"]
    assert check_flow(action, ["demo-papers-flow"]) is None
    assert "not published" in check_flow(action, ["another"])
    broken = json.loads(json.dumps(action))
    broken["parameters"]["flow_message_version"] = "2"
    assert "flow_message_version" in check_flow(broken, ["demo-papers-flow"])
    broken = json.loads(json.dumps(action))
    del broken["parameters"]["flow_token"]
    assert "flow_token" in check_flow(broken, ["demo-papers-flow"])
    broken = json.loads(json.dumps(action))
    broken["parameters"]["flow_action_payload"] = {"data": {}}
    assert "screen" in check_flow(broken, ["demo-papers-flow"])


def test_the_published_flow_asks_for_every_field_and_fits_metas_limits() -> None:
    from backend.domain.travellers import FIELDS

    flow = json.loads(FLOW_JSON.read_text())
    screen = flow["screens"][0]
    assert screen["id"] == papers_flow.SCREEN and screen["terminal"] is True
    form = screen["layout"]["children"][0]["children"]
    inputs = [c for c in form if c.get("name")]
    assert [c["name"] for c in inputs] == [f.name for f in FIELDS]
    footer = next(c for c in form if c["type"] == "Footer")
    assert set(footer["on-click-action"]["payload"]) == {f.name for f in FIELDS}
    label_limits = {"TextInput": 20, "TextArea": 20, "DatePicker": 40, "RadioButtonsGroup": 30}
    for component in inputs:
        assert len(component["label"]) <= label_limits[component["type"]], component["label"]
