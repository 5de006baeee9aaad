"""The customer's pages in the customer's language, against the real backend (its own process)
on PostgreSQL: a German contact reads German (the words, the dates, `<html lang>`), a companion
switches one page to French with `?lang=fr` without changing the contact's language, a `?lang=`
the product does not speak is ignored, what a form refuses is said in the reader's language,
and an English contact's pages read as they always have."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select

from backend import i18n, links
from backend.db import transaction
from backend.domain import travellers as rules
from backend.domain.actor import SYSTEM
from backend.models import Booking, Contact, OutboundMessage, Trip
from backend.services import bookings, catalog, contacts, trips
from backend.web import words
from tests.conftest import load_demo_world


def _get(url: str, **headers: str) -> httpx.Response:
    return httpx.get(url, headers=headers, timeout=30, follow_redirects=False)


def _post(url: str, data: dict[str, str]) -> httpx.Response:
    return httpx.post(url, data=data, timeout=30, follow_redirects=False)


def _text(answer: httpx.Response) -> str:
    """The page as a person reads it: tags dropped, spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text))).strip()


def _lang(answer: httpx.Response) -> str:
    found = re.search(r'<html lang="([a-z]+)">', answer.text)
    assert found is not None
    return found.group(1)


@pytest.fixture
def world(backend_url, pg_db_url, story_clock):
    load_demo_world(pg_db_url)
    return backend_url


def _hold(db: str, language: str | None, phone: str = "+4915112345678") -> str:
    """A new customer's hold on the first EBC departure (2 people); its reference key."""
    with transaction(db) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "EBC"))[0]
        contact = contacts.get_or_create_contact(s, phone, name="Jana Weber")
        contact.language = language
        booking = bookings.hold_new_booking(
            s, contact=contact, departure_id=departure.id, party_size=2, actor=SYSTEM
        )
        return booking.ref_key


def _contact_of(db: str, key: str) -> Contact:
    with transaction(db) as s:
        booking = s.scalar(select(Booking).where(Booking.ref_key == key))
        assert booking is not None
        contact = booking.contact
        s.expunge(contact)
        return contact


def test_a_german_customer_reads_the_pay_page_in_german(world, pg_db_url):
    key = _hold(pg_db_url, "de")
    answer = _get(f"{world}/pay/{links.token_for('pay', key)}")
    page = _text(answer)
    assert answer.status_code == 200 and _lang(answer) == "de"
    assert answer.headers["content-language"] == "de"
    for german in ("Anzahlung bezahlen (30 %)", "Gesamtbetrag bezahlen", "Reserviert bis"):
        assert german in page, german
    assert "Zur Bestätigung Ihrer Buchung" in page and "Reisedaten" in page
    assert "Pay deposit" not in page and "Hold expires" not in page
    # The dates are German too (the demo's EBC departure is in March).
    assert "März" in page
    # The switch offers the other spoken languages, each named in its own words.
    assert 'href="?lang=fr"' in answer.text and 'href="?lang=en"' in answer.text
    assert 'href="?lang=es"' in answer.text and 'href="?lang=de"' not in answer.text
    assert "Deutsch" in page and "Français" in page and "Español" in page


def test_a_german_guest_follows_the_trip_in_german(world, pg_db_url):
    with transaction(pg_db_url) as s:
        trip = s.scalar(select(Trip).where(Trip.status == "IN_PROGRESS").limit(1))
        guest = trips.guests_of(s, trip)[0]
        guest.contact.language = "de"
        key = guest.ref_key
    answer = _get(f"{world}/track/{links.token_for('track', key)}")
    page = _text(answer)
    assert answer.status_code == 200 and _lang(answer) == "de"
    for german in ("Unterwegs", "Leitender Guide", "Treffpunkt", "Notfall", "Reiseverlauf"):
        assert german in page, german
    assert "Under way" not in page and "Meeting point" not in page
    assert re.search(r"Aktualisiert: \d\d:\d\d Uhr", page)


