"""The media folder (MEDIA_DIR) for the services: files named by key, the same layout as the
media fetcher's store (backend/whatsapp/media.py, an edge the services do not import)."""

from __future__ import annotations

import os
from pathlib import Path

from backend.config import get_settings
from backend.domain.errors import DomainError


def path_of(key: str) -> Path:
    root = Path(get_settings().media_dir)
    path = (root / key).resolve()
    if root.resolve() not in path.parents:
        raise ValueError(f"media key {key!r} leaves the store")
    return path


def put(key: str, content: bytes) -> None:
    """Written whole or not at all (a temporary file renamed over the key)."""
    path = path_of(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".part")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def get(key: str, *, missing: str = "The file is missing from the media folder") -> bytes:
    try:
        return path_of(key).read_bytes()
    except FileNotFoundError as exc:
        raise DomainError(missing) from exc


def delete(key: str) -> None:
    path_of(key).unlink(missing_ok=True)
