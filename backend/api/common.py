"""Auth, errors and validation shared by the admin API handlers.

No or wrong token → 401; wrong role → 403; invalid body → 422 naming the fields; unknown id →
404; an illegal transition (or any business rule that says no) → 409 with the reason.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sanic import Request, response
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from backend.db import transaction
from backend.domain.actor import Actor
from backend.domain.enums import Role, Source
from backend.domain.errors import DomainError, NotFound
from backend.models import Staff
from backend.services import staff as staff_service

Body = TypeVar("Body", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


def error_response(status: int, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


def parse_body(request: Request, model: type[Body]) -> Body:
    try:
        data = request.json if request.body else {}
    except Exception as exc:
        raise ApiError(422, "body is not valid JSON") from exc
    try:
        return model.model_validate(data or {})
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
        raise ApiError(422, "invalid body", fields=fields) from exc


def _authenticate(session: Session, request: Request) -> Staff:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    member = staff_service.by_token(session, token) if token else None
    if member is None:
        raise ApiError(401, "a valid staff token is required (Authorization: Bearer <token>)")
    return member


def staff_actor(member: Staff) -> Actor:
    return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


Handler = Callable[..., Any]


def endpoint(*roles: Role) -> Callable[[Handler], Handler]:
    """Run the handler in a worker thread inside one transaction, as an authenticated staff
    member holding one of `roles` (ADMIN may do everything). Maps errors to statuses."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request, **kwargs: Any) -> HTTPResponse:
            def work() -> HTTPResponse:
                with transaction() as session:
                    member = _authenticate(session, request)
                    if roles and not member.has_role(*roles):
                        raise ApiError(403, f"needs one of the roles {', '.join(roles)}")
                    result = handler(request, session, member, **kwargs)
                    return result if isinstance(result, HTTPResponse) else response.json(result)

            try:
                return await asyncio.to_thread(work)
            except ApiError as exc:
                return error_response(exc.status, str(exc), **exc.extra)
            except NotFound as exc:
                return error_response(404, str(exc))
            except DomainError as exc:
                return error_response(409, str(exc), code=exc.code)

        return run

    return wrap


def get_or_404(session: Session, model: type, object_id: str, label: str) -> Any:
    found = session.get(model, object_id)
    if found is None:
        raise NotFound(f"No {label} {object_id}")
    return found
