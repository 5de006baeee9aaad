"""The OpenAPI document of the admin API, generated from the app's own routes: each route's
roles, body model and query parameters come from its `endpoint(...)` declaration and its
summary from the handler's docstring, so the document cannot drift from the code."""

from __future__ import annotations

import re
from typing import Any

from sanic import Sanic

RESPONSES = {
    "200": {"description": "OK"},
    "401": {"description": "No, wrong or deactivated token"},
    "403": {"description": "Wrong role"},
    "404": {"description": "Unknown id"},
    "409": {"description": "Illegal transition or a business rule said no"},
    "422": {"description": "Invalid body or query; `fields` names them"},
}
_PARAM = re.compile(r"<(\w+)(?::[^>]+)?>")


def api_operations(app: Sanic) -> list[tuple[str, str, Any]]:
    """(method, OpenAPI path, handler) of every admin API route, in a stable order."""
    found = []
    for route in app.router.routes:
        handler = route.handler
        if not hasattr(handler, "tms_roles"):
            continue
        path = "/" + _PARAM.sub(r"{\1}", route.path.strip("/"))
        if not path.startswith("/api/"):
            continue  # the console's pages (tests/backend/console) are not the API
        for method in sorted(route.methods):
            if method in ("HEAD", "OPTIONS"):
                continue
            found.append((method.lower(), path, handler))
    return sorted(found, key=lambda item: (item[1], item[0]))


def document(app: Sanic) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, handler in api_operations(app):
        roles = ", ".join(handler.tms_roles)
        summary = (handler.__doc__ or handler.__name__).strip().splitlines()[0]
        operation: dict[str, Any] = {
            "operationId": handler.__name__,
            "summary": summary,
            "description": f"Roles: {roles} (ADMIN may do everything).",
            "security": [{"bearer": []}],
            "responses": RESPONSES,
        }
        body = handler.tms_body
        if body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body.model_json_schema()}},
            }
        parameters = [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
            for p in re.findall(r"\{(\w+)\}", path)
        ] + [
            {"name": q, "in": "query", "required": False, "schema": {"type": "string"}}
            for q in handler.tms_query
        ]
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "TMS WhatsApp admin API", "version": "1.1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
