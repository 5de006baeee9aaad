"""Workflow 1 step 1 and workflow 2 step 1 through the actions, on a real database."""

import asyncio

import pytest
from sqlalchemy import select

from actions.booking import ActionChooseOption
from actions.catalog import ActionAskPrice, ActionRecommend
from actions.enquiry import ActionInform, ActionSubmitEnquiry, ValidateEnquiryForm
from backend import texts
from backend.db import transaction
from backend.domain.enums import BookingStatus, LeadStatus, WaitlistStatus
from backend.models import Booking, Lead, OutboundMessage, TimelineEvent
from backend.services import catalog
from tests.actions.conftest import CUSTOMER, SARAH, entity, make_tracker, run_action

ENQUIRY = "Hi! I'm interested in the Everest Base Camp Trek for 3 people in March 2025"


def test_enquiry_creates_a_lead_alerts_the_rep_and_answers_with_the_reference(world):
    ran = run_action(
        ActionSubmitEnquiry(),
        make_tracker(
            CUSTOMER,
            ENQUIRY,
            "enquire_trip",
            slots={"trek": "EBC", "group_size": "3", "travel_date": "March 2025"},
        ),
    )
    with transaction() as s:
        lead = s.scalar(select(Lead))
        assert lead.status == LeadStatus.NEW and lead.party_size == 3
        assert lead.product.code == "EBC" and lead.assigned_staff.phone == SARAH
        assert ran.text.startswith("Thank you for your interest in EBC Trek! 🏔️")
        assert f"I've created your enquiry (Ref: {lead.reference})." in ran.text
        assert "✓ Available dates in March" in ran.text
        assert "1. Specific dates or flexibility?" in ran.text
        alert = s.scalar(select(OutboundMessage).where(OutboundMessage.recipient_phone == SARAH))
        assert lead.reference in alert.body and CUSTOMER in alert.body
        message = s.scalar(
            select(TimelineEvent).where(
                TimelineEvent.object_id == lead.id, TimelineEvent.event_type == "MESSAGE"
            )
        )
        assert message.source == "WHATSAPP" and message.actor_phone == CUSTOMER
        assert message.content["text"] == "Initial enquiry for EBC Trek"
        assert message.content["direction"] == "inbound"


def test_the_same_whatsapp_message_twice_creates_one_lead_and_the_same_answer(world):
    tracker = make_tracker(
        CUSTOMER,
        ENQUIRY,
        "enquire_trip",
        wamid="wamid.ABC",
        slots={"trek": "EBC", "group_size": "3", "travel_date": "March 2025"},
    )
    first = run_action(ActionSubmitEnquiry(), tracker)
    second = run_action(ActionSubmitEnquiry(), tracker)
    assert first.texts == second.texts
    with transaction() as s:
        assert len(s.scalars(select(Lead)).all()) == 1


def test_full_departure_answers_with_three_options_and_waitlists_on_2(world):
    with transaction() as s:
        ann = catalog.get_product(s, "ANN")
        full, open_ = catalog.departures_of(s, ann)
        day = f"{full.start_date:%B} {full.start_date.day}"
    ran = run_action(
        ActionSubmitEnquiry(),
        make_tracker(
            CUSTOMER,
            f"Interested in Annapurna Circuit {day}",
            "enquire_trip",
            slots={"trek": "ANN", "travel_date": day},
        ),
    )
    assert ran.texts[0].startswith("Annapurna Circuit is very popular! 🏔️")
    assert f"{day}: FULLY BOOKED ❌" in ran.text
    assert f"{open_.start_date:%B} {open_.start_date.day}: Available ✓" in ran.text
    assert ran.text.endswith("Reply: 1, 2, or 3")
    assert ran.slot("pending_question") == "full_options"
    slots = {
        "pending_question": "full_options",
        "full_departure_id": ran.slot("full_departure_id"),
        "alternative_departure_id": ran.slot("alternative_departure_id"),
        "trek": "ANN",
    }
    chosen = run_action(
        ActionChooseOption(),
        make_tracker(
            CUSTOMER, "2", "choose_option", entities=[entity("option_number", "2")], slots=slots
        ),
    )
    # The party size was never given: asked, not guessed.
    assert chosen.text == texts.ask_party_size()
    assert chosen.slot("pending_question") == "party_for:2"
    answered = run_action(
        ActionChooseOption(),
        make_tracker(
            CUSTOMER,
            "4",
            "choose_option",
            entities=[entity("option_number", "4")],
            slots=slots | {"pending_question": "party_for:2"},
        ),
    )
    assert answered.texts[0].startswith("✓ Added to waitlist")
    assert "Position: #3 on waitlist" in answered.text and 'Reply "DATES" to see.' in answered.text
    assert answered.slot("group_size") == "4" and answered.slot("pending_question") is None
    with transaction() as s:
        booking = s.scalar(
            select(Booking).where(
                Booking.status == BookingStatus.WAITLISTED, Booking.lead_id.is_not(None)
            )
        )
        assert booking.departure_id == full.id and booking.party_size == 4
        from backend.services import waitlist

        assert waitlist.entry_of(s, booking).status == WaitlistStatus.WAITING


