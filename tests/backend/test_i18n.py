"""The customer copy in the customer's language (issue 25): the catalogues in backend/locale/
are complete for German and keep every placeholder, a message renders in the language spoken
around it (English byte for byte as before), and the titles a customer taps stay within
WhatsApp's limits in every language.

No database: the copy reads domain objects, built here without a session."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from backend import i18n, texts
from backend.domain import languages
from backend.domain.money import Money, quote_price
from backend.domain.placeholders import brace_fields, placeholder_faults
from backend.domain.whatsapp_messages import (
    BUTTON_TITLE_LIMIT,
    LIST_BUTTON_LIMIT,
    LIST_ROW_DESCRIPTION_LIMIT,
    LIST_ROW_TITLE_LIMIT,
)
from backend.i18n import speaking
from backend.models import Departure, Lead, Product, Staff
from backend.texts import customer

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = i18n.LOCALE_DIR / "messages.pot"
TRANSLATED = [code for code in languages.SPOKEN if code != languages.ENGLISH]
TRANSLATED_TOO = ["fr", "es"]  # German has its own tests below
# What scripts/translations.sh extracts with (babel.cfg: every module of backend/texts/).
KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def _read(path: Path, code: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=code)


def _catalogue(code: str) -> Catalog:
    return _read(i18n.LOCALE_DIR / code / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", code)


def _messages(catalog: Catalog) -> list[Message]:
    return [message for message in catalog if message.id]


def _ids(message: Message) -> tuple[str, ...]:
    return tuple(message.id) if isinstance(message.id, (tuple, list)) else (message.id,)


def _strings(message: Message) -> tuple[str, ...]:
    value = message.string
    forms = value if isinstance(value, (tuple, list)) else (value,)
    return tuple(form or "" for form in forms)


def _translated(message: Message) -> bool:
    return not message.fuzzy and all(_strings(message))


def _placeholder_faults(message: Message) -> list[str]:
    """Each form keeps its id's placeholders (the rule staff's wording obeys too,
    `backend.domain.placeholders`): the singular's for the first, the plural's after."""
    ids = _ids(message)
    return [
        f"{ids[min(n, len(ids) - 1)][:60]!r}: {fault}"
        for n, translation in enumerate(_strings(message))
        for fault in placeholder_faults(ids[min(n, len(ids) - 1)], translation)
    ]


def test_the_template_holds_the_ids_the_copy_uses() -> None:
    """backend/locale/messages.pot is up to date: after a change to the copy, run
    scripts/translations.sh and translate what it marks new or fuzzy."""
    extracted = {
        (msgid if isinstance(msgid, str) else msgid[0])
        for _file, _line, msgid, _comments, _context in extract_from_dir(
            str(ROOT / "backend" / "texts"), [("**.py", "python")], KEYWORDS
        )
    }
    template = {_ids(message)[0] for message in _messages(_read(TEMPLATE))}
    assert extracted == template
    assert len(template) > 200


def test_every_id_has_named_placeholders_only() -> None:
    for message in _messages(_read(TEMPLATE)):
        for text in _ids(message):
            assert "" not in brace_fields(text), f"positional {{}} in {text!r}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_catalogue_holds_every_id_of_the_template(code: str) -> None:
    template = {_ids(message) for message in _messages(_read(TEMPLATE))}
    held = {_ids(message) for message in _messages(_catalogue(code))}
    assert template - held == set(), f"run scripts/translations.sh ({code})"


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_catalogue_has_the_two_plural_forms_ngettext_reads(code: str) -> None:
    """`i18n.ngettext` reads a singular and a plural (CLDR's rare "many" of French and Spanish,
    for millions, is left out: a new catalogue from `pybabel init` needs its header set)."""
    catalog = _catalogue(code)
    assert catalog.num_plurals == 2
    for message in _messages(catalog):
        if len(_ids(message)) > 1:
            assert len(_strings(message)) == 2, _ids(message)[0]


def test_german_is_complete_and_keeps_every_placeholder() -> None:
    german = _catalogue("de")
    untranslated = [_ids(m)[0][:60] for m in _messages(german) if not _translated(m)]
    assert untranslated == []
    faults = [fault for message in _messages(german) for fault in _placeholder_faults(message)]
    assert faults == []
    for message in _messages(german):
        assert len(_strings(message)) == (2 if len(_ids(message)) > 1 else 1)


@pytest.mark.parametrize("code", TRANSLATED_TOO)
def test_what_is_translated_keeps_every_placeholder(code: str) -> None:
    translated = [m for m in _messages(_catalogue(code)) if _translated(m)]
    faults = [fault for message in translated for fault in _placeholder_faults(message)]
    assert faults == []


@pytest.mark.parametrize("code", TRANSLATED_TOO)
def test_french_and_spanish_are_complete(code: str) -> None:
    untranslated = [_ids(m)[0][:60] for m in _messages(_catalogue(code)) if not _translated(m)]
    assert untranslated == []


# -- a real message in the language spoken around it ------------------------------------------
def _world() -> tuple[Staff, Departure, Lead]:
    product = Product(
        code="EBC",
        name="Everest Base Camp Trek",
        short_name="EBC",
        days=14,
        price_per_person_minor=2_400_00,
        currency="USD",
        deposit_percent=30,
        early_bird_percent=5,
        early_bird_days_before=43,
        balance_due_days_before=15,
        inclusions=["All permits & fees"],
    )
    departure = Departure(start_date=date(2025, 3, 15), end_date=date(2025, 3, 28))
    departure.product = product
    rep = Staff(name="Priya Sharma", phone="+9779801000001")
    lead = Lead(reference="LEAD-2501001")
    lead.product = product
    return rep, departure, lead


def _quote(rep: Staff, departure: Departure) -> str:
    quote = quote_price(
        price_per_person=Money(2_400_00, "USD"),
        party_size=3,
        departure_start=departure.start_date,
        booked_on=date(2025, 1, 10),
        deposit_percent=30,
        early_bird_percent=5,
        early_bird_days_before=43,
    )
    return texts.quote_message(rep, departure, quote, Money(6_500_00, "EUR"))


def test_a_quote_in_german_and_in_english() -> None:
    rep, departure, _lead = _world()
    outside = _quote(rep, departure)
    with speaking("en"):
        english = _quote(rep, departure)
    with speaking("de"):
        german = _quote(rep, departure)
    assert english == outside
    assert english.splitlines()[2:9] == [
        "Great choice on EBC Trek! Here's what we have:",
        "",
        "📅 Departure: March 15-28, 2025 (14 days)",
        "👥 Group: 3 people",
        "💰 Price: $2,400 per person",
        "",
        "Includes:",
    ]
    assert "Early bird discount (book before Jan 31): $6,840" in english
    assert "≈ €6,500 in euros (indicative, at today's rate)" in english
    assert english.endswith("Interested? I can hold 3 spots for 24 hours.")

    assert german.splitlines()[0].startswith("Hallo! Ich bin Priya von ")
    assert "📅 Abreise: 15.–28. März 2025 (14 Tage)" in german
    assert "👥 Gruppe: 3 Personen" in german
    assert "💰 Preis: $2,400 pro Person" in german
    assert "Frühbucherrabatt (bei Buchung bis 31. Jan.): $6,840" in german
    assert "≈ €6,500 in Euro (unverbindlich, zum heutigen Kurs)" in german
    assert german.endswith("Interesse? Ich kann Ihnen 3 Plätze 24 Stunden lang reservieren.")
    assert "✓ All permits & fees" in german  # the catalogue's own words stay as written


def test_an_enquiry_received_in_german_and_in_english() -> None:
    _rep, _departure, lead = _world()
    with speaking("de"):
        german = texts.enquiry_received(lead, "April")
        without_trek = texts.enquiry_trek_changed(Lead(reference="LEAD-2501002"), None)
    with speaking("en"):
        english = texts.enquiry_received(lead, "April")
    assert english.startswith("Thank you for your interest in EBC Trek! 🏔️\n\n")
    assert "I've created your enquiry (Ref: LEAD-2501001)." in english
    assert "✓ Available dates in April\n\nCan you share:" in english
    assert german.startswith("Vielen Dank für Ihr Interesse an EBC Trek! 🏔️\n\n")
    assert "Ich habe Ihre Anfrage angelegt (Ref: LEAD-2501001)." in german
    assert "✓ Freie Termine (April)" in german
    assert "Ihre Anfrage (Ref: LEAD-2501002) auf den Trek geändert" in without_trek


def test_the_language_ends_with_its_block_and_unknown_ones_read_english() -> None:
    with speaking("de"):
        assert texts.goodbye().startswith("Danke")
        with speaking("it"):  # recognised, not spoken
            assert texts.goodbye() == "Thanks for chatting with us! Reply here anytime. 🙏"
        assert texts.goodbye().startswith("Danke")
    assert texts.goodbye() == "Thanks for chatting with us! Reply here anytime. 🙏"


@pytest.mark.parametrize(
    ("code", "dates", "day", "short", "long"),
    [
        ("en", "March 20-April 3, 2025", "March 20", "Mar 20", "Mar 20, 2025"),
        ("de", "20. März – 3. April 2025", "20. März", "20. März", "20. März 2025"),
        ("fr", "20 mars – 3 avril 2025", "20 mars", "20 mars", "20 mars 2025"),
        ("es", "20 de marzo – 3 de abril de 2025", "20 de marzo", "20 mar", "20 mar 2025"),
    ],
)
def test_dates_follow_the_language(code: str, dates: str, day: str, short: str, long: str) -> None:
    start, end = date(2025, 3, 20), date(2025, 4, 3)
    with speaking(code):
        assert texts.date_range(start, end) == dates
        assert customer.day_month(start) == day
        assert customer.short_day_month(start) == short
        assert texts.long_date(start) == long


def test_english_dates_and_times_read_as_they_always_have() -> None:
    assert texts.date_range(date(2025, 3, 15), date(2025, 3, 28)) == "March 15-28, 2025"
    assert texts.date_range(date(2025, 12, 28), date(2026, 1, 10)) == (
        "December 28, 2025-January 10, 2026"
    )
    assert texts.date_range(date(2025, 5, 5), date(2025, 5, 5)) == "May 5, 2025"
    assert texts.short_range(date(2025, 3, 20), date(2025, 4, 3)) == "March 20-April 3"
    assert texts.long_date(date(2025, 9, 5)) == "Sep 5, 2025"
    moment = datetime(2024, 12, 24, 8, 15, tzinfo=UTC)  # 2:00 PM in Kathmandu
    assert texts.local_datetime(moment) == "Dec 24, 2024 2:00 PM"
    assert texts.local_time(moment) == "2:00 PM"
    with speaking("de"):
        assert texts.local_datetime(moment) == "24. Dez. 2024, 14:00 Uhr"


# -- what a customer taps: WhatsApp's limits in every language -----------------------------
@pytest.mark.parametrize("code", languages.SPOKEN)
def test_button_titles_fit_whatsapp_in_every_language(code: str) -> None:
    with speaking(code):
        buttons = [
            customer.ACCEPT,
            customer.DECLINE,
            customer.CONFIRM,
            customer.HOLD_MY_SEATS,
            customer.NOT_NOW,
            customer.REFUND_BUTTON,
            customer.CREDIT_BUTTON,
            # Rating titles are a list's rows and the feedback template's quick replies.
            *customer.RATING_TITLES.values(),
        ]
        list_button = customer.LIST_BUTTON
        rows = []
        for month in range(1, 13):
            full = Departure(start_date=date(2025, month, 28), end_date=date(2025, month, 28))
            other = Departure(start_date=date(2025, month, 30 if month != 2 else 27))
            rows += customer.full_option_titles(full, other)
            rows += customer.full_option_titles(full, None)
    assert [title for title in buttons if not 0 < len(title) <= BUTTON_TITLE_LIMIT] == []
    assert 0 < len(list_button) <= LIST_BUTTON_LIMIT
    assert [title for title, _ in rows if not 0 < len(title) <= LIST_ROW_TITLE_LIMIT] == []
    assert [text for _, text in rows if not 0 < len(text) <= LIST_ROW_DESCRIPTION_LIMIT] == []


def test_titles_are_read_in_the_language_of_the_moment() -> None:
    with speaking("de"):
        assert customer.CONFIRM == "Bestätigen"
        assert customer.RATING_TITLES[5] == "⭐⭐⭐⭐⭐ Ausgezeichnet"
        assert customer.PRE_DEPARTURE_CHECKLIST[1] == "Reiseversicherung"
    assert customer.CONFIRM == "Confirm"
    assert customer.RATING_TITLES[5] == "⭐⭐⭐⭐⭐ Excellent"
    assert customer.PRE_DEPARTURE_CHECKLIST[1] == "Travel insurance"
    with pytest.raises(AttributeError):
        _ = customer.NO_SUCH_TITLE


def test_a_short_english_plural_stays_as_it_was() -> None:
    """English counts words its own way in places ("1 spots left"): kept byte for byte, while
    a translation may write the singular."""
    _rep, departure, _lead = _world()
    rows = [(departure, 1)]
    tomorrow = departure.start_date + timedelta(days=1)
    later = Departure(start_date=tomorrow, end_date=tomorrow + timedelta(days=13))
    with speaking("en"):
        english = customer.dates_list(departure.product, [*rows, (later, 0)])
    with speaking("de"):
        german = customer.dates_list(departure.product, rows)
    assert "• March 15-28, 2025: 1 spots left ✓" in english
    assert "• March 16-29, 2025: FULLY BOOKED ❌" in english
    assert "• 15.–28. März 2025: noch 1 Platz frei ✓" in german


# -- the customer's pages and e-mails: the `pages` domain --------------------------------------
PAGES_TEMPLATE = i18n.LOCALE_DIR / f"{i18n.PAGES}.pot"


def _pages_catalogue(code: str) -> Catalog:
    return _read(i18n.LOCALE_DIR / code / "LC_MESSAGES" / f"{i18n.PAGES}.po", code)


def _percent_placeholders(text: str) -> list[str]:
    """A page's `%(name)s` fields and its `%%` (Jinja2's i18n extension formats with `%`: a
    lone `%` in a translation breaks the page)."""
    found = re.findall(r"%(?:\((\w+)\)s|(%))", text)
    assert text.count("%") == sum(2 if escaped else 1 for _, escaped in found), text
    return sorted(name or "%%" for name, escaped in found)


def _tags(text: str) -> list[str]:
    return sorted(re.findall(r"</?\w+[^>]*>", text))


def test_the_pages_template_holds_the_ids_the_pages_and_emails_use() -> None:
    """backend/locale/pages.pot is up to date with the templates and the page code: after a
    change, run `scripts/translations.sh --domain pages` and translate what it marks."""
    method_map, options_map = parse_mapping_cfg(io.StringIO((ROOT / "babel-pages.cfg").read_text()))
    extracted = {
        (msgid if isinstance(msgid, str) else msgid[0])
        for _file, _line, msgid, _comments, _context in extract_from_dir(
            str(ROOT / "backend"), method_map, options_map, KEYWORDS
        )
    }
    template = {_ids(message)[0] for message in _messages(_read(PAGES_TEMPLATE))}
    assert extracted == template
    assert {"Pay deposit", "Booking confirmed: %(product)s, %(dates)s (%(reference)s)"} < template


@pytest.mark.parametrize("code", TRANSLATED)
def test_each_pages_catalogue_is_complete_and_keeps_placeholders_and_tags(code: str) -> None:
    catalog = _pages_catalogue(code)
    template = {_ids(message) for message in _messages(_read(PAGES_TEMPLATE))}
    assert template - {_ids(m) for m in _messages(catalog)} == set(), f"translations.sh ({code})"
    assert catalog.num_plurals == 2
    untranslated = [_ids(m)[0][:60] for m in _messages(catalog) if not _translated(m)]
    assert untranslated == []
    faults = []
    for message in _messages(catalog):
        ids = _ids(message)
        for n, translation in enumerate(_strings(message)):
            source = ids[min(n, len(ids) - 1)]
            if _percent_placeholders(translation) != _percent_placeholders(source):
                faults.append(f"{source[:60]!r}: placeholders {translation!r}")
            if _tags(translation) != _tags(source):
                faults.append(f"{source[:60]!r}: tags {translation!r}")
            if translation == source and len(source) > 12 and "%" not in source:
                faults.append(f"{source[:60]!r}: left in English")
    assert faults == []


def test_a_page_word_reads_in_the_language_of_the_moment_and_staff_wording_first() -> None:
    assert i18n.pages_gettext("Pay deposit") == "Pay deposit"
    with speaking("de"):
        assert i18n.pages_gettext("Pay deposit") == "Anzahlung bezahlen"
        assert i18n.pages_ngettext(
            "Saved, except %(count)s field to correct below.",
            "Saved, except %(count)s fields to correct below.",
            3,
        ) == ("Gespeichert, bis auf %(count)s Felder, die Sie unten korrigieren müssen.")
        # Not a WhatsApp message: the messages domain does not know it.
        assert i18n.gettext("Pay deposit") == "Pay deposit"
    with speaking("fr"):  # French counts 0 as one
        assert i18n.pages_ngettext(
            "Saved, except %(count)s field to correct below.",
            "Saved, except %(count)s fields to correct below.",
            0,
        ) == ("Enregistré, sauf %(count)s champ à corriger ci-dessous.")
    try:
        i18n.install_overrides({"de": {"Pay deposit": "Jetzt anzahlen"}})
        with speaking("de"):
            assert i18n.pages_gettext("Pay deposit") == "Jetzt anzahlen"
        with speaking("fr"):
            assert i18n.pages_gettext("Pay deposit") == "Payer l'acompte"
    finally:
        i18n.install_overrides({})
