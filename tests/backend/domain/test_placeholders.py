"""The placeholders of a customer text (backend/domain/placeholders.py): one rule for the
catalogues' test and for the wording staff write on the Translations page."""

from __future__ import annotations

import pytest

from backend.domain.placeholders import markup_faults, placeholder_faults, placeholders


def test_both_styles_are_read_by_name() -> None:
    assert placeholders("{name} paid {amount:,} of %(total)s (100%)") == {
        "{name}",
        "{amount}",
        "%(total)s",
    }
    assert placeholders("{{literal}} braces and 5% off") == set()


def test_an_unpaired_brace_is_an_error() -> None:
    with pytest.raises(ValueError):
        placeholders("Hello {name")


@pytest.mark.parametrize(
    ("source", "translation", "faults"),
    [
        ("Hi {name}", "Hallo {name}", []),
        ("{a} and {b}", "{b} und {a} ({a})", []),
        ("Hi {name}", "Hallo", ["missing {name}"]),
        ("Hi {name}", "Hallo {nom}", ["missing {name}", "not in the English: {nom}"]),
        ("%(n)s seats", "%(n)d Plätze", []),
        ("%(n)s seats", "{n} Plätze", ["missing %(n)s", "not in the English: {n}"]),
    ],
)
def test_a_translation_keeps_exactly_the_english_placeholders(
    source: str, translation: str, faults: list[str]
) -> None:
    assert placeholder_faults(source, translation) == faults


def test_a_stray_brace_in_a_translation_is_named() -> None:
    (fault,) = placeholder_faults("Hi {name}", "Hallo {name")
    assert "without its pair" in fault and "{name}" in fault
    (fault,) = placeholder_faults("Hello", "Hallo }")
    assert "no other braces" in fault


def test_a_text_filled_with_percent_writes_a_percent_sign_twice() -> None:
    assert placeholder_faults("%(n)s%% off", "%(n)s%% Rabatt") == []
    assert placeholder_faults("%(n)s%% off", "%(n)s % Rabatt") == [
        "a percent sign is written %% in this text"
    ]
    # A web page's `{% trans %}` text is filled with % even without a field.
    assert placeholder_faults("Pay now", "Jetzt 100% zahlen", filled_with_percent=True) != []
    assert placeholder_faults("Pay now", "Jetzt 100%% zahlen", filled_with_percent=True) == []
    # The WhatsApp copy is filled with str.format: a percent sign is just that.
    assert placeholder_faults("{percent}% off", "{percent} % Rabatt") == []


def test_a_translation_keeps_the_markup_of_the_english_and_adds_none() -> None:
    source = "Please pay by <strong>%(hold_expires)s</strong> to confirm it."
    assert markup_faults(source, "Bitte zahlen Sie bis <strong>%(hold_expires)s</strong>.") == []
    assert markup_faults(source, "Bitte zahlen Sie bis %(hold_expires)s.") == [
        "missing the markup </strong> <strong>"
    ]
    assert markup_faults(source, '<strong>x</strong><img src=x onerror="alert(1)">') == [
        'markup not in the English: <img src=x onerror="alert(1)">'
    ]
