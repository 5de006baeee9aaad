"""The customer copy's translations through the admin API: staff read them per language, an
admin writes the team's own wording (checked as the console checks it), every change is on
the timeline, and another process reads it at its next look."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from backend import i18n, texts
from backend.db import transaction
from backend.models import StaffTranslation
from backend.services import translations
from tests.conftest import load_demo_world

GOODBYE = "Thanks for chatting with us! Reply here anytime. 🙏"
ASK_TREK = "Which trek are you interested in? We run: {treks}."


@pytest.fixture
def call(backend_url, pg_db_url, story_clock) -> Iterator:
    tokens = load_demo_world(pg_db_url).staff_tokens

    def request(method: str, path: str, who: str = "Anil Admin", **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        return httpx.request(method, f"{backend_url}{path}", headers=headers, timeout=30, **kw)

    yield request
    i18n.install_overrides({})  # what this process read from the backend's changes


def _stored(db: str) -> int:
    with transaction(db) as s:
        return s.scalar(select(func.count(StaffTranslation.id))) or 0


def test_a_rep_reads_every_text_in_each_language(call) -> None:
    listed = call("GET", "/api/translations?language=de", who="Sarah Gurung")
    assert listed.status_code == 200
    german = listed.json()["languages"]["de"]
    assert [row["messageId"] for row in german] == list(translations.template())
    goodbye = next(row for row in german if row["messageId"] == GOODBYE)
    assert goodbye["catalogue"].startswith("Danke") and goodbye["status"] == "translated"
    assert goodbye["staffText"] is None and goodbye["editable"] is True
    every = call("GET", "/api/translations", who="Priya Thapa").json()["languages"]
    assert set(every) == {"de", "fr", "es"}
    found = call("GET", "/api/translations?language=fr&q=chatting%20with").json()
    assert [row["messageId"] for row in found["languages"]["fr"]] == [GOODBYE]
    assert call("GET", "/api/translations?language=it").status_code == 422


def test_an_admin_writes_the_wording_another_process_reads_it_and_a_rep_cannot(
    call, pg_db_url
) -> None:
    body = {"message_id": GOODBYE, "text": "Danke fürs Schreiben – bis bald! 🙏"}
    assert call("PUT", "/api/translations/de", who="Sarah Gurung", json=body).status_code == 403
    assert _stored(pg_db_url) == 0
    saved = call("PUT", "/api/translations/de", json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {
        "language": "de",
        "messageId": GOODBYE,
        "staffText": body["text"],
        "staffForms": None,
    }
    # This test's process is another process: it reads the change at its next look.
    with transaction(pg_db_url) as s:
        translations.refresh(s, force=True)
    with i18n.speaking("de"):
        assert texts.goodbye() == body["text"]
    listed = call("GET", "/api/translations?language=de", who="Sarah Gurung").json()
    row = next(r for r in listed["languages"]["de"] if r["messageId"] == GOODBYE)
    assert row["staffText"] == body["text"] and row["updatedBy"] == "Anil Admin"
    # On the timeline, which a rep reads too.
    events = call(
        "GET",
        "/api/timeline",
        who="Sarah Gurung",
        params={"object_type": "TRANSLATION", "object_id": translations.object_id("de", GOODBYE)},
    ).json()["events"]
    assert [e["action"] for e in events] == ["tms.translation.saved"]
    assert events[0]["sentence"].startswith("Anil Admin wrote the German words for “Thanks")
    # An empty text goes back to the catalogue's translation.
    back = call("PUT", "/api/translations/de", json={"message_id": GOODBYE, "text": ""})
    assert back.status_code == 200 and back.json()["staffText"] is None
    assert _stored(pg_db_url) == 0
    with transaction(pg_db_url) as s:
        translations.refresh(s, force=True)
    with i18n.speaking("de"):
        assert texts.goodbye().startswith("Danke für Ihre Nachricht")


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/translations/de", {"message_id": ASK_TREK, "text": "Wir bieten: {trek}."}, 409),
        ("/api/translations/de", {"message_id": ASK_TREK, "text": "Welcher Trek?"}, 409),
        ("/api/translations/de", {"message_id": ASK_TREK, "text": "Wir bieten {treks"}, 409),
        ("/api/translations/de", {"message_id": "No such English", "text": "Nein"}, 404),
        ("/api/translations/it", {"message_id": GOODBYE, "text": "Grazie!"}, 404),
        ("/api/translations/en", {"message_id": GOODBYE, "text": "Thanks!"}, 404),
        ("/api/translations/de", {"text": "Danke"}, 422),
        ("/api/translations/de", {"message_id": GOODBYE, "text": "x" * 5000}, 422),
    ],
)
def test_a_wrong_wording_is_refused_and_changes_nothing(call, pg_db_url, path, body, status):
    answer = call("PUT", path, json=body)
    assert answer.status_code == status, answer.text
    if status == 409:
        assert answer.json()["code"] == "wording_refused"
        assert "Not saved" in answer.json()["error"]
    assert _stored(pg_db_url) == 0
