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
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend.db import transaction
from backend.domain.actor import Actor
from backend.domain.enums import Role, Source
from backend.domain.errors import DomainError, NotFound
from backend.http_common import Handler, has_nul
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


def authenticate(session: Session, request: Request) -> Staff:
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    member = staff_service.by_token(session, token) if token else None
    if member is None:
        raise ApiError(401, "a valid staff token is required (Authorization: Bearer <token>)")
    return member


def staff_actor(member: Staff) -> Actor:
    return Actor(Source.ADMIN, phone=member.phone, staff_id=member.id)


EVERY_ROLE = tuple(Role)


def endpoint(
    *roles: Role, body: type[BaseModel] | None = None, query: tuple[str, ...] = ()
) -> Callable[[Handler], Handler]:
    """Run the handler in a worker thread inside one transaction, as an authenticated staff
    member holding one of `roles` (ADMIN may do everything). Maps errors to statuses.

    Every route names its roles: there is no "any token" default. A route open to every role
    (`EVERY_ROLE`) must only show the caller what is theirs. `body`: the JSON body's model,
    validated (422 naming the fields) and passed as `body=`; `query`: the query parameters it
    reads. Both, with the roles and the docstring, make the OpenAPI document."""
    if not roles:
        raise ValueError("an endpoint must name the roles that may use it")

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request, **kwargs: Any) -> HTTPResponse:
            def work() -> HTTPResponse:
                if has_nul(request):
                    raise ApiError(422, "the request holds a NUL character", fields={"body": "NUL"})
                with transaction() as session:
                    member = authenticate(session, request)
                    if not member.has_role(*roles):
                        raise ApiError(403, f"needs one of the roles {', '.join(roles)}")
                    if body is not None:
                        kwargs["body"] = parse_body(request, body)
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
            except OperationalError as exc:
                if not _is_lock_conflict(exc):
                    raise
                return error_response(
                    409, "busy with another change; nothing was changed, try again", code="busy"
                )

        # Read by the OpenAPI document and the permission tests.
        run.tms_roles = roles  # type: ignore[attr-defined]
        run.tms_body = body  # type: ignore[attr-defined]
        run.tms_query = query  # type: ignore[attr-defined]
        return run

    return wrap


def _is_lock_conflict(exc: OperationalError) -> bool:
    """A lock wait that timed out, or a deadlock PostgreSQL broke: the caller may try again."""
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "lock" in text or "deadlock" in text
