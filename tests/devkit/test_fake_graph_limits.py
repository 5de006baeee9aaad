"""The fake Graph API refuses what Meta refuses in interactive messages and templates, so the
product's own builders are checked against it (and a title too long is shortened before it
gets there: tests/backend/whatsapp/test_statuses_and_window.py)."""

from __future__ import annotations

from typing import Any

import pytest

from backend.domain.whatsapp_messages import (
    Button,
    Buttons,
    ListMessage,
    Row,
    request_body,
)
from backend.whatsapp.templates import template_for
from devkit.fake_graph import FakeMeta, message_choices

WA_ID = "61412000001"


@pytest.fixture
def fake() -> FakeMeta:
    return FakeMeta(
        webhook_url="http://127.0.0.1:9/none", app_secret="s", access_token="t", phone_number_id="1"
    )


def _code(fake: FakeMeta, body: dict[str, Any]) -> int | None:
    refused = fake.check(body)
    return None if refused is None else refused[1]["error"]["code"]


def _list(rows: list[dict[str, Any]], button: str = "Choose") -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": WA_ID,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Pick"},
            "action": {"button": button, "sections": [{"title": "Options", "rows": rows}]},
        },
    }


def test_what_the_builders_make_is_accepted(fake):
    buttons = Buttons("Accept?", (Button("/affirm", "Accept"), Button("/deny", "Decline")))
    listed = ListMessage("Pick", "Choose", tuple(Row(f"/r{i}", f"Row {i}") for i in range(10)))
    template = template_for("assignment_offer").build(["EBC"], ["/affirm{}", "/deny{}"])
    for message in (buttons, listed, template):
        assert _code(fake, request_body(WA_ID, message)) is None
    assert [c["title"] for c in message_choices(request_body(WA_ID, template))] == [
        "Accept",
        "Decline",
    ]


@pytest.mark.parametrize(
    "rows, button",
    [
        ([{"id": f"r{i}", "title": "t"} for i in range(11)], "Choose"),  # 11 rows
        ([{"id": "r", "title": "x" * 25}], "Choose"),  # row title over 24
        ([{"id": "r", "title": "t", "description": "d" * 73}], "Choose"),  # description over 72
        ([{"id": "r", "title": "a"}, {"id": "r", "title": "b"}], "Choose"),  # repeated id
        ([{"id": "r" * 201, "title": "t"}], "Choose"),  # id over 200
        ([{"id": "r", "title": "t"}], "A list button label too long"),
    ],
)
def test_lists_beyond_metas_limits_are_refused(fake, rows, button):
    assert _code(fake, _list(rows, button)) == 131009


def test_buttons_beyond_metas_limits_are_refused(fake):
    def buttons(*titles: str, body: str = "Pick") -> dict[str, Any]:
        return {
            "messaging_product": "whatsapp",
            "to": WA_ID,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": body},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": f"b{i}", "title": t}}
                        for i, t in enumerate(titles)
                    ]
                },
            },
        }

    assert _code(fake, buttons("a", "b", "c")) is None
    assert _code(fake, buttons("a", "b", "c", "d")) == 131009
    assert _code(fake, buttons("x" * 21)) == 131009
    assert _code(fake, buttons("a", body="x" * 1025)) == 131009


def test_a_template_with_a_quick_reply_it_was_not_approved_with_is_refused(fake):
    body = request_body(WA_ID, template_for("assignment_offer").build(["EBC"], ["/a", "/b"]))
    body["template"]["components"].append(
        {
            "type": "button",
            "sub_type": "quick_reply",
            "index": "2",
            "parameters": [{"type": "payload", "payload": "/c"}],
        }
    )
    assert _code(fake, body) == 132018
    plain = request_body(WA_ID, template_for("customer_update").build(["Hello"], ["/x"]))
    assert _code(fake, plain) is None  # no quick replies approved: none sent
