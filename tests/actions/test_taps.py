"""Buttons and list rows: a tap answers the question its payload names, once; an old or
someone else's button says so and changes nothing."""

from sqlalchemy import func, select

from actions.answers import ActionAffirm, ActionDeny
from actions.booking import ActionChooseOption, ActionGiveFeedback
from actions.enquiry import ActionSubmitEnquiry
from actions.guide import ActionGuideIssue, ActionGuideUpdate
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import (
    AssignmentRole,
    AssignmentStatus,
    BookingStatus,
    IncidentStatus,
    LeadStatus,
)
from backend.models import Assignment, Booking, Incident, Lead, OutboundMessage, TimelineEvent, Trip
from backend.services import assignments, attendance, bookings, catalog, contacts, leads, trips
from backend.services import staff as staff_service
from tests.actions.conftest import AMIT, CUSTOMER, RAJESH, make_tracker, payloads, run_action, tap

OTHER_CUSTOMER = "+61499000002"


def _buttons_sent(phone: str, purpose: str) -> dict[str, str]:
    """Title → payload of the latest message of that purpose to that phone, as queued."""
    with transaction() as s:
        row = s.scalar(
            select(OutboundMessage)
            .where(OutboundMessage.recipient_phone == phone, OutboundMessage.purpose == purpose)
            .order_by(OutboundMessage.id.desc())
            .limit(1)
        )
        assert row is not None and row.kind in ("buttons", "list"), row and row.kind
        return {b["title"]: b["id"] for b in row.buttons}


def _offer_to_rajesh() -> str:
    with transaction() as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        trip = trips.ensure_trip(s, departure, SYSTEM)
        rajesh = staff_service.by_phone(s, RAJESH)
        return assignments.offer_assignment(
            s, trip, rajesh, AssignmentRole.LEAD_GUIDE, 800_00, SYSTEM
        ).id


def test_a_guide_accepts_by_tapping_and_a_second_tap_changes_nothing(world):
    assignment_id = _offer_to_rajesh()
    buttons = _buttons_sent(RAJESH, "assignment_offer")
    assert list(buttons) == ["Accept", "Decline"]
    accepted = run_action(ActionAffirm(), tap(RAJESH, buttons["Accept"]))
    assert accepted.texts[0].startswith("✓ Assignment confirmed!")
    again = run_action(ActionAffirm(), tap(RAJESH, buttons["Accept"]))
    assert "already accepted" in again.text
    late_decline = run_action(ActionDeny(), tap(RAJESH, buttons["Decline"]))
    assert "already accepted" in late_decline.text
    with transaction() as s:
        assert s.get(Assignment, assignment_id).status == AssignmentStatus.ACCEPTED
        ops_alerts = s.scalar(
            select(func.count()).where(
                OutboundMessage.purpose == "ops_alert", OutboundMessage.object_id == assignment_id
            )
        )
        assert ops_alerts == 1  # told once, however many taps


def test_another_guide_tapping_a_forwarded_offer_is_refused(world):
    assignment_id = _offer_to_rajesh()
    buttons = _buttons_sent(RAJESH, "assignment_offer")
    ran = run_action(ActionAffirm(), tap(AMIT, buttons["Accept"]))
    assert "no longer applies" in ran.text
    with transaction() as s:
        assert s.get(Assignment, assignment_id).status == AssignmentStatus.OFFERED


def _offered_spot() -> str:
    with transaction() as s:
        full = catalog.departures_of(s, catalog.get_product(s, "ANN"))[0]
        contact = contacts.get_or_create_contact(s, CUSTOMER)
        booking, _ = bookings.waitlist_new_booking(
            s, contact=contact, departure=full, party_size=1, actor=SYSTEM
        )
        seated = s.scalar(
            select(Booking).where(
                Booking.departure_id == full.id, Booking.status == BookingStatus.CONFIRMED
            )
        )
        bookings.cancel_booking(s, seated, SYSTEM)
        assert booking.status == BookingStatus.OFFERED
        return booking.id


def test_confirm_on_a_waitlist_offer_holds_once_and_a_late_decline_is_told(world):
    booking_id = _offered_spot()
    buttons = _buttons_sent(CUSTOMER, "waitlist_offer")
    assert list(buttons) == ["Confirm", "Decline"]
    first = run_action(ActionAffirm(), tap(CUSTOMER, buttons["Confirm"]))
    assert "Spot reserved" in first.text
    second = run_action(ActionAffirm(), tap(CUSTOMER, buttons["Confirm"]))
    assert "Spot reserved" in second.text  # the same answer, nothing new
    late = run_action(ActionDeny(), tap(CUSTOMER, buttons["Decline"]))
    assert "no longer open" in late.text
    with transaction() as s:
        assert s.get(Booking, booking_id).status == BookingStatus.HELD


def test_decline_on_a_waitlist_offer_keeps_the_place_and_a_later_confirm_has_expired(world):
    booking_id = _offered_spot()
    buttons = _buttons_sent(CUSTOMER, "waitlist_offer")
    declined = run_action(ActionDeny(), tap(CUSTOMER, buttons["Decline"]))
    assert "you stay on the waitlist" in declined.text
    late = run_action(ActionAffirm(), tap(CUSTOMER, buttons["Confirm"]))
    assert "no longer open" in late.text
    with transaction() as s:
        assert s.get(Booking, booking_id).status == BookingStatus.WAITLISTED


def _quoted_lead(phone: str = CUSTOMER) -> str:
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, phone)
        conversation, _ = contacts.get_or_open_conversation(s, contact)
        product = catalog.get_product(s, "EBC")
        lead = leads.open_enquiry(
            s,
            contact=contact,
            conversation=conversation,
            product=product,
            party_size=3,
            travel_date_text="March",
            enquiry_text="EBC for 3 in March",
            actor=SYSTEM,
        )
        leads.send_quote(s, lead, catalog.departures_of(s, product)[0], 3, SYSTEM)
        return lead.id


