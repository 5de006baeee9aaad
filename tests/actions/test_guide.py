"""Guide commands: only assigned staff, helpful refusals, and the workflows' effects."""

from sqlalchemy import select

from actions.answers import ActionAffirm, ActionDeny
from actions.guide import (
    ActionGuideCheckin,
    ActionGuideCheckout,
    ActionGuideIssue,
    ActionGuideUpdate,
)
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import (
    AssignmentRole,
    AttendanceStatus,
    BookingStatus,
    IncidentStatus,
    Severity,
    TripStatus,
)
from backend.models import Attendance, Incident, OutboundMessage, PayrollEntry, Trip
from backend.services import assignments, catalog, trips
from backend.services import staff as staff_service
from devkit.demo_data import STORY
from tests.actions.conftest import AMIT, CUSTOMER, OPS, RAJESH, make_tracker, run_action


def _ebc_trip_offered_to_rajesh():
    with transaction() as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff_service.by_phone(s, RAJESH)
        assignments.offer_assignment(s, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM)
        return trip.reference


def test_accept_confirms_the_assignment(world):
    reference = _ebc_trip_offered_to_rajesh()
    with transaction() as s:
        offer = s.scalar(select(OutboundMessage).where(OutboundMessage.recipient_phone == RAJESH))
        assert offer.body.startswith("📋 Trip Assignment") and "Compensation: $800" in offer.body
        assert "Role: Lead Guide" in offer.body and "Group: 9 people" in offer.body
    ran = run_action(ActionAffirm(), make_tracker(RAJESH, "Accept", "affirm"))
    assert ran.texts[0].startswith("✓ Assignment confirmed!")
    assert (
        "Start date: March 15, 6:00 AM" in ran.text
        and "Meeting point: Kathmandu Airport" in ran.text
    )
    with transaction() as s:
        trip = trips.find_trip(s, reference)
        assert assignments.lead_guide(s, trip).phone == RAJESH


def test_checkin_by_a_customer_or_an_unassigned_guide_is_refused(world):
    reference = _ebc_trip_offered_to_rajesh()
    customer = run_action(
        ActionGuideCheckin(), make_tracker(CUSTOMER, f"CHECKIN {reference}", "guide_checkin")
    )
    # A customer typing a guide's command word is a customer with a question: a person answers.
    assert "passed your message to our team" in customer.text
    with transaction() as s:
        told = s.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "rep_alert")
        ).all()
        assert told and all(f"CHECKIN {reference}" in m.body for m in told)
    unassigned = run_action(
        ActionGuideCheckin(), make_tracker(AMIT, f"CHECKIN {reference}", "guide_checkin")
    )
    assert f"I couldn't find {reference}" in unassigned.text
    not_accepted = run_action(
        ActionGuideCheckin(), make_tracker(RAJESH, f"CHECKIN {reference}", "guide_checkin")
    )
    assert f"I couldn't find {reference}" in not_accepted.text
    with transaction() as s:
        assert trips.find_trip(s, reference).status == TripStatus.SCHEDULED


def test_missing_or_unknown_reference_gets_the_format(world):
    missing = run_action(ActionGuideCheckin(), make_tracker(AMIT, "CHECKIN", "guide_checkin"))
    assert "Send it like this: CHECKIN TRP2501234" in missing.text
    unknown = run_action(
        ActionGuideCheckin(), make_tracker(AMIT, "CHECKIN TRP9901999", "guide_checkin")
    )
    assert "I couldn't find TRP9901999" in unknown.text


