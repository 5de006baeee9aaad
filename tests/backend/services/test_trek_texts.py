"""A trek's own texts per language, on SQLite and PostgreSQL: a German customer reads the
team's German (name, itinerary, what is included, what to bring) where it is written and the
English where it is not, text by text, in the chat, on the track page and in the confirmation
e-mail; a French one reads the English; a refused save writes nothing; a reset goes back to
the English; every change is on the timeline."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from backend import i18n, texts
from backend.db import transaction
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import ObjectType, Role, Source
from backend.domain.errors import NotFound
from backend.domain.timeline_actions import sentence
from backend.links import LinkClaims
from backend.models import OutboundEmail, TimelineEvent, TrekText, Trip
from backend.payments.provider import payment_event
from backend.services import bookings, catalog, contacts, payments, staff, trek_texts, trips
from backend.texts.treks import trek_texts as read_texts
from backend.web import page_data
from tests.conftest import load_demo_world

GERMAN = trek_texts.Draft(
    name="Everest-Basislager-Trek",
    itinerary=[("Ankunft in Kathmandu", ""), ("", ""), ("Akklimatisierungstag in Namche", "")],
    inclusions=["Alle Genehmigungen und Gebühren", "Erfahrener Bergführer"],
)


@pytest.fixture
def world(db_url: str, story_clock) -> Iterator[str]:
    load_demo_world(db_url)
    yield db_url


@pytest.fixture
def admin(world: str) -> Actor:
    with transaction() as s:
        member = staff.by_phone(s, "+9779801000009")  # the demo's Anil Admin
        assert member is not None and member.has_role(Role.ADMIN)
        return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


def _stored() -> int:
    with transaction() as s:
        return s.scalar(select(func.count(TrekText.id))) or 0


def _events() -> list[TimelineEvent]:
    with transaction() as s:
        found = list(
            s.scalars(
                select(TimelineEvent)
                .where(
                    TimelineEvent.object_type == ObjectType.PRODUCT,
                    TimelineEvent.action.like("tms.trek_texts.%"),
                )
                .order_by(TimelineEvent.id)
            )
        )
        s.expunge_all()
        return found


def test_a_german_reader_reads_what_is_written_and_the_english_for_the_rest(admin):
    with transaction() as s:
        ebc = catalog.get_product(s, "EBC")
        english = read_texts(ebc, "de")
        assert english == read_texts(ebc, "en")  # nothing written: the English
        trek_texts.save(s, "ebc", "de", GERMAN, admin)
    with transaction() as s:
        ebc = catalog.get_product(s, "EBC")
        german = read_texts(ebc, "de")
        assert german.name == "Everest-Basislager-Trek"
        assert german.inclusions == ("Alle Genehmigungen und Gebühren", "Erfahrener Bergführer")
        assert german.packing_list == english.packing_list  # not written: the English
        assert [d.days for d in german.itinerary] == [d.days for d in english.itinerary]
        first, second, third = german.itinerary[:3]
        assert (first.title, first.detail) == ("Ankunft in Kathmandu", english.itinerary[0].detail)
        assert second == english.itinerary[1]
        assert third.title == "Akklimatisierungstag in Namche"
        assert german.itinerary[3:] == english.itinerary[3:]
        # French: nothing written, the English; the language of the moment by default.
        assert read_texts(ebc, "fr") == english
        with i18n.speaking("de"):
            assert read_texts(ebc).name == "Everest-Basislager-Trek"
            answer = texts.inclusions_info(ebc)
        assert answer.startswith("Everest-Basislager-Trek")
        assert "✓ Erfahrener Bergführer" in answer and "All permits" not in answer
        with i18n.speaking("fr"):
            french = texts.inclusions_info(ebc)
        assert "Everest Base Camp Trek" in french and "✓ All permits & fees" in french
        view = trek_texts.view(s, "EBC", "de")
        assert view.written_fields == ("name", "itinerary", "inclusions")
        assert view.updated_by == "Anil Admin"


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (trek_texts.Draft(name="x" * 121), "name"),
        (trek_texts.Draft(itinerary=[("Tag", "")] * 2), "itinerary"),  # PKR has one day line
        (trek_texts.Draft(itinerary=[("x" * 201, "")]), "itinerary.0.title"),
        (trek_texts.Draft(itinerary=[("Tag", "x" * 2001)]), "itinerary.0.detail"),
        (trek_texts.Draft(inclusions=["x" * 301]), "inclusions"),
        (trek_texts.Draft(packing_list=["Stiefel"] * 61), "packingList"),
    ],
)
def test_a_refused_save_names_the_field_and_writes_nothing(admin, draft, field):
    with transaction() as s, pytest.raises(trek_texts.TrekTextsRefused) as refused:
        trek_texts.save(s, "PKR", "de", draft, admin)
    assert list(refused.value.faults) == [field]
    assert _stored() == 0 and _events() == []


def test_an_unknown_trek_or_language_is_not_found(admin):
    for code, language in (("XYZ", "de"), ("EBC", "en"), ("EBC", "it")):
        with transaction() as s, pytest.raises(NotFound):
            trek_texts.save(s, code, language, GERMAN, admin)
    assert _stored() == 0


def test_saving_the_same_texts_twice_resetting_and_saving_nothing(admin):
    with transaction() as s:
        trek_texts.save(s, "EBC", "de", GERMAN, admin)
        trek_texts.save(s, "EBC", "de", GERMAN, admin)  # the same: no new event
    with transaction() as s:
        assert trek_texts.reset(s, "EBC", "de", admin) is True
        assert trek_texts.reset(s, "EBC", "de", admin) is False
        assert read_texts(catalog.get_product(s, "EBC"), "de").name == "Everest Base Camp Trek"
        trek_texts.save(s, "EBC", "de", trek_texts.Draft(name="Everest-Trek"), admin)
        # Every text empty (blank lines and spaces): back to the English.
        empty = trek_texts.Draft(name="  ", itinerary=[(" ", "")], inclusions=["", " "])
        assert trek_texts.save(s, "EBC", "de", empty, admin) is None
    assert _stored() == 0
    events = _events()
    assert [e.action for e in events] == [
        "tms.trek_texts.saved",
        "tms.trek_texts.reset",
        "tms.trek_texts.saved",
        "tms.trek_texts.reset",
    ]
    assert sentence(events[0].action, events[0].content, "Anil Admin") == (
        "Anil Admin wrote EBC's German texts (name, itinerary, inclusions)"
    )
    assert sentence(events[1].action, events[1].content, "Anil Admin") == (
        "Anil Admin put EBC's German texts back to the English"
    )


def test_the_german_confirmation_e_mail_carries_the_german_trek(admin):
    with transaction() as s:
        trek_texts.save(s, "EBC", "de", GERMAN, admin)
    with transaction() as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        contact = contacts.get_or_create_contact(s, "+4915112345678", name="Jonas Weber")
        contact.email = "jonas@example.com"
        contact.language = "de"
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=2, actor=SYSTEM
        )
        reference, deposit = booking.reference, booking.deposit_minor
    with transaction() as s:
        payments.apply_provider_event(
            s,
            provider="local",
            event=payment_event(reference, deposit, "USD", "DEPOSIT", event_id="evt_de_trek"),
            actor=SYSTEM,
        )
    with transaction() as s:
        [mail] = s.scalars(select(OutboundEmail)).all()
        assert mail.subject.startswith("Buchung bestätigt: Everest-Basislager-Trek, ")
        assert "Tag 1: Ankunft in Kathmandu" in mail.body_text
        assert re.search(r"Tag 2: \S", mail.body_text)  # not written: the English title
        assert "Tag 3: Akklimatisierungstag in Namche" in mail.body_text
        assert "Everest-Basislager-Trek" in (mail.body_html or "")


def test_a_german_guest_follows_the_trip_with_the_german_itinerary(admin):
    """The track page's data: the day lines of the trek under way in the guest's language."""
    with transaction() as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS").limit(1))
        assert trip is not None
        code = trip.departure.product.code
        english = read_texts(trip.departure.product, "en")
        draft = trek_texts.Draft(itinerary=[("Erster Tag", "Ankunft")])
        trek_texts.save(s, code, "de", draft, admin)
        guest = trips.guests_of(s, trip)[0]
        guest.contact.language = "de"
        key = guest.ref_key
    with transaction() as s:
        page = page_data.track(s, LinkClaims("track", key))
        assert page.language == "de"
        days = page.context["itinerary"]
        assert (days[0]["title"], days[0]["detail"]) == ("Erster Tag", "Ankunft")
        assert [d["title"] for d in days[1:]] == [d.title for d in english.itinerary[1:]]


def test_the_chat_names_the_trek_as_its_reader_reads_it(admin):
    with transaction() as s:
        trek_texts.save(s, "EBC", "de", trek_texts.Draft(name="Everest-Basislager-Trek"), admin)
    with transaction() as s:
        treks = catalog.active_products(s)
        ebc = catalog.get_product(s, "EBC")
        with i18n.speaking("de"):
            asked = texts.ask_trek(treks)
            none_then = texts.no_dates_in(ebc, "Juli")
            listed = texts.dates_list(ebc, [])
        assert "Everest-Basislager-Trek" in asked and "Everest Base Camp Trek" not in asked
        assert "Everest-Basislager-Trek" in none_then and "Everest-Basislager-Trek" in listed
        with i18n.speaking("es"):
            assert "Everest Base Camp Trek" in texts.ask_trek(treks)
