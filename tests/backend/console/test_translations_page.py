"""The console's Translations page over real HTTP and in Chromium on a phone: a rep reads the
copy in each language, an admin writes the team's own wording (a broken placeholder is shown
next to the text, with what was typed kept), resets it, and a German customer reads it on
WhatsApp. Screenshots go to `var/screenshots/`."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from backend import i18n
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Staff, StaffTranslation
from backend.services import contacts, languages, staff_auth, translations
from tests.processes import ROOT

SARAH, ANIL = "+9779801000001", "+9779801000009"
CUSTOMER = "+4915112345678"
GOODBYE = "Thanks for chatting with us! Reply here anytime. 🙏"
ASK_TREK = "Which trek are you interested in? We run: {treks}."
STOPPED = (
    "You're unsubscribed: no more offers, surveys or reminders that can wait. "
    "We'll still message you about your bookings, payments due and your trip's safety. "
    "Reply START to hear from us again."
)
SHOTS = Path(os.environ.get("TMS_SCREENSHOTS_DIR") or ROOT / "var" / "screenshots")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True}


@pytest.fixture(autouse=True)
def no_wording_left_here():
    """The tests read the copy in this process too: leave none of the wording behind."""
    yield
    i18n.install_overrides({})


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _path(language: str, message_id: str) -> str:
    return f"/console/translations/{language}/{translations.key_of(message_id)}"


def _stored(db: str) -> dict[tuple[str, str], str]:
    with transaction(db) as s:
        return {(r.language, r.message_id): r.text for r in s.scalars(select(StaffTranslation))}


def test_a_rep_reads_the_copy_in_each_language_and_cannot_change_it(console, pg_db_url):
    sarah = console.sign_in(SARAH)
    page = sarah.get("/console/translations")
    assert page.status_code == 200
    assert 'href="/console/translations"' in page.text  # in the menu, next to Answers
    assert "<textarea" not in page.text and 'lang="de">Danke für Ihre Nachricht' in page.text
    french = sarah.get("/console/translations", params={"language": "fr", "q": "CHATTING with"})
    assert french.text.count('<li id="t-') == 1 and 'lang="fr">Merci' in french.text
    refused = sarah.post(
        _path("de", GOODBYE), data={"csrf": _csrf(page), "text": "Tschüss", "do": "save"}
    )
    assert refused.status_code == 403 and _stored(pg_db_url) == {}


def test_an_admin_saves_resets_and_a_broken_placeholder_keeps_what_was_typed(console, pg_db_url):
    anil = console.sign_in(ANIL)
    page = anil.get(
        "/console/translations", params={"language": "de", "q": "interested in? We run"}
    )
    assert page.status_code == 200 and page.text.count("<textarea") == 1
    # Without the form's CSRF token: refused, nothing saved.
    assert anil.post(_path("de", ASK_TREK), data={"text": "x"}).status_code == 403
    broken = "Welcher Trek interessiert Sie? Wir bieten: {trek}."
    refused = anil.post(
        _path("de", ASK_TREK) + "?language=de&q=interested+in%3F+We+run",
        data={"csrf": _csrf(page), "text": broken, "do": "save"},
    )
    assert refused.status_code == 422
    assert "missing {treks}; not in the English: {trek}" in refused.text
    assert 'aria-invalid="true" aria-describedby="err-' in refused.text
    assert f">{broken}</textarea>" in refused.text  # what was typed is still there
    assert _stored(pg_db_url) == {}

    fixed = "Welcher Trek interessiert Sie? Wir bieten: {treks}."
    saved = anil.post(
        _path("de", ASK_TREK) + "?language=de&q=interested+in%3F+We+run",
        data={"csrf": _csrf(page), "text": fixed, "do": "save"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"].startswith(
        "/console/translations?language=de&q=interested+in%3F+We+run#t-"
    )
    assert _stored(pg_db_url) == {("de", ASK_TREK): fixed}
    shown = anil.get(saved.headers["location"].split("#")[0])
    assert "Saved: customers reading German" in shown.text and f">{fixed}</textarea>" in shown.text
    assert "by Anil Admin" in shown.text

    back = anil.post(
        _path("de", ASK_TREK), data={"csrf": _csrf(page), "text": fixed, "do": "reset"}
    )
    assert back.status_code == 303 and _stored(pg_db_url) == {}
    # On the timeline, which a rep reads.
    sarah = console.sign_in(SARAH)
    events = sarah.get(
        "/console/timeline",
        params={"object_type": "TRANSLATION", "object_id": translations.object_id("de", ASK_TREK)},
    )
    assert "Anil Admin wrote the German words for “Which trek are you interested in?" in (
        events.text.replace("&#34;", '"')
    )
    assert "Anil Admin put the German words for" in events.text


def test_a_german_customer_reads_the_team_s_wording_on_whatsapp(console, pg_db_url):
    with transaction(pg_db_url) as s:
        contact = contacts.get_or_create_contact(s, CUSTOMER, name="Jonas")
        languages.choose(s, contact, "de", SYSTEM)
    anil = console.sign_in(ANIL)
    page = anil.get("/console/translations", params={"language": "de", "q": "unsubscribed"})
    ours = "Abgemeldet: keine Angebote mehr. Zu Ihrer Buchung hören Sie weiter von uns."
    saved = anil.post(_path("de", STOPPED), data={"csrf": _csrf(page), "text": ours, "do": "save"})
    assert saved.status_code == 303
    since = console.total()
    httpx.post(
        f"{console.fake_url}/_fake/inbound",
        json={"from": CUSTOMER, "text": "STOP", "name": "Jonas"},
    ).raise_for_status()
    deadline = time.monotonic() + 30
    while True:
        found = httpx.get(
            f"{console.fake_url}/_fake/messages", params={"to": CUSTOMER, "since": since}
        ).json()["messages"]
        if found:
            break
        assert time.monotonic() < deadline, "no reply to STOP"
        time.sleep(0.1)
    assert [m["text"] for m in found] == [ours]


def test_the_page_on_a_phone(browser, console, pg_db_url):
    """Anil on his phone: filters, a refused wording with the reason beside it, then saved."""
    with transaction(pg_db_url) as s:
        member = s.scalar(select(Staff).where(Staff.phone == ANIL))
        cookie = staff_auth.open_session(s, member, how="test").cookie
    context = browser.new_context(**PHONE)
    context.add_cookies(
        [{"name": "tms_console", "value": cookie, "url": f"{console.url}/console/"}]
    )
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.goto(f"{console.url}/console/translations")
        page.get_by_label("Search").fill("interested in? We run")
        page.get_by_role("button", name="Filter").click()
        row = page.locator("li[id^='t-']")
        row.wait_for()
        assert row.count() == 1
        box = row.get_by_label("Your German wording")
        box.fill("Welcher Trek? Wir bieten: {trek}.")
        row.get_by_role("button", name="Save").click()
        error = page.locator(".field-error")
        error.wait_for()
        assert "missing {treks}" in error.inner_text()
        assert page.locator("li[id^='t-']").get_by_label("Your German wording").input_value() == (
            "Welcher Trek? Wir bieten: {trek}."
        )
        # Nothing is wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(SHOTS / "console-translations-refused.png"), full_page=True)
        box = page.locator("li[id^='t-']").get_by_label("Your German wording")
        box.fill("Welcher Trek? Wir bieten: {treks}.")
        page.locator("li[id^='t-']").get_by_role("button", name="Save").click()
        page.locator(".flash").wait_for()
        assert "Saved" in page.locator(".flash").inner_text()
        page.screenshot(path=str(SHOTS / "console-translations.png"), full_page=False)
        with transaction(pg_db_url) as s:
            assert s.scalar(select(func.count(StaffTranslation.id))) == 1
    finally:
        context.close()