def test_option_1_holds_the_alternative_date(world):
    with transaction() as s:
        full, open_ = catalog.departures_of(s, catalog.get_product(s, "ANN"))
    slots = {
        "pending_question": "full_options",
        "full_departure_id": full.id,
        "alternative_departure_id": open_.id,
        "group_size": "2",
    }
    ran = run_action(
        ActionChooseOption(), make_tracker(CUSTOMER, "option 1", "choose_option", slots=slots)
    )
    assert ran.texts[0].startswith("Perfect! I've reserved 2 spots")
    with transaction() as s:
        booking = s.scalar(select(Booking).where(Booking.status == BookingStatus.HELD))
        assert booking.departure_id == open_.id and booking.lead.status == LeadStatus.WON


def test_form_skips_the_group_size_for_a_full_named_departure(world):
    with transaction() as s:
        full, open_ = catalog.departures_of(s, catalog.get_product(s, "ANN"))
    form = ValidateEnquiryForm()

    def required(travel_date):
        tracker = make_tracker(
            CUSTOMER, "x", "enquire_trip", slots={"trek": "ANN", "travel_date": travel_date}
        )
        return asyncio.run(form.required_slots(["trek", "group_size"], None, tracker, {}))

    assert required(f"{full.start_date:%B} {full.start_date.day}") == ["trek"]
    assert required(f"{open_.start_date:%B} {open_.start_date.day}") == ["trek", "group_size"]


def test_form_asks_each_slot_once(world):
    form = ValidateEnquiryForm()
    first = make_tracker(CUSTOMER, "not sure", "inform")
    asked = make_tracker(CUSTOMER, "not sure", "inform", slots={"requested_slot": "group_size"})
    assert form.validate_group_size("not sure", None, first, {}) == {"group_size": None}
    assert form.validate_group_size("not sure", None, asked, {}) == {"group_size": "unknown"}
    assert form.validate_group_size("four of us", None, asked, {}) == {"group_size": "4"}
    assert form.validate_trek("everest bc", None, first, {}) == {"trek": "EBC"}
    assert form.validate_trek("the everest one please", None, first, {}) == {"trek": "EBC"}
    assert form.validate_trek(
        "kilimanjaro",
        None,
        make_tracker(CUSTOMER, "k", "inform", slots={"requested_slot": "trek"}),
        {},
    ) == {"trek": "unknown"}


def test_the_party_size_answer_may_come_as_an_inform(world):
    with transaction() as s:
        full, open_ = catalog.departures_of(s, catalog.get_product(s, "ANN"))
    slots = {
        "pending_question": "party_for:2",
        "full_departure_id": full.id,
        "alternative_departure_id": open_.id,
    }
    unclear = run_action(
        ActionInform(), make_tracker(CUSTOMER, "not sure yet", "inform", slots=slots)
    )
    assert unclear.text == texts.ask_party_size()  # still waiting for a number
    ran = run_action(
        ActionInform(),
        make_tracker(CUSTOMER, "we are a family of four", "inform", slots=slots),
    )
    assert ran.texts[0].startswith("✓ Added to waitlist")
    with transaction() as s:
        booking = s.scalar(select(Booking).where(Booking.contact.has(phone=CUSTOMER)))
        assert (booking.status, booking.party_size) == (BookingStatus.WAITLISTED, 4)


