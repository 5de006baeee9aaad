"""What every HTTP face of the backend shares (the admin API, the staff console, the
customers' pages, the webhooks): naming who may use a route, refusing a NUL character before
it reaches PostgreSQL, and a row or a 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic import Request
from sqlalchemy.orm import Session

from backend.domain.errors import NotFound

Handler = Callable[..., Any]


def has_nul(request: Request) -> bool:
    """A NUL character cannot be stored or searched in PostgreSQL text: refuse it up front."""
    if "\x00" in request.query_string or "%00" in request.query_string:
        return True
    body = request.body or b""
    if b"\x00" in body or b"\\u0000" in body:  # raw, or escaped inside a JSON string
        return True
    return any("\x00" in value for values in (request.form or {}).values() for value in values)


def access(rule: str) -> Callable[[Handler], Handler]:
    """Name who may use a route that takes no staff token (a signed webhook, a public page),
    so that every route of the app says who may use it (the permission tests check)."""

    def mark(handler: Handler) -> Handler:
        handler.tms_access = rule  # type: ignore[attr-defined]
        return handler

    return mark


def get_or_404(session: Session, model: type, object_id: str, label: str) -> Any:
    found = session.get(model, object_id)
    if found is None:
        raise NotFound(f"No {label} {object_id}")
    return found
