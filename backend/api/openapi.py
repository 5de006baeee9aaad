"""The OpenAPI document of the admin API, built from the routes and their body models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from backend.api import routes

# (method, path, summary, roles, body model)
OPERATIONS: list[tuple[str, str, str, str, type[BaseModel] | None]] = [
    ("get", "/api/leads", "List leads (?status=NEW&assignee=<staff id>|me)", "SALES", None),
    (
        "get",
        "/api/leads/{lead_id}",
        "A lead with its conversation's messages and timeline",
        "SALES",
        None,
    ),
    (
        "post",
        "/api/leads/{lead_id}/quote",
        "Quote the lead and send the quote on WhatsApp (lead QUOTED)",
        "SALES",
        routes.QuoteBody,
    ),
    (
        "post",
        "/api/leads/{lead_id}/hold",
        "Hold Inventory: 24 h hold from the quote, Lead WON, Booking HELD",
        "SALES",
        None,
    ),
    (
        "get",
        "/api/departures",
        "Departures with capacity, confirmed, held, offered, waitlist, available",
        "OPS, SALES",
        None,
    ),
    (
        "get",
        "/api/departures/{departure_id}",
        "A departure with bookings, manifest, trip and assignments",
        "OPS, SALES",
        None,
    ),
    (
        "post",
        "/api/departures/{departure_id}/assignments",
        "Assign staff; the offer goes on WhatsApp",
        "OPS",
        routes.AssignBody,
    ),
    (
        "get",
        "/api/bookings/{booking_id}",
        "A booking (id or reference) with its timeline",
        "SALES, OPS",
        None,
    ),
    (
        "post",
        "/api/bookings/{booking_id}/cancel",
        "Cancel; freed seats are offered to the waitlist",
        "SALES, OPS",
        routes.CancelBody,
    ),
    ("get", "/api/incidents", "Incidents, open first, by severity", "OPS", None),
    (
        "post",
        "/api/incidents/{incident_id}",
        "Update an incident; message the guide and/or guests",
        "OPS",
        routes.IncidentUpdateBody,
    ),
    (
        "post",
        "/api/conversations/{conversation_id}/messages",
        "Send a free-form message (window and template rules apply)",
        "SALES, OPS",
        routes.MessageBody,
    ),
    (
        "post",
        "/api/conversations/{conversation_id}/handoff",
        "Pause or resume the bot for a conversation",
        "SALES, OPS",
        routes.HandoffBody,
    ),
    (
        "get",
        "/api/timeline",
        "Timeline by object (object_type, object_id), conversation_id, or start/end",
        "any",
        None,
    ),
    ("get", "/api/outbox", "Outbound messages (?status=failed)", "SALES, OPS", None),
    ("get", "/api/staff", "Staff members", "any", None),
]


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, summary, roles, body in OPERATIONS:
        operation: dict[str, Any] = {
            "summary": summary,
            "description": f"Roles: {roles} (ADMIN may do everything).",
            "security": [{"bearer": []}],
            "responses": {
                "200": {"description": "OK"},
                "401": {"description": "No or wrong token"},
                "403": {"description": "Wrong role"},
                "404": {"description": "Unknown id"},
                "409": {"description": "Illegal transition or a business rule said no"},
                "422": {"description": "Invalid body; `fields` names them"},
            },
        }
        if body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body.model_json_schema()}},
            }
        params = [p.strip("{}") for p in path.split("/") if p.startswith("{")]
        if params:
            operation["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in params
            ]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "TMS WhatsApp admin API", "version": "1.0"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "paths": paths,
    }
