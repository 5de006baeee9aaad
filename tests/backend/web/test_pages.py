"""The customers' pages against the real backend (its own process) on PostgreSQL: signed links
only, the page and the chat telling the same story, money taken once."""

from __future__ import annotations

import concurrent.futures
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from backend import clock, links
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import BookingStatus, ObjectType, PaymentStatus, Role
from backend.models import (
    Booking,
    Conversation,
    Incident,
    OutboundMessage,
    Payment,
    TimelineEvent,
    Trip,
)
from backend.services import (
    attendance,
    bookings,
    catalog,
    contacts,
    feedback,
    incidents,
    inventory,
    staff,
    trips,
    waitlist,
)
from tests.conftest import load_demo_world


def _get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=30, follow_redirects=False)


def _post(url: str, data: dict[str, str]) -> httpx.Response:
    return httpx.post(url, data=data, timeout=30, follow_redirects=False)


def _text(answer: httpx.Response) -> str:
    """The page as a person reads it: tags dropped, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text)).replace(" ,", ",")


@pytest.fixture
def world(backend_url, pg_db_url, story_clock):
    load_demo_world(pg_db_url)
    return backend_url


def _hold(pg_db_url: str, *, email: str | None = "anna@example.com") -> str:
    """A new customer's hold on the March 15 EBC departure (3 people); its reference key."""
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        contact = contacts.get_or_create_contact(s, "+61499600001", name="Anna Berg")
        contact.email = email
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=3, actor=SYSTEM
        )
        return booking.ref_key


def _booking(pg_db_url: str, key: str) -> Booking:
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        assert booking is not None
        s.expunge(booking)
        return booking


def _payments(pg_db_url: str, key: str) -> int:
    with transaction(pg_db_url) as s:
        return int(
            s.scalar(
                select(func.count())
                .select_from(Payment)
                .join(Booking, Booking.id == Payment.booking_id)
                .where(Booking.ref_key == key)
            )
            or 0
        )


# -- tokens ---------------------------------------------------------------------------------------
def test_a_booking_reference_alone_opens_nothing(world, pg_db_url):
    key = _hold(pg_db_url)
    for page in ("pay", "book", "track", "feedback"):
        answer = _get(f"{world}/{page}/{key}")
        assert answer.status_code == 404, page
        assert "Reply on WhatsApp" in _text(answer)
        assert key not in answer.text


def test_tampered_other_purpose_and_expired_tokens_are_refused_and_change_nothing(
    world, pg_db_url, story_clock
):
    key = _hold(pg_db_url)
    token = links.token_for("pay", key, kind="deposit")
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    track_token = links.token_for("track", key)
    for bad in (tampered, track_token, token.replace(".", "", 1)):
        answer = _post(f"{world}/pay/{bad}", {"kind": "deposit"})
        assert answer.status_code == 404
        assert "This link doesn't work" in _text(answer)
    # The same token past its lifetime (every process's clock moved on).
    story_clock.advance(days=links.LIFETIMES["pay"].days + 1)
    answer = _post(f"{world}/pay/{token}", {"kind": "deposit"})
    assert answer.status_code == 410
    assert "This link has expired" in _text(answer)
    assert _payments(pg_db_url, key) == 0
    assert _booking(pg_db_url, key).payment_status == PaymentStatus.UNPAID


def test_a_token_signed_with_another_secret_is_refused(world, pg_db_url, monkeypatch):
    key = _hold(pg_db_url)
    with monkeypatch.context() as m:
        m.setenv("LINK_SECRET", "someone-elses-secret-0123456789")
        forged = links.token_for("pay", key)
    assert links.read("pay", links.token_for("pay", key)).reference_key == key
    assert _get(f"{world}/pay/{forged}").status_code == 404


# -- pay ------------------------------------------------------------------------------------------
def test_the_pay_page_shows_what_is_due_and_takes_the_deposit(world, pg_db_url):
    key = _hold(pg_db_url)
    url = f"{world}/pay/{links.token_for('pay', key)}"
    page = _text(_get(url))
    assert "Pay deposit (30%) $2,052" in page and "Pay full amount $6,840" in page
    assert "Hold expires" in page
    answer = _post(url, {"kind": "deposit"})
    assert answer.status_code == 303 and answer.headers["location"].endswith("?paid=1")
    booking = _booking(pg_db_url, key)
    assert (booking.status, booking.payment_status) == ("CONFIRMED", "DEPOSIT_PAID")
    after = _text(_get(url + "?paid=1"))
    assert "Payment received ✓" in after
    assert "Pay balance $4,788" in after and "Pay deposit" not in after