def test_hold_my_seats_on_the_quote_holds_once(world):
    lead_id = _quoted_lead()
    buttons = _buttons_sent(CUSTOMER, "quote")
    assert list(buttons) == ["Hold my seats", "Not now"]
    held = run_action(ActionAffirm(), tap(CUSTOMER, buttons["Hold my seats"]))
    assert held.texts[0].startswith("Perfect! I've reserved 3 spots")
    again = run_action(ActionAffirm(), tap(CUSTOMER, buttons["Hold my seats"]))
    assert "already held" in again.text
    with transaction() as s:
        assert s.get(Lead, lead_id).status == LeadStatus.WON
        assert s.scalar(select(func.count()).where(Booking.lead_id == lead_id)) == 1


def test_not_now_keeps_the_quote_and_someone_elses_quote_button_does_nothing(world):
    lead_id = _quoted_lead()
    buttons = _buttons_sent(CUSTOMER, "quote")
    later = run_action(ActionDeny(), tap(CUSTOMER, buttons["Not now"]))
    assert "reply HOLD whenever you are ready" in later.text
    stranger = run_action(ActionAffirm(), tap(OTHER_CUSTOMER, buttons["Hold my seats"]))
    assert "no longer applies" in stranger.text
    with transaction() as s:
        assert s.get(Lead, lead_id).status == LeadStatus.QUOTED
        assert s.scalar(select(func.count()).where(Booking.lead_id == lead_id)) == 0


def test_the_full_departure_options_are_a_list_and_a_repeated_row_tap_books_once(world):
    with transaction() as s:
        full, open_ = catalog.departures_of(s, catalog.get_product(s, "ANN"))
        day = f"{full.start_date:%B} {full.start_date.day}"
    ran = run_action(
        ActionSubmitEnquiry(),
        tap(
            CUSTOMER, "/enquire_trip", slots={"trek": "ANN", "travel_date": day, "group_size": "2"}
        ),
    )
    rows = ran.buttons[0]
    assert [r["title"] for r in rows] == [
        f"Book {open_.start_date:%b} {open_.start_date.day}",
        f"Waitlist {full.start_date:%b} {full.start_date.day}",
        "See other dates",
    ]
    assert all(r["description"] for r in rows)  # descriptions make it a list, not buttons
    waitlist_row = payloads(ran)[rows[1]["title"]]
    # A day later, with no slots left from that conversation, the row still means that date.
    first = run_action(ActionChooseOption(), tap(CUSTOMER, waitlist_row, slots={"group_size": "2"}))
    assert first.texts[0].startswith("✓ Added to waitlist")
    second = run_action(
        ActionChooseOption(), tap(CUSTOMER, waitlist_row, slots={"group_size": "2"})
    )
    assert "Position: #" in second.text and "Added to waitlist" not in second.text
    with transaction() as s:
        assert (
            s.scalar(
                select(func.count()).where(
                    Booking.departure_id == full.id,
                    Booking.status == BookingStatus.WAITLISTED,
                    Booking.lead_id.is_not(None),
                )
            )
            == 1
        )


def test_the_rating_list_rates_once(world):
    with transaction() as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS"))
        guest = trips.guests_of(s, trip)[0].contact.phone
        attendance.check_out(s, trip, staff_service.by_phone(s, AMIT), "All safe", SYSTEM)
    rows = _buttons_sent(guest, "feedback_request")
    assert len(rows) == 5 and next(iter(rows)).startswith("⭐⭐⭐⭐⭐")
    four = next(payload for title, payload in rows.items() if title.startswith("⭐⭐⭐⭐ "))
    rated = run_action(ActionGiveFeedback(), tap(guest, four))
    assert "⭐⭐⭐⭐" in rated.text
    five = next(payload for title, payload in rows.items() if title.startswith("⭐⭐⭐⭐⭐"))
    again = run_action(ActionGiveFeedback(), tap(guest, five))
    assert "already have your rating (⭐⭐⭐⭐)" in again.text
    with transaction() as s:
        ratings = s.scalars(
            select(Booking.feedback_rating).where(Booking.feedback_rating.is_not(None))
        ).all()
        assert ratings == [4]


def test_yes_on_is_it_resolved_resolves_once_and_not_for_another_guide(world):
    with transaction() as s:
        reference = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS")).reference
    run_action(
        ActionGuideIssue(),
        make_tracker(AMIT, f"ISSUE {reference} Vehicle breakdown, guests waiting", "guide_issue"),
    )
    unclear = run_action(
        ActionGuideUpdate(),
        make_tracker(AMIT, f"UPDATE {reference} no longer stuck? not sure", "guide_update"),
    )
    buttons = payloads(unclear)
    assert '"answer_to":"resolved:' in buttons["Yes"]
    stranger = run_action(ActionAffirm(), tap(RAJESH, buttons["Yes"]))
    assert "no longer applies" in stranger.text
    yes = run_action(ActionAffirm(), tap(AMIT, buttons["Yes"]))
    assert yes.texts[0].startswith("✓ RESOLVED")
    again = run_action(ActionAffirm(), tap(AMIT, buttons["Yes"]))
    assert again.texts[0].startswith("✓ RESOLVED")  # told again, nothing done twice
    with transaction() as s:
        incident = s.scalar(select(Incident))
        assert incident.status == IncidentStatus.RESOLVED
        resolutions = s.scalar(
            select(func.count()).where(
                TimelineEvent.object_id == incident.id,
                TimelineEvent.action == "tms.incident.status.resolved",
            )
        )
        assert resolutions == 1
