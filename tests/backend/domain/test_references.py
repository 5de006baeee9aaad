import pytest

from backend.domain.errors import InvalidReference
from backend.domain.references import (
    booking_reference,
    booking_reference_for_lead,
    lead_reference,
    parse_reference,
    reference_key,
)


def test_reference_formats():
    assert lead_reference("EBC2501", 234) == "EBC2501234"
    assert booking_reference("EBC2501", 234) == "EBC-2501234"
    assert lead_reference("TRP2501", 7) == "TRP2501007"
    assert booking_reference_for_lead("EBC2501234") == "EBC-2501234"


@pytest.mark.parametrize("spelling", ["EBC-2501234", "ebc2501234", "Ebc-2501234", " ebc 2501234 "])
def test_any_spelling_has_the_same_key(spelling):
    assert reference_key(spelling) == "EBC2501234"
    assert parse_reference(spelling) == ("EBC", "2501", 234)


def test_sequences_past_999_keep_growing():
    assert parse_reference(lead_reference("ANN2503", 1234)) == ("ANN", "2503", 1234)


@pytest.mark.parametrize("text", ["", "EBC", "12345", "hello world", "EBC-25"])
def test_garbage_names_the_expected_format(text):
    with pytest.raises(InvalidReference) as info:
        parse_reference(text)
    assert "EBC2501234" in str(info.value)