def test_someone_elses_trip_gets_the_same_answer_as_no_trip(world):
    """Word for word (the reference aside): otherwise any guide could probe which references
    are real trips."""
    real = _ebc_trip_offered_to_rajesh()
    # Same shape and length as the real one, so that only existence differs.
    unknown_reference = real[:-3] + ("999" if not real.endswith("999") else "998")
    with transaction() as s:
        assert s.scalar(select(Trip).where(Trip.reference == unknown_reference)) is None
    for action, command, intent, note in (
        (ActionGuideCheckin, "CHECKIN", "guide_checkin", ""),
        (ActionGuideIssue, "ISSUE", "guide_issue", " rockfall near Namche"),
        (ActionGuideUpdate, "UPDATE", "guide_update", " all fine"),
        (ActionGuideCheckout, "CHECKOUT", "guide_checkout", ""),
    ):
        not_theirs = run_action(action(), make_tracker(AMIT, f"{command} {real}{note}", intent))
        missing = run_action(
            action(), make_tracker(AMIT, f"{command} {unknown_reference}{note}", intent)
        )
        assert not_theirs.texts == [t.replace(unknown_reference, real) for t in missing.texts]
        assert f"I couldn't find {real}" in not_theirs.text
    with transaction() as s:
        assert trips.find_trip(s, real).status == TripStatus.SCHEDULED
        assert s.scalar(select(Incident)) is None


def test_workflow_1_checkin_issue_checkout(world, story_clock):
    reference = _ebc_trip_offered_to_rajesh()
    run_action(ActionAffirm(), make_tracker(RAJESH, "Accept", "affirm"))
    story_clock.at(STORY.ebc_start, "06:00")
    with transaction() as s:
        trip_id = s.scalar(select(Trip).where(Trip.reference == reference)).id
        booking_ref = trips.guests_of(s, s.get(Trip, trip_id))[0].reference
    # The workflow's guide checks in with a booking-style reference, in any case.
    ran = run_action(
        ActionGuideCheckin(),
        make_tracker(RAJESH, f"CHECKIN {booking_ref.lower()}", "guide_checkin"),
    )
    assert ran.texts[0].startswith("✓ Checked in to EBC Trek") and "Duration: 14 days" in ran.text
    assert "Group: 9 guests" in ran.text
    with transaction() as s:
        trip = s.get(Trip, trip_id)
        assert trip.status == TripStatus.IN_PROGRESS
        assert s.scalar(select(Attendance)).status in (AttendanceStatus.ON_TRIP,)
        guests = {b.contact.phone for b in trips.guests_of(s, trip)}
        told = {
            m.recipient_phone
            for m in s.scalars(
                select(OutboundMessage).where(OutboundMessage.purpose == "trip_started")
            )
        }
        assert told == guests
        started = s.scalar(select(OutboundMessage).where(OutboundMessage.purpose == "trip_started"))
        assert "Lead Guide: Rajesh Kumar" in started.body and f"Contact: {RAJESH}" in started.body
        assert s.scalar(
            select(OutboundMessage).where(
                OutboundMessage.recipient_phone == OPS,
                OutboundMessage.body.contains("Trip started"),
            )
        )
    issue = run_action(
        ActionGuideIssue(),
        make_tracker(
            RAJESH,
            f"ISSUE {reference} One guest showing altitude sickness symptoms. Monitoring closely. May need early descent.",
            "guide_issue",
        ),
    )
    assert issue.texts[0].startswith("⚠️ Issue logged") and "Severity: Medium" in issue.text
    with transaction() as s:
        incident = s.scalar(select(Incident))
        assert incident.severity == Severity.MEDIUM and incident.status == IncidentStatus.OPEN
        assert s.scalar(
            select(OutboundMessage).where(
                OutboundMessage.recipient_phone == OPS,
                OutboundMessage.purpose == "ops_alert",
                OutboundMessage.body.contains("altitude"),
            )
        )
    checkout = run_action(
        ActionGuideCheckout(),
        make_tracker(
            RAJESH,
            f"CHECKOUT {reference} Trip completed successfully! All 12 guests safe. Amazing journey! 🎉",
            "guide_checkout",
        ),
    )
    assert (
        checkout.texts[0].startswith("✓ Trip completed!")
        and "Payroll: $800 added." in checkout.text
    )
    with transaction() as s:
        trip = s.get(Trip, trip_id)
        assert trip.status == TripStatus.ENDED
        assert s.scalar(select(PayrollEntry)).amount_minor == 800_00
        assert all(b.status == BookingStatus.COMPLETED for b in trips.guests_of(s, trip))
        asked = s.scalars(
            select(OutboundMessage).where(OutboundMessage.purpose == "feedback_request")
        ).all()
        assert len(asked) == 3