def test_lang_switches_one_page_and_never_the_contacts_language(world, pg_db_url):
    key = _hold(pg_db_url, "de")
    url = f"{world}/pay/{links.token_for('pay', key)}"
    french = _get(url + "?lang=fr")
    page = _text(french)
    assert _lang(french) == "fr" and "Payer l'acompte" in page and "mars" in page
    assert "Anzahlung" not in page
    contact = _contact_of(pg_db_url, key)
    assert (contact.language, contact.language_chosen) == ("de", False)
    # The next view without it is the contact's German again.
    again = _get(url)
    assert _lang(again) == "de" and "Anzahlung bezahlen" in _text(again)


def test_a_language_the_product_does_not_speak_is_ignored(world, pg_db_url):
    key = _hold(pg_db_url, "de")
    url = f"{world}/pay/{links.token_for('pay', key)}"
    for odd in ("xx", "it", "", "de-AT", "<script>"):
        answer = httpx.get(url, params={"lang": odd}, timeout=30)
        assert answer.status_code == 200, odd
        assert _lang(answer) == "de" and "Anzahlung bezahlen" in _text(answer), odd
    assert _contact_of(pg_db_url, key).language == "de"


def test_an_english_customer_reads_the_pages_as_before(world, pg_db_url):
    key = _hold(pg_db_url, None)
    answer = _get(f"{world}/pay/{links.token_for('pay', key)}")
    page = _text(answer)
    assert _lang(answer) == "en" and answer.headers["content-language"] == "en"
    assert "Pay deposit (30%) $1,368" in page and "Hold expires" in page
    assert "To confirm your booking" in page and "Questions? Reply on WhatsApp:" in page
    assert 'href="?lang=de"' in answer.text


def test_a_refused_link_follows_lang_then_the_browser(world, pg_db_url):
    key = _hold(pg_db_url, "de")
    bad = f"{world}/track/{links.token_for('pay', key)}"  # a pay token on the track page
    assert "This link doesn't work" in _text(_get(bad))
    german = _get(bad, **{"Accept-Language": "de-CH,de;q=0.9,en;q=0.8"})
    assert german.status_code == 404 and _lang(german) == "de"
    assert "Dieser Link funktioniert nicht" in _text(german)
    spanish = _get(bad + "?lang=es", **{"Accept-Language": "de"})
    assert _lang(spanish) == "es" and "Este enlace no funciona" in _text(spanish)
    assert _lang(_get(bad, **{"Accept-Language": "it, ja;q=0.5"})) == "en"


def test_what_the_papers_form_refuses_is_said_in_german(world, pg_db_url):
    key = _hold(pg_db_url, "de")
    url = f"{world}/papers/{links.token_for('papers', key)}"
    page = _text(_get(url))
    assert "Angaben der Reisenden" in page and "Reisepassnummer" in page
    assert "Staatsangehörigkeit" in page and "Österreich" in page and "Bitte wählen…" in page
    answer = _post(f"{url}/1", {"fullName": "Jana Weber", "passportNumber": "12", "sex": "Q"})
    said = _text(answer)
    assert answer.status_code == 200 and _lang(answer) == "de"
    assert "5 bis 20 Buchstaben und Ziffern, wie im Reisepass gedruckt" in said
    assert "M, F oder X, wie im Reisepass angegeben" in said
    assert "Gespeichert, bis auf 2 Felder, die Sie unten korrigieren müssen." in said
    assert "as printed in the passport" not in said
    # Read in French, the form posts back in French and says so in French.
    assert 'action="/papers/' in _get(url + "?lang=fr").text
    assert re.search(r'action="/papers/[^"]+/1\?lang=fr"', _get(url + "?lang=fr").text)
    french = _post(f"{url}/1?lang=fr", {"fullName": "Jana Weber", "passportNumber": "12"})
    assert _lang(french) == "fr" and "de 5 à 20 lettres et chiffres" in _text(french)
    saved = _post(f"{url}/1?lang=fr", {"fullName": "Jana Weber"})
    assert saved.status_code == 303 and "lang=fr" in saved.headers["location"]


