"""Staff's own wording of the customer copy (backend/services/translations.py): read before
the catalogue's translation, refused whole when it breaks a placeholder, reset to the
catalogue, on the timeline, and read by every process once it changed."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend import clock, i18n, texts
from backend.db import transaction
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType, Role, Source
from backend.domain.errors import DomainError, NotFound
from backend.models import Product, StaffTranslation, TimelineEvent
from backend.services import timeline, translations
from backend.texts import customer
from tests import factories

GOODBYE = "Thanks for chatting with us! Reply here anytime. 🙏"
CATALOGUE_GOODBYE = "Danke für Ihre Nachricht! Schreiben Sie uns hier jederzeit. 🙏"
ASK_TREK = "Which trek are you interested in? We run: {treks}."
OURS = "Danke fürs Schreiben – bis bald! 🙏"


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts as a process that has read no wording yet, and leaves none behind."""
    monkeypatch.setattr(translations, "_checked_at", None)
    monkeypatch.setattr(translations, "_seen", None)
    i18n.install_overrides({})
    yield
    i18n.install_overrides({})


@pytest.fixture
def admin(db_url: str) -> Actor:
    with transaction() as s:
        member = factories.staff(s, "Anil Admin", Role.ADMIN)
        return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


def _goodbye_in(code: str) -> str:
    with i18n.speaking(code):
        return texts.goodbye()


def _stored() -> int:
    with transaction() as s:
        return s.scalar(select(func.count(StaffTranslation.id))) or 0


def _events() -> list[TimelineEvent]:
    with transaction() as s:
        found = s.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.object_type == ObjectType.TRANSLATION)
            .order_by(TimelineEvent.id)
        ).all()
        s.expunge_all()
        return list(found)


def test_the_team_s_german_wording_is_read_before_the_catalogue(admin: Actor) -> None:
    assert _goodbye_in("de") == CATALOGUE_GOODBYE
    with transaction() as s:
        translations.save(s, "de", GOODBYE, OURS, admin)
    assert _goodbye_in("de") == OURS
    assert _goodbye_in("en") == GOODBYE  # English is the message id, never overridden
    assert _goodbye_in("fr") != OURS  # one language's wording only
    with transaction() as s:
        translations.save(s, "de", ASK_TREK, "Welcher Trek? Wir bieten: {treks}.", admin)
    everest = Product(name="Everest Base Camp Trek")
    with i18n.speaking("de"):
        assert customer.ask_trek([everest]) == "Welcher Trek? Wir bieten: Everest Base Camp Trek."
    with transaction() as s:
        row = next(r for r in translations.rows(s, "de") if r.source.message_id == GOODBYE)
        assert (row.staff_text, row.catalogue, row.status) == (
            OURS,
            CATALOGUE_GOODBYE,
            translations.TRANSLATED,
        )
        assert row.updated_by == "Anil Admin" and row.customers_read == "staff's wording"


def test_a_line_break_typed_in_a_browser_is_kept_as_the_copy_writes_it(admin: Actor) -> None:
    with transaction() as s:
        translations.save(s, "de", GOODBYE, "Danke!\r\nBis bald. 🙏\r\n", admin)
    assert _goodbye_in("de") == "Danke!\nBis bald. 🙏"


@pytest.mark.parametrize(
    ("wording", "why"),
    [
        ("Welcher Trek? Wir bieten: {trek}.", "missing {treks}; not in the English: {trek}"),
        ("Welcher Trek interessiert Sie?", "missing {treks}"),
        ("Wir bieten {treks} für {name}.", "not in the English: {name}"),
        ("Wir bieten: {treks", "without its pair"),
        ("Wir bieten: {treks} %(count)s", "not in the English: %(count)s"),
    ],
)
def test_a_wording_that_breaks_a_placeholder_is_refused_and_nothing_is_saved(
    admin: Actor, wording: str, why: str
) -> None:
    with transaction() as s, pytest.raises(translations.WordingRefused) as refused:
        translations.save(s, "de", ASK_TREK, wording, admin)
    assert why in str(refused.value)
    assert _stored() == 0 and _events() == []
    with i18n.speaking("de"):
        assert customer.ask_trek([Product(name="EBC")]).endswith("EBC.")