def test_paying_twice_through_a_stale_link_takes_no_money(world, pg_db_url):
    key = _hold(pg_db_url)
    deposit_link = f"{world}/pay/{links.token_for('pay', key, kind='deposit')}"
    assert _post(deposit_link, {"kind": "deposit"}).status_code == 303
    # The same page again (a second tab, the back button): nothing is charged.
    stale = _post(deposit_link, {"kind": "deposit"})
    assert stale.status_code == 409
    assert "Nothing was charged" in _text(stale)
    assert _payments(pg_db_url, key) == 1
    # The deposit link now says it is paid and offers what is still owed.
    page = _text(_get(deposit_link))
    assert "That payment is already made ✓" in page and "Pay balance" in page
    # Paying the balance, then every link says paid in full.
    assert _post(deposit_link, {"kind": "balance"}).status_code == 303
    for kind in ("deposit", "full", "balance", None):
        page = _text(_get(f"{world}/pay/{links.token_for('pay', key, kind=kind)}"))
        assert "Paid in full ✓" in page and "<button" not in page
        assert (
            _post(
                f"{world}/pay/{links.token_for('pay', key, kind=kind)}", {"kind": "full"}
            ).status_code
            == 409
        )
    assert _payments(pg_db_url, key) == 2
    booking = _booking(pg_db_url, key)
    assert booking.paid_minor == booking.total_minor


def test_two_tabs_paying_at_the_same_moment_pay_once(world, pg_db_url):
    key = _hold(pg_db_url)
    url = f"{world}/pay/{links.token_for('pay', key)}"
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: _post(url, {"kind": "deposit"}), range(4)))
    assert {a.status_code for a in answers} <= {303, 409}
    assert _payments(pg_db_url, key) == 1
    assert _booking(pg_db_url, key).paid_minor == _booking(pg_db_url, key).deposit_minor


def test_a_lapsed_hold_cannot_be_paid_on_the_page(world, pg_db_url, story_clock):
    key = _hold(pg_db_url)
    url = f"{world}/pay/{links.token_for('pay', key)}"
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        bookings.cancel_booking(s, booking, SYSTEM, reason="test")
    page = _get(url)
    assert "This booking is no longer open" in _text(page) and "<button" not in page.text
    assert _post(url, {"kind": "deposit"}).status_code == 409
    assert _payments(pg_db_url, key) == 0


def test_pages_are_private_and_cannot_be_framed(world, pg_db_url):
    key = _hold(pg_db_url)
    answer = _get(f"{world}/pay/{links.token_for('pay', key)}")
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert "Adventure Treks" in answer.text  # the operator's name


# -- book -----------------------------------------------------------------------------------------
def _offer(pg_db_url: str) -> str:
    """Free three seats on the full Annapurna departure: the first waitlisted party (2) gets
    the offer. Its reference key."""
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "ANN"))[0]
        confirmed = s.scalar(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status == "CONFIRMED")
            .limit(1)
        )
        bookings.cancel_booking(s, confirmed, SYSTEM, reason="a guest cancelled")
        offered = s.scalar(
            select(Booking).where(
                Booking.departure_id == departure.id, Booking.status == BookingStatus.OFFERED
            )
        )
        assert offered is not None
        return offered.ref_key


def _messages_to_booking(pg_db_url: str, key: str) -> list[str]:
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        return [
            m.body or ""
            for m in s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.contact_id == booking.contact_id)
                .order_by(OutboundMessage.id)
            )
        ]


