"""The approved templates: bodies that Meta would approve, and what the phone shows."""

from __future__ import annotations

import re

import pytest

from backend import texts
from backend.whatsapp.templates import TemplateSpec, approved, load_templates, template_for

VARIABLE = re.compile(r"\{\{\d+\}\}")


@pytest.mark.parametrize("purpose", sorted(load_templates()))
def test_each_body_follows_metas_approval_rules(purpose):
    spec = load_templates()[purpose]
    body = spec.body.strip()
    # Meta refuses a body that starts or ends with a variable, or has two side by side.
    assert not VARIABLE.match(body) and not re.search(r"\{\{\d+\}\}$", body), body
    assert not re.search(r"\}\}\s*\{\{", body), body
    assert len(body) <= 1024
    assert re.fullmatch(r"[a-z0-9_]+", spec.name)


def test_purposes_that_share_a_template_share_its_body_and_parameters():
    by_name: dict[str, TemplateSpec] = {}
    for spec in load_templates().values():
        first = by_name.setdefault(spec.name, spec)
        assert (first.body, first.params) == (spec.body, spec.params)


def test_a_body_whose_placeholders_do_not_match_its_parameters_is_refused():
    with pytest.raises(ValueError, match="do not match"):
        TemplateSpec(name="x", language="en", params=2, body="Hi {{1}}, bye.")


def test_render_fills_the_parameters_in():
    spec = approved("trip_started")
    assert spec is not None
    text = spec.render(["EBC Trek", "Rajesh Kumar", "+9779801000003", "https://t.example/x"])
    assert text.startswith("Your EBC Trek has started! 🎉")
    assert "Lead Guide: Rajesh Kumar\nContact: +9779801000003" in text
    assert "Track progress: https://t.example/x" in text


def test_quick_replies_are_the_titles_the_product_offers_in_the_window():
    """A tap on a template's quick reply and on the in-window button must read the same."""
    assert template_for("assignment_offer").quick_replies == (texts.ACCEPT, texts.DECLINE)
    assert template_for("waitlist_offer").quick_replies == (texts.CONFIRM, texts.DECLINE)
    assert template_for("feedback_request").quick_replies == tuple(texts.RATING_TITLES.values())


def test_quick_replies_carry_their_payloads_only_when_they_match_one_for_one():
    spec = template_for("assignment_offer")
    sent = spec.build(["EBC"], ["/affirm{}", "/deny{}"]).payload()["template"]["components"]
    assert [(c["type"], c.get("index")) for c in sent] == [
        ("body", None),
        ("button", "0"),
        ("button", "1"),
    ]
    assert len(spec.build(["EBC"], ["/affirm{}"]).payload()["template"]["components"]) == 1
    with pytest.raises(ValueError):
        TemplateSpec("t", "en", 0, "Hi", quick_replies=tuple(str(i) for i in range(11)))
    with pytest.raises(ValueError):
        TemplateSpec("t", "en", 0, "Hi", quick_replies=("a title of twenty-six chars",))