def test_the_same_placeholders_in_another_order_or_twice_are_fine(admin: Actor) -> None:
    assert translations.check("{a} and {b}", "{b}, {a}, {a}") == []
    assert translations.check("%(n)s seats", "%(n)d Plätze") == []
    assert translations.check("no fields here", "keine {Felder}") != []


@pytest.mark.parametrize(
    ("language", "message_id", "error"),
    [
        ("de", "Thanks for chatting with us!", NotFound),  # not the exact English
        ("de", "Anything the copy never says", NotFound),
        ("it", GOODBYE, NotFound),  # recognised, not spoken
        ("en", GOODBYE, NotFound),  # the English is the message id itself
    ],
)
def test_an_unknown_text_or_language_is_refused(
    admin: Actor, language: str, message_id: str, error: type[DomainError]
) -> None:
    with transaction() as s, pytest.raises(error):
        translations.save(s, language, message_id, "Grazie!", admin)
    assert _stored() == 0


GROUP, GROUPS = "👥 Group: {count} person", "👥 Group: {count} people"


def _group(code: str, count: int) -> str:
    with i18n.speaking(code):
        return i18n.ngettext(GROUP, GROUPS, count).format(count=count)


def test_each_plural_form_of_a_text_with_a_count_is_staff_s_to_write(admin: Actor) -> None:
    """German and French each have two forms (Babel reads them from the catalogue's header):
    French reads 0 with the singular's form, German with the plural's."""
    assert translations.form_labels("de") == ["1", "0, 2, 3, 4, …"]
    assert translations.form_labels("fr") == ["0, 1", "2, 3, 4, 5, …"]
    assert _group("de", 3) == "👥 Gruppe: 3 Personen"
    with transaction() as s:
        translations.save(
            s, "de", GROUP, "", admin, forms=["👥 Wir sind {count}", "👥 Wir sind {count} Leute"]
        )
        translations.save(
            s,
            "fr",
            GROUP,
            "",
            admin,
            forms=["👥 Groupe : {count} voyageur", "👥 {count} voyageurs"],
        )
    assert _group("de", 1) == "👥 Wir sind 1"
    assert _group("de", 0) == "👥 Wir sind 0 Leute"
    assert _group("de", 4) == "👥 Wir sind 4 Leute"
    assert _group("fr", 0) == "👥 Groupe : 0 voyageur"
    assert _group("fr", 2) == "👥 2 voyageurs"
    assert _group("es", 2) == "👥 Grupo: 2 personas"  # no wording in Spanish: the catalogue's
    with transaction() as s:
        [row] = [r for r in translations.rows(s, "de", search="Wir sind") if r.source.plural]
        assert row.editable and row.staff_forms == (
            "👥 Wir sind {count}",
            "👥 Wir sind {count} Leute",
        )
        assert row.forms == ["1", "0, 2, 3, 4, …"]
    assert [e.content["after"] for e in _events()] == [
        "👥 Wir sind {count} | 👥 Wir sind {count} Leute",
        "👥 Groupe : {count} voyageur | 👥 {count} voyageurs",
    ]


@pytest.mark.parametrize(
    ("forms", "fault"),
    [
        (["👥 Wir sind {count}"], "German has 2 forms"),
        (["👥 Wir sind {count}", ""], "German has 2 forms"),
        (
            ["👥 Wir sind {count}", "👥 Wir sind {n} Leute"],
            "form for 0, 2, 3, 4, …: missing {count}",
        ),
        (["👥 Wir sind", "👥 Wir sind {count} Leute"], "form for 1: missing {count}"),
    ],
)
def test_a_plural_wording_missing_a_form_or_a_placeholder_is_refused(
    admin: Actor, forms: list[str], fault: str
) -> None:
    with transaction() as s, pytest.raises(translations.WordingRefused, match=re.escape(fault)):
        translations.save(s, "de", GROUP, "", admin, forms=forms)
    with transaction() as s, pytest.raises(translations.WordingRefused, match="one form"):
        translations.save(s, "de", GOODBYE, "", admin, forms=[OURS, OURS])
    assert _stored() == 0 and _events() == []


