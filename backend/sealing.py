"""Sealing personal data at rest: Fernet (AES-128-CBC with HMAC-SHA256, `cryptography`) under
the keys of `TRAVELLER_DATA_KEYS`, the newest first.

A database dump, a backup or the media folder alone reveals nothing sealed: the keys live in
the environment only. Rotation: put a new key first in the list (the old ones stay readable),
then `tms travellers rotate-keys` re-seals every value under the new key; the old key can go
once it has run. Production refuses to start without real keys (backend/config.py).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from backend.config import get_settings


class Unsealable(Exception):
    """Sealed under a key no longer configured, or tampered with."""


@lru_cache(maxsize=4)
def _fernet_for(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])


def _fernet() -> MultiFernet:
    return _fernet_for(get_settings().traveller_data_keys)


def seal_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def open_bytes(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken as exc:
        raise Unsealable("sealed under an unknown key, or altered") from exc


def seal_json(value: Any) -> str:
    return seal_bytes(json.dumps(value, sort_keys=True).encode()).decode()


def open_json(token: str) -> Any:
    return json.loads(open_bytes(token.encode()))


def reseal(token: bytes) -> bytes:
    """The same value sealed under the newest key (rotation)."""
    try:
        return _fernet().rotate(token)
    except InvalidToken as exc:
        raise Unsealable("sealed under an unknown key, or altered") from exc
