"""How a customer asks for a language."""

from __future__ import annotations

import pytest

from backend.domain.languages import name_of, requested_language


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("English please", "en"),
        ("english pls", "en"),
        ("in English, please!", "en"),
        ("Please write in English", "en"),
        ("auf Deutsch bitte", "de"),
        ("Deutsch bitte", "de"),
        ("en français svp", "fr"),
        ("Francais s'il vous plait", "fr"),
        ("en español por favor", "es"),
        ("espanol porfa", "es"),
        ("in Spanish please", "es"),
    ],
)
def test_a_message_that_only_asks_for_a_language_names_it(text: str, code: str) -> None:
    assert requested_language(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "Do you have English speaking guides?",
        "I speak English and a bit of German",
        "is the guide deutsch or english?",
        "please",
        "",
        None,
    ],
)
def test_a_message_about_something_else_asks_for_no_language(text: str | None) -> None:
    assert requested_language(text) is None


def test_staff_read_a_languages_english_name() -> None:
    assert (name_of("it"), name_of("de"), name_of(None)) == ("Italian", "German", "English")