def test_a_plural_wording_resets_to_the_catalogue(admin: Actor) -> None:
    with transaction() as s:
        translations.save(s, "de", GROUP, "", admin, forms=["{count} Gast", "{count} Gäste"])
    assert _group("de", 2) == "2 Gäste"
    with transaction() as s:
        assert translations.reset(s, "de", GROUP, admin) is True
    assert _group("de", 2) == "👥 Gruppe: 2 Personen" and _stored() == 0
    with transaction() as s:
        translations.save(s, "de", GROUP, "", admin, forms=["{count} Gast", "{count} Gäste"])
        translations.save(s, "de", GROUP, "", admin, forms=["  ", ""])  # all empty: a reset
    assert _group("de", 1) == "👥 Gruppe: 1 Person"
    assert [e.action for e in _events()][-1] == "tms.translation.reset"
    assert _events()[-1].content["before"] == "{count} Gast | {count} Gäste"


def test_another_process_reads_the_plural_wording_at_its_next_look(admin: Actor) -> None:
    with transaction() as s:
        translations.save(s, "de", GROUP, "", admin, forms=["{count} Gast", "{count} Gäste"])
    i18n.install_overrides({})  # another process: it has not read the table yet
    assert _group("de", 2) == "👥 Gruppe: 2 Personen"
    with transaction() as s:
        assert translations.refresh(s, force=True) is True
    assert _group("de", 2) == "2 Gäste" and _group("de", 1) == "1 Gast"


def test_reset_goes_back_to_the_catalogue_and_both_are_on_the_timeline(admin: Actor) -> None:
    with transaction() as s:
        translations.save(s, "de", GOODBYE, OURS, admin)
    with transaction() as s:
        translations.save(s, "de", GOODBYE, OURS, admin)  # the same words: no new event
    with transaction() as s:
        assert translations.reset(s, "de", GOODBYE, admin) is True
    assert _goodbye_in("de") == CATALOGUE_GOODBYE and _stored() == 0
    with transaction() as s:
        assert translations.reset(s, "de", GOODBYE, admin) is False  # nothing left to reset
        translations.save(s, "de", GOODBYE, OURS, admin)
        translations.save(s, "de", GOODBYE, "   ", admin)  # an empty text is a reset too
    assert _goodbye_in("de") == CATALOGUE_GOODBYE
    events = _events()
    assert [e.action for e in events] == [
        "tms.translation.saved",
        "tms.translation.reset",
        "tms.translation.saved",
        "tms.translation.reset",
    ]
    assert {e.object_id for e in events} == {translations.object_id("de", GOODBYE)}
    assert events[0].content["after"] == OURS and events[1].content["before"] == OURS
    with transaction() as s:
        said = timeline.describe(s, events[:2])
    assert said[events[0].id] == (f"Anil Admin wrote the German words for “{GOODBYE}”: “{OURS}”")
    assert said[events[1].id] == (
        f"Anil Admin put the German words for “{GOODBYE}” back to the catalogue's"
    )


def test_a_change_rolled_back_is_never_read(admin: Actor) -> None:
    with pytest.raises(RuntimeError), transaction() as s:
        translations.save(s, "de", GOODBYE, OURS, admin)
        raise RuntimeError("the request failed after the save")
    assert _goodbye_in("de") == CATALOGUE_GOODBYE and _stored() == 0


def _elsewhere(change: Callable[[Session], object], monkeypatch: pytest.MonkeyPatch) -> None:
    """`change` as another process makes it: this process's wording and its last look at the
    table stay as they were (its own commit would have installed the change here)."""
    seen = translations._seen
    had = {code: dict(table) for code, table in translations_now().items()}
    with transaction() as s:
        change(s)
    monkeypatch.setattr(translations, "_seen", seen)
    i18n.install_overrides(had)


def translations_now() -> dict[str, dict[str, str]]:
    """The wording this process reads now, as far as the tests use it."""
    found = {code: i18n.override(code, GOODBYE) for code in ("de", "fr", "es")}
    return {code: {GOODBYE: text} for code, text in found.items() if text}