def test_the_chat_stays_in_the_contacts_language_when_the_page_is_read_in_another(world, pg_db_url):
    """A waitlist offer confirmed on the page read in French: the chat's message is the
    contact's German."""
    with transaction(pg_db_url) as s:
        departure = catalog.departures_of(s, catalog.get_product(s, "ANN"))[0]
        confirmed = s.scalar(
            select(Booking)
            .where(Booking.departure_id == departure.id, Booking.status == "CONFIRMED")
            .limit(1)
        )
        bookings.cancel_booking(s, confirmed, SYSTEM, reason="a guest cancelled")
        offered = s.scalar(
            select(Booking).where(Booking.departure_id == departure.id, Booking.status == "OFFERED")
        )
        assert offered is not None
        offered.contact.language = "de"
        key, contact_id = offered.ref_key, offered.contact_id
    url = f"{world}/book/{links.token_for('book', key)}"
    offer = _get(url + "?lang=fr")
    assert _lang(offer) == "fr" and "Confirmer : je réserve" in _text(offer)
    assert 'data-left="Il reste {time}"' in offer.text
    german = _get(url)
    assert 'data-left="Noch {time}"' in german.text and "Noch " in _text(german)
    answer = _post(url + "?lang=fr", {"answer": "confirm"})
    assert answer.status_code == 303 and "lang=fr" in answer.headers["location"]
    with transaction(pg_db_url) as s:
        bodies = [
            m.body or ""
            for m in s.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.contact_id == contact_id)
                .order_by(OutboundMessage.id)
            )
        ]
    assert "Platz reserviert!" in bodies[-1]


# -- without a server: the domain's sentences on a page -----------------------------------------
def _domain_errors() -> dict[str, str]:
    """What the domain says of wrong values, field by field (one wrong value each)."""
    trip = rules.Trip(start=date(2026, 3, 15), end=date(2026, 3, 28), highest_m=5364)
    today = date(2026, 1, 10)
    wrong = {
        "full_name": "J4na",
        "nationality": "Atlantis",
        "passport_number": "12",
        "passport_expiry": "2026-06-01",
        "date_of_birth": "2027-01-01",
        "sex": "Q",
        "assistance_phone": "12",
        "covers_helicopter": "maybe",
        "cover_altitude_m": "high",
        "emergency_relationship": "x" * 41,
        "arrival_flight": "??",
        "arrival_date": "2026-03-20",
    }
    found = dict(rules.check(wrong, trip, today).errors)
    more = {
        "passport_expiry": (today - timedelta(days=1)).isoformat(),
        "date_of_birth": "1900-01-01",
        "cover_altitude_m": "12000",
        "arrival_date": "2025-12-01",
        "full_name": "J",
    }
    for name, value in more.items():
        found[f"{name}+"] = rules.check({name: value}, trip, today).errors[name]
    found["date"] = rules.check({"arrival_date": "15/03/2026"}, trip, today).errors["arrival_date"]
    return found


@pytest.mark.parametrize("code", ["de", "fr", "es"])
def test_every_error_the_domain_gives_a_traveller_reads_in_the_readers_language(code):
    errors = _domain_errors()
    assert len(set(errors.values())) >= 17
    with i18n.speaking(code):
        for field, english in errors.items():
            translated = words.sentence(english)
            assert translated != english, (field, english)
            assert "%(" not in translated, translated
        labels = [spec.label for spec in rules.FIELDS] + [s.hint for s in rules.FIELDS if s.hint]
        for label in labels:
            assert i18n.pages_gettext(label) != label, label
        for flag in rules.FLAG_WORDS:
            assert words.flag_sentence(flag) != words.FLAG_SENTENCES[flag], flag
        missing = words.missing_words(list(rules.PHOTOS))
        assert all(
            said != english for said, english in zip(missing, rules.PHOTOS.values(), strict=True)
        )
    with i18n.speaking("en"):
        assert all(words.sentence(e) == e for e in errors.values())


def test_a_date_inside_a_sentence_is_written_the_readers_way():
    trip = rules.Trip(start=date(2026, 3, 15), end=date(2026, 3, 28), highest_m=5364)
    english = rules.check({"arrival_date": "2026-03-20"}, trip, date(2026, 1, 10)).errors
    with i18n.speaking("de"):
        said = words.sentence(english["arrival_date"])
    assert said == "die Reise beginnt am 15. März 2026: Bitte reisen Sie spätestens dann an"
