"""A trek's texts per language through the admin API (PostgreSQL, the backend in its own
process): staff who read the catalogue read them, an admin writes them, a malformed or
refused body writes nothing (422 naming the fields), an unknown trek or language is 404, and
a text with a count is written form by form on `/api/translations`."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select

from backend import i18n
from backend.db import transaction
from backend.models import StaffTranslation, TimelineEvent, TrekText
from tests.conftest import load_demo_world

GERMAN = {
    "name": "Pokhara an einem Tag",
    "itinerary": [{"title": "Pokhara an einem Tag", "detail": "Sonnenaufgang in Sarangkot"}],
    "inclusions": ["Klimatisiertes Fahrzeug", "Lizenzierter Guide"],
}


@pytest.fixture
def call(backend_url, pg_db_url, story_clock) -> Iterator:
    tokens = load_demo_world(pg_db_url).staff_tokens

    def request(method: str, path: str, who: str = "Anil Admin", **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        return httpx.request(method, f"{backend_url}{path}", headers=headers, timeout=30, **kw)

    yield request
    i18n.install_overrides({})


def _stored(db: str) -> tuple[int, int]:
    with transaction(db) as s:
        rows = s.scalar(select(func.count(TrekText.id))) or 0
        events = s.scalar(
            select(func.count(TimelineEvent.id)).where(
                TimelineEvent.action.like("tms.trek_texts.%")
            )
        )
        return rows, events or 0


def test_an_admin_writes_a_trek_s_german_texts_and_a_rep_reads_them(call, pg_db_url) -> None:
    assert (
        call("PUT", "/api/products/PKR/texts/de", who="Sarah Gurung", json=GERMAN).status_code
        == 403
    )
    saved = call("PUT", "/api/products/pkr/texts/de", json=GERMAN)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["customersRead"]["name"] == "Pokhara an einem Tag"
    assert body["customersRead"]["itinerary"] == [
        {"days": "1", "title": "Pokhara an einem Tag", "detail": "Sonnenaufgang in Sarangkot"}
    ]
    assert body["english"]["inclusions"][0] == "Air-conditioned vehicle"
    assert body["written"]["packingList"] is None and body["updatedBy"] == "Anil Admin"
    read = call("GET", "/api/products/PKR/texts/de", who="Priya Thapa").json()
    assert read["customersRead"]["inclusions"] == GERMAN["inclusions"]
    french = call("GET", "/api/products/PKR/texts/fr", who="Sarah Gurung").json()
    assert french["written"] is None and french["customersRead"] == french["english"]
    # Every text empty: back to the English.
    assert call("PUT", "/api/products/PKR/texts/de", json={}).json()["written"] is None
    assert _stored(pg_db_url) == (0, 2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 121}, "name"),
        ({"itinerary": [{"title": "a"}, {"title": "b"}]}, "itinerary"),  # PKR has one day line
        ({"itinerary": [{"title": "a", "when": "today"}]}, "itinerary.0.when"),
        ({"inclusions": "Alles"}, "inclusions"),
        ({"packingList": ["x" * 301]}, "packingList"),
        ({"nom": "Pokhara"}, "nom"),
    ],
)
def test_a_malformed_or_refused_body_writes_nothing(call, pg_db_url, body, field) -> None:
    refused = call("PUT", "/api/products/PKR/texts/de", json=body)
    assert refused.status_code == 422, refused.text
    assert field in refused.json()["fields"], refused.json()
    assert _stored(pg_db_url) == (0, 0)


def test_an_unknown_trek_or_language_is_not_found(call, pg_db_url) -> None:
    assert call("PUT", "/api/products/XYZ/texts/de", json=GERMAN).status_code == 404
    assert call("PUT", "/api/products/PKR/texts/it", json=GERMAN).status_code == 404
    assert call("GET", "/api/products/PKR/texts/en").status_code == 404
    assert _stored(pg_db_url) == (0, 0)


def test_a_text_with_a_count_is_written_form_by_form(call, pg_db_url) -> None:
    group = "👥 Group: {count} person"
    listed = call("GET", "/api/translations?language=de&q=Group%3A", who="Sarah Gurung").json()
    [row] = [r for r in listed["languages"]["de"] if r["messageId"] == group]
    assert row["editable"] is True and row["forms"] == ["1", "0, 2, 3, 4, …"]
    one_form = {"message_id": group, "forms": ["👥 {count} Gast"]}
    refused = call("PUT", "/api/translations/de", json=one_form)
    assert refused.status_code == 409 and "2 forms" in refused.json()["error"]
    both = {"message_id": group, "forms": ["👥 {count} Gast", "👥 {count} Gäste"]}
    saved = call("PUT", "/api/translations/de", json=both)
    assert saved.status_code == 200 and saved.json()["staffForms"] == both["forms"]
    with transaction(pg_db_url) as s:
        [stored] = s.scalars(select(StaffTranslation)).all()
        assert stored.forms == both["forms"]