def test_workflow_3_issue_high_then_update_resolves(world):
    with transaction() as s:
        pokhara = catalog.departures_of(s, catalog.get_product(s, "PKR"))[0]
        reference = trips.ensure_trip(s, pokhara, SYSTEM).reference
    issue = run_action(
        ActionGuideIssue(),
        make_tracker(
            AMIT,
            f"ISSUE {reference} Vehicle breakdown at Pokhara checkpoint. Engine failure. 15 guests waiting.",
            "guide_issue",
        ),
    )
    assert "Severity: High" in issue.text
    with transaction() as s:
        alert = s.scalar(
            select(OutboundMessage).where(OutboundMessage.purpose == "ops_urgent_alert")
        )
        assert alert.recipient_phone == OPS and "URGENT" in alert.body
    progress = run_action(
        ActionGuideUpdate(),
        make_tracker(AMIT, f"UPDATE {reference} mechanic looking at it", "guide_update"),
    )
    assert "Update added" in progress.text
    done = run_action(
        ActionGuideUpdate(),
        make_tracker(
            AMIT,
            f"UPDATE {reference} Backup vehicle arrived. Guests transferred. Resuming journey. All good!",
            "guide_update",
        ),
    )
    assert done.texts[0].startswith("✓ RESOLVED") and "Response time: 0 minutes" in done.text
    with transaction() as s:
        assert s.scalar(select(Incident)).status == IncidentStatus.RESOLVED


def _pokhara_issue(reporter: str = AMIT) -> str:
    with transaction() as s:
        pokhara = catalog.departures_of(s, catalog.get_product(s, "PKR"))[0]
        reference = trips.ensure_trip(s, pokhara, SYSTEM).reference
    run_action(
        ActionGuideIssue(),
        make_tracker(reporter, f"ISSUE {reference} Bus broke down near Mugling", "guide_issue"),
    )
    return reference


def _guest_notices() -> int:
    with transaction() as s:
        return len(
            s.scalars(
                select(OutboundMessage).where(OutboundMessage.purpose == "customer_update")
            ).all()
        )


def test_an_update_that_says_not_resolved_leaves_the_incident_open(world):
    reference = _pokhara_issue()
    for words in ("the backup vehicle has not arrived yet", "not resolved, still waiting"):
        ran = run_action(
            ActionGuideUpdate(), make_tracker(AMIT, f"UPDATE {reference} {words}", "guide_update")
        )
        assert "the issue stays open" in ran.text and not ran.buttons[0]
    with transaction() as s:
        assert s.scalar(select(Incident)).status == IncidentStatus.OPEN
    assert _guest_notices() == 0


def test_an_unclear_update_asks_the_guide_and_tells_guests_nothing_until_yes(world):
    reference = _pokhara_issue()
    unclear = run_action(
        ActionGuideUpdate(),
        make_tracker(AMIT, f"UPDATE {reference} no longer stuck? not sure", "guide_update"),
    )
    assert unclear.text.endswith("Is the issue resolved?")
    assert [b["title"] for b in unclear.buttons[0]] == ["Yes", "No"]
    pending = unclear.slot("pending_question")
    assert pending.startswith("resolved:")
    with transaction() as s:
        assert s.scalar(select(Incident)).status == IncidentStatus.OPEN
    no = run_action(
        ActionDeny(), make_tracker(AMIT, "No", "deny", slots={"pending_question": pending})
    )
    assert "the issue stays open" in no.text
    yes = run_action(
        ActionAffirm(), make_tracker(AMIT, "Yes", "affirm", slots={"pending_question": pending})
    )
    assert yes.texts[0].startswith("✓ RESOLVED") and yes.slot("pending_question") is None
    with transaction() as s:
        assert s.scalar(select(Incident)).status == IncidentStatus.RESOLVED