def test_another_process_reads_the_change_at_its_next_look(
    admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    with transaction() as s:
        assert translations.refresh(s) is True  # this process's first look: nothing yet
    _elsewhere(lambda s: translations.save(s, "de", GOODBYE, OURS, admin), monkeypatch)
    assert _goodbye_in("de") == CATALOGUE_GOODBYE
    with transaction() as s:
        assert translations.refresh(s) is False  # looked a moment ago: not yet
    assert _goodbye_in("de") == CATALOGUE_GOODBYE
    monkeypatch.setattr(translations, "REFRESH_SECONDS", 0.0)
    with transaction() as s:
        assert translations.refresh(s) is True
        assert translations.refresh(s) is False  # unchanged since: nothing to load
    assert _goodbye_in("de") == OURS
    # Two changes within one tick of the clock (same count, same latest time) are told
    # apart by the timeline's ids.
    with clock.frozen(clock.now()):
        _elsewhere(lambda s: translations.save(s, "de", GOODBYE, "Eins", admin), monkeypatch)
        with transaction() as s:
            assert translations.refresh(s) is True
        assert _goodbye_in("de") == "Eins"
        _elsewhere(lambda s: translations.save(s, "de", GOODBYE, "Zwei", admin), monkeypatch)
        with transaction() as s:
            assert translations.refresh(s) is True
        assert _goodbye_in("de") == "Zwei"


def test_every_language_lists_every_text_of_the_template(admin: Actor) -> None:
    with transaction() as s:
        for code in translations.translated_languages():
            listed = translations.rows(s, code)
            assert [r.source.message_id for r in listed] == list(translations.template())
            assert len(listed) > 200
        found = translations.rows(s, "de", search="CHATTING with")
        assert [r.source.message_id for r in found] == [GOODBYE]
        by_german = translations.rows(s, "de", search="schreiben sie uns hier")
        assert GOODBYE in [r.source.message_id for r in by_german]
        missing = translations.rows(s, "de", missing_only=True)
        assert all(r.status != translations.TRANSLATED for r in missing)


@pytest.mark.parametrize("domain", translations.domains())
@pytest.mark.parametrize("code", ["de", "fr", "es"])
def test_the_catalogue_shown_is_what_customers_read(code: str, domain: str) -> None:
    """The page's reading of a catalogue keeps to `i18n.catalogue`'s rule."""
    shown = {
        message_id: entry.translation
        for message_id, entry in translations.catalogue(code, domain).items()
        if entry.status == translations.TRANSLATED
    }
    assert shown == i18n.catalogue(code, domain)


PAY_BY = "Please pay by <strong>%(hold_expires)s</strong> to confirm it."


@pytest.mark.parametrize(
    ("wording", "why"),
    [
        ("Bitte zahlen Sie bis %(hold_expires)s.", "missing the markup"),
        ("Bitte bis <strong>%(hold_expires)s</strong> zu 100% zahlen.", "written %%"),
        ("<strong>%(hold_expires)s</strong><script>x()</script>", "markup not in the English"),
        ("Bitte zahlen Sie bis <strong>{hold_expires}</strong>.", "missing %(hold_expires)s"),
    ],
)
def test_a_web_page_s_text_keeps_its_markup_and_its_percent_fields(
    admin: Actor, wording: str, why: str
) -> None:
    assert translations.template()[PAY_BY].domain == "pages"
    with transaction() as s, pytest.raises(translations.WordingRefused, match=re.escape(why)):
        translations.save(s, "de", PAY_BY, wording, admin)
    ours = "Zahlen Sie bitte bis <strong>%(hold_expires)s</strong> (100%% sicher)."
    with transaction() as s:
        translations.save(s, "de", PAY_BY, ours, admin)
    with i18n.speaking("de"):
        assert i18n.pages_gettext(PAY_BY) % {"hold_expires": "18:00"} == (
            "Zahlen Sie bitte bis <strong>18:00</strong> (100% sicher)."
        )