@pytest.mark.parametrize("action", [ActionAskPrice(), ActionRecommend()])
def test_the_party_size_answer_read_as_a_question_still_answers_it(world, action):
    with transaction() as s:
        full, open_ = catalog.departures_of(s, catalog.get_product(s, "ANN"))
    slots = {
        "pending_question": "party_for:2",
        "full_departure_id": full.id,
        "alternative_departure_id": open_.id,
        "trek": "ANN",
    }
    intent = "ask_price" if isinstance(action, ActionAskPrice) else "ask_recommendation"
    asked = run_action(action, make_tracker(CUSTOMER, "how much for 4 of us?", intent, slots=slots))
    assert not asked.texts[0].startswith("✓ Added to waitlist")  # a question of its own
    ran = run_action(action, make_tracker(CUSTOMER, "we are a family of four", intent, slots=slots))
    assert ran.texts[0].startswith("✓ Added to waitlist")
    with transaction() as s:
        booking = s.scalar(select(Booking).where(Booking.contact.has(phone=CUSTOMER)))
        assert (booking.status, booking.party_size) == (BookingStatus.WAITLISTED, 4)


def _enquire(text: str, slots: dict[str, str]) -> str:
    return run_action(
        ActionSubmitEnquiry(), make_tracker(CUSTOMER, text, "enquire_trip", slots=slots)
    ).text


def test_what_about_annapurna_instead_switches_the_trek_and_keeps_the_party(world):
    _enquire(
        "do you do Everest Base Camp in April? we are 2 couples",
        {"trek": "EBC", "group_size": "4", "travel_date": "April"},
    )
    answer = _enquire(
        "what about Annapurna instead?", {"trek": "ANN", "group_size": "4", "travel_date": "April"}
    )
    with transaction() as s:
        (lead,) = s.scalars(select(Lead)).all()
        assert lead.product.code == "ANN" and lead.party_size == 4
        assert lead.travel_date_text == "April"
        assert f"changed your enquiry (Ref: {lead.reference}) to Annapurna" in answer
        assert "for 4 people" in answer and "instead of EBC Trek" in answer
        changed = s.scalar(
            select(TimelineEvent).where(TimelineEvent.action == "tms.lead.trek_changed")
        )
        assert changed.content == {"from": "EBC", "to": "ANN", "partySize": 4}
        alerts = s.scalars(
            select(OutboundMessage.body).where(OutboundMessage.recipient_phone == SARAH)
        ).all()
        assert any("changed trek: Everest Base Camp" in body for body in alerts), alerts


def test_a_second_trek_without_instead_is_a_second_enquiry(world):
    _enquire("Everest Base Camp for 2 in April", {"trek": "EBC", "group_size": "2"})
    _enquire("and the Pokhara tour too, for the same dates", {"trek": "PKR", "group_size": "2"})
    with transaction() as s:
        assert sorted(lead.product.code for lead in s.scalars(select(Lead))) == ["EBC", "PKR"]


def test_a_quoted_enquiry_keeps_its_quote_and_the_switch_opens_a_new_one(world):
    from backend.domain.actor import SYSTEM
    from backend.services import leads

    _enquire("Everest Base Camp for 3 in March", {"trek": "EBC", "group_size": "3"})
    with transaction() as s:
        lead = s.scalar(select(Lead))
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        leads.quote_lead(s, lead, departure, 3, SYSTEM)
    _enquire("could we do Annapurna instead?", {"trek": "ANN", "group_size": "3"})
    with transaction() as s:
        found = {lead.product.code: lead for lead in s.scalars(select(Lead))}
        assert set(found) == {"EBC", "ANN"}
        assert found["EBC"].status == LeadStatus.QUOTED and found["ANN"].party_size == 3
