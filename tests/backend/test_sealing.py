"""Sealed values open only under a configured key; rotation re-seals under the newest."""

import pytest
from cryptography.fernet import Fernet

from backend import sealing


@pytest.fixture
def keys(monkeypatch):
    def use(*keys):
        monkeypatch.setenv("TRAVELLER_DATA_KEYS", ",".join(keys))

    return use


def test_a_sealed_value_opens_and_does_not_show_in_the_token(keys):
    keys(Fernet.generate_key().decode())
    token = sealing.seal_json({"passport_number": "P1234567"})
    assert "P1234567" not in token
    assert sealing.open_json(token) == {"passport_number": "P1234567"}


def test_rotation_keeps_old_values_readable_and_reseals_under_the_newest(keys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    token = sealing.seal_bytes(b"medical: asthma")
    keys(new, old)
    assert sealing.open_bytes(token) == b"medical: asthma"
    resealed = sealing.reseal(token)
    keys(new)
    assert sealing.open_bytes(resealed) == b"medical: asthma"
    with pytest.raises(sealing.Unsealable):
        sealing.open_bytes(token)


def test_a_tampered_token_is_refused(keys):
    keys(Fernet.generate_key().decode())
    token = bytearray(sealing.seal_bytes(b"x"))
    token[-5] = ord("A") if token[-5] != ord("A") else ord("B")
    with pytest.raises(sealing.Unsealable):
        sealing.open_bytes(bytes(token))