def test_the_book_page_confirms_an_offer_and_the_chat_agrees(world, pg_db_url):
    key = _offer(pg_db_url)
    url = f"{world}/book/{links.token_for('book', key)}"
    page = _get(url)
    assert "A spot is available!" in _text(page)
    seconds = int(re.search(r'data-seconds-left="(\d+)"', page.text).group(1))
    assert 2 * 3600 - 120 <= seconds <= 2 * 3600
    with transaction(pg_db_url) as s:
        offered = s.scalars(select(Booking).where(Booking.ref_key == key)).one()
        chat, _ = contacts.get_or_open_conversation(s, offered.contact)
        chat_id = chat.id
    answer = _post(url, {"answer": "confirm"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/pay/")
    booking = _booking(pg_db_url, key)
    assert booking.status == BookingStatus.HELD
    with transaction(pg_db_url) as s:
        # As after CONFIRM in the chat (leads.accept_waitlist_offer): the chat is about it now.
        chat = s.get(Conversation, chat_id)
        assert (chat.object_type, chat.object_id) == (ObjectType.BOOKING, booking.id)
    with transaction(pg_db_url) as s:
        # The hold's timer is the waitlist's 30 minutes, as after CONFIRM in the chat.
        active = inventory.active_hold(s, s.scalar(select(Booking).where(Booking.ref_key == key)))
        assert active is not None
        assert abs((active.expires_at - clock.now()) - timedelta(minutes=30)) < timedelta(minutes=1)
    # The chat got the same news, with the pay link.
    assert any("Spot reserved!" in m and "/pay/" in m for m in _messages_to_booking(pg_db_url, key))
    # The pay page it redirected to offers the full amount for the 2 people.
    pay_page = _text(_get(world + answer.headers["location"]))
    assert "Pay full amount $3,600" in pay_page
    # And the book page now says so; confirming again changes nothing.
    assert "Spot reserved ✓" in _text(_get(url))
    assert _post(url, {"answer": "confirm"}).status_code == 303
    assert _booking(pg_db_url, key).status == BookingStatus.HELD


def test_confirming_in_the_chat_makes_the_book_page_say_so(world, pg_db_url):
    key = _offer(pg_db_url)
    url = f"{world}/book/{links.token_for('book', key)}"
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        waitlist.accept_offer(s, booking, SYSTEM)  # what CONFIRM in the chat calls
    page = _text(_get(url))
    assert "Spot reserved ✓" in page and "Confirm: book it" not in page


def test_declining_on_the_page_keeps_the_place_and_tells_the_chat(world, pg_db_url):
    key = _offer(pg_db_url)
    url = f"{world}/book/{links.token_for('book', key)}"
    assert _post(url, {"answer": "decline"}).status_code == 303
    assert _booking(pg_db_url, key).status == BookingStatus.WAITLISTED
    assert "You're on the waitlist" in _text(_get(url))
    assert any("you stay on the waitlist" in m for m in _messages_to_booking(pg_db_url, key))


def test_an_expired_offer_says_it_passed_to_the_next_in_line(world, pg_db_url, story_clock):
    key = _offer(pg_db_url)
    url = f"{world}/book/{links.token_for('book', key)}"
    story_clock.advance(hours=2, minutes=1)
    page = _text(_get(url))
    assert "This offer has passed" in page and "next person in line" in page
    assert _post(url, {"answer": "confirm"}).status_code == 303
    assert _booking(pg_db_url, key).status != BookingStatus.HELD


# -- track ----------------------------------------------------------------------------------------
def _pokhara(pg_db_url: str) -> tuple[str, str, str]:
    """The Pokhara trip under way (workflow 3): two of its bookings, and a booking on EBC."""
    with transaction(pg_db_url) as s:
        trip = s.scalar(
            select(Trip).join(Trip.departure).where(Trip.status == "IN_PROGRESS").limit(1)
        )
        guests = trips.guests_of(s, trip)
        ebc = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        other = s.scalar(select(Booking).where(Booking.departure_id == ebc.id).limit(1))
        return guests[0].ref_key, guests[1].ref_key, other.ref_key


def test_the_track_page_shows_the_trip_and_an_incident_notice_to_its_guests_only(world, pg_db_url):
    mine, fellow, elsewhere = _pokhara(pg_db_url)
    url = f"{world}/track/{links.token_for('track', mine)}"
    page = _text(_get(url))
    assert "Under way" in page and "Amit Sharma" in page and "Lakeside, Pokhara" in page
    assert "Pokhara in a day" in page and "Checked in" in page
    assert "Travel update" not in page
    with transaction(pg_db_url) as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS"))
        amit = staff.by_phone(s, "+9779801000004")
        incident = incidents.report_incident(
            s, trip, amit, "Vehicle breakdown near Pokhara, AC not working", SYSTEM
        )
        incidents.ops_update(
            s,
            incident,
            SYSTEM,
            message_to_guests="Minor vehicle issue. Backup vehicle arriving in 30 minutes.",
        )
        fellow_booking = s.scalar(select(Booking).where(Booking.ref_key == fellow))
        incidents.ops_update(
            s,
            incident,
            SYSTEM,
            message_to_bookings={fellow_booking.id: "We have your lost sunglasses."},
        )
    page = _get(url)
    assert "Backup vehicle arriving in 30 minutes" in _text(page)
    assert "sunglasses" not in page.text  # another guest's own notice
    assert fellow.upper() not in page.text and mine in _text(page).replace("-", "")
    assert '<meta http-equiv="refresh" content="60">' in page.text
    # A guest of another trip sees nothing of it.
    other = _text(_get(f"{world}/track/{links.token_for('track', elsewhere)}"))
    assert "Backup vehicle" not in other and "Amit Sharma" not in other
    # Resolved: the notice is gone.
    with transaction(pg_db_url) as s:
        incident = s.scalar(select(Incident).where(Incident.trip_id == trip.id))
        incidents.resolve_from_field(s, incident, "resolved", SYSTEM)
    assert "Backup vehicle" not in _text(_get(url))


# -- feedback -------------------------------------------------------------------------------------
def _finish_pokhara(pg_db_url: str) -> list[str]:
    with transaction(pg_db_url) as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS"))
        amit = staff.by_phone(s, "+9779801000004")
        guests = [b.ref_key for b in trips.guests_of(s, trip)]
        attendance.check_out(s, trip, amit, "All safe", SYSTEM)
        return guests


def test_feedback_opens_when_the_trip_ends_and_counts(world, pg_db_url):
    mine = _pokhara(pg_db_url)[0]
    url = f"{world}/feedback/{links.token_for('feedback', mine)}"
    assert "once it has ended" in _text(_get(url))
    assert _post(url, {"rating": "5"}).status_code == 400  # not yet
    _finish_pokhara(pg_db_url)
    assert "Tap a star" in _text(_get(url))
    assert _post(url, {"rating": "9", "comment": ""}).status_code == 400
    answer = _post(url, {"rating": "5", "comment": "Amit was wonderful"})
    assert answer.status_code == 303
    assert "Thank you!" in _text(_get(world + answer.headers["location"]))
    booking = _booking(pg_db_url, mine)
    assert booking.feedback_rating == 5 and "Amit was wonderful" in (booking.feedback or "")
    with transaction(pg_db_url) as s:
        figures = feedback.satisfaction(s)
        actions = set(s.scalars(select(TimelineEvent.action)))
        amit = staff.by_phone(s, "+9779801000004")
        assert feedback.guide_performance(s, amit).average == 5.0
    assert figures["count"] == 1 and figures["average"] == 5.0
    assert figures["guides"][0]["name"] == "Amit Sharma"
    assert {"tms.booking.feedback", "tms.trip.feedback.received"} <= actions


def test_ratings_from_the_page_and_the_chat_both_count(world, pg_db_url):
    first, second = _pokhara(pg_db_url)[:2]
    _finish_pokhara(pg_db_url)
    assert (
        _post(f"{world}/feedback/{links.token_for('feedback', first)}", {"rating": "4"}).status_code
        == 303
    )
    with transaction(pg_db_url) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == second))
        assert feedback.awaiting_rating(s, booking.contact) is not None
        feedback.give(s, booking, rating=2, comment="", actor=SYSTEM, channel="chat")
        assert feedback.awaiting_rating(s, booking.contact) is None
        figures = feedback.satisfaction(s)
    assert (figures["count"], figures["average"], figures["distribution"]) == (
        2,
        3.0,
        {"2": 1, "4": 1},
    )


def test_staff_roles_unchanged_by_pages(world, pg_db_url):
    """The pages never need a staff token, and a staff token opens nothing extra on them."""
    key = _hold(pg_db_url)
    with transaction(pg_db_url) as s:
        _member, token = staff.add_staff(
            s, name="Ops", phone="+9779802999999", roles=[Role.OPS], actor=SYSTEM
        )
    answer = httpx.get(
        f"{world}/pay/{key}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert answer.status_code == 404
