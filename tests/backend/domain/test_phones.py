import pytest

from backend.domain.errors import InvalidPhoneNumber
from backend.domain.phones import normalise_phone, wa_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+977 980-1000001", "+9779801000001"),
        ("9779801000001", "+9779801000001"),  # WhatsApp wa_id form
        ("009779801000001", "+9779801000001"),
        ("980 1000001", "+9779801000001"),  # national, default region Nepal
        ("+1 (202) 555-0143", "+12025550143"),
    ],
)
def test_numbers_are_normalised_to_e164(raw, expected):
    assert normalise_phone(raw, "NP") == expected


@pytest.mark.parametrize("raw", ["", "hello", "+1234", "+977 12"])
def test_invalid_numbers_are_a_clear_error(raw):
    with pytest.raises(InvalidPhoneNumber) as info:
        normalise_phone(raw, "NP")
    assert "phone" in str(info.value).lower()


def test_wa_id_is_digits_only():
    assert wa_id("+9779801000001") == "9779801000001"