def test_no_injuries_is_not_a_critical_incident(world):
    with transaction() as s:
        pokhara = catalog.departures_of(s, catalog.get_product(s, "PKR"))[0]
        reference = trips.ensure_trip(s, pokhara, SYSTEM).reference
    ran = run_action(
        ActionGuideIssue(),
        make_tracker(
            AMIT,
            f"ISSUE {reference} Minor scrape on the bus. No injuries, everyone is fine",
            "guide_issue",
        ),
    )
    assert "Severity: Low" in ran.text
    with transaction() as s:
        assert s.scalar(select(Incident)).severity == Severity.LOW


def test_a_refused_command_names_the_guides_current_trips(world):
    with transaction() as s:
        pokhara = catalog.departures_of(s, catalog.get_product(s, "PKR"))[0]
        reference = trips.ensure_trip(s, pokhara, SYSTEM).reference
    unknown = run_action(
        ActionGuideCheckin(), make_tracker(AMIT, "CHECKIN TRP9901999", "guide_checkin")
    )
    assert "I couldn't find TRP9901999" in unknown.text
    assert f"Your trips:\n• {reference}: Pokhara Sightseeing" in unknown.text
    assert "(under way)" in unknown.text
    not_mine = _ebc_trip_offered_to_rajesh()
    refused = run_action(
        ActionGuideIssue(), make_tracker(AMIT, f"issue {not_mine.lower()} help", "guide_issue")
    )
    assert f"I couldn't find {not_mine.lower()}" in refused.text and reference in refused.text
    nothing = run_action(
        ActionGuideCheckin(), make_tracker(RAJESH, "CHECKIN TRP9901999", "guide_checkin")
    )
    assert "You have no trips assigned right now." in nothing.text


def test_checkout_with_an_open_incident_asks_operations_to_close_it(world):
    reference = _pokhara_issue()
    ran = run_action(
        ActionGuideCheckout(),
        make_tracker(AMIT, f"CHECKOUT {reference} back in Pokhara", "guide_checkout"),
    )
    assert ran.texts[0].startswith("✓ Trip completed!")
    assert "is still open. Ops have been asked to close it." in ran.text
    with transaction() as s:
        asks = [
            m
            for m in s.scalars(
                select(OutboundMessage).where(OutboundMessage.recipient_phone == OPS)
            )
            if "checked out with an issue still open" in (m.body or "")
        ]
        assert len(asks) == 1


def test_a_stale_is_it_resolved_question_does_not_swallow_a_later_accept(world, story_clock):
    reference = _pokhara_issue()
    unclear = run_action(
        ActionGuideUpdate(),
        make_tracker(AMIT, f"UPDATE {reference} maybe sorted?", "guide_update"),
    )
    pending = unclear.slot("pending_question")
    # A day later operations offer Amit another trip; he answers ACCEPT.
    story_clock.advance(hours=24)
    with transaction() as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        trip = trips.ensure_trip(s, departure, SYSTEM)
        amit = staff_service.by_phone(s, AMIT)
        assignments.offer_assignment(s, trip, amit, AssignmentRole.ASSISTANT_GUIDE, 500_00, SYSTEM)
    ran = run_action(
        ActionAffirm(), make_tracker(AMIT, "ACCEPT", "affirm", slots={"pending_question": pending})
    )
    assert ran.texts[0].startswith("✓ Assignment confirmed!")
    with transaction() as s:
        assert s.scalar(select(Incident)).status == IncidentStatus.OPEN  # untouched
    # And with no offer waiting, a Yes that late is not taken as "resolved" either.
    late = run_action(
        ActionAffirm(), make_tracker(AMIT, "yes", "affirm", slots={"pending_question": pending})
    )
    assert not late.texts[0].startswith("✓ RESOLVED")
    with transaction() as s:
        assert s.scalar(select(Incident)).status == IncidentStatus.OPEN
