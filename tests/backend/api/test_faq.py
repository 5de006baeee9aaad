"""The operator's answers through the admin API: every staff member reads them, only an admin
changes them, and every change is on the timeline."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.models import TimelineEvent
from backend.services import knowledge
from tests.conftest import load_demo_world


@pytest.fixture
def call(backend_url, pg_db_url, story_clock):
    tokens = load_demo_world(pg_db_url).staff_tokens

    def request(method: str, path: str, who: str = "Anil Admin", **kw) -> httpx.Response:
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        return httpx.request(method, f"{backend_url}{path}", headers=headers, timeout=30, **kw)

    return request


def test_staff_read_every_topic_with_product_answers(call):
    listed = call("GET", "/api/faq", who="Sarah Gurung").json()["topics"]
    assert [t["topic"] for t in listed] == list(knowledge.topics())
    assert len(listed) >= 25
    permits = next(t for t in listed if t["topic"] == "permits")
    assert {a["product"] for a in permits["answers"]} >= {None, "PKR"}


def test_an_admin_changes_an_answer_and_a_rep_cannot(call, pg_db_url):
    body = {"answer": "We take Visa, Mastercard and bank transfers in USD."}
    refused = call("PUT", "/api/faq/payment_methods", who="Sarah Gurung", json=body)
    assert refused.status_code == 403
    changed = call("PUT", "/api/faq/payment_methods", json=body)
    assert changed.status_code == 200 and changed.json()["answer"] == body["answer"]
    for_pokhara = call(
        "PUT",
        "/api/faq/payment_methods",
        json={"answer": "Cash on the day is fine.", "product": "pkr"},
    )
    assert for_pokhara.json()["product"] == "PKR"
    with transaction(pg_db_url) as s:
        from backend.services import catalog

        assert knowledge.answer_for(s, "payment_methods") == body["answer"]
        assert (
            knowledge.answer_for(s, "payment_methods", catalog.get_product(s, "PKR"))
            == "Cash on the day is fine."
        )
        events = s.scalars(
            select(TimelineEvent).where(TimelineEvent.action == "tms.faq.answer_updated")
        ).all()
        assert len(events) == 2 and events[0].content["after"] == body["answer"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/api/faq/no_such_topic", {"answer": "x"}, 404),
        ("/api/faq/tipping", {"answer": ""}, 422),
        ("/api/faq/tipping", {"answer": "x" * 2001}, 422),
        ("/api/faq/tipping", {"answer": "ok", "product": "NOPE"}, 404),
        ("/api/faq/tipping", {"answer": "   "}, 422),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(call, pg_db_url, path, body, status):
    answer = call("PUT", path, json=body)
    assert answer.status_code == status, answer.text
    with transaction(pg_db_url) as s:
        assert knowledge.answer_for(s, "tipping") == knowledge.topics()["tipping"].answer
