"""The staff console under `/console/`: what sales reps, operations managers, admins and guides
work in. Server-rendered pages and plain forms; the live parts refresh from the event stream
(`backend/console/live.py`). Every handler is a thin layer over the same services the admin
API and the assistant use, in one transaction, as the signed-in staff member.

The routes live in one module per area (as pretix's control views do), all on the one
blueprint of `backend/console/web.py`; importing this module registers every one of them."""

from __future__ import annotations

from backend.console import (  # noqa: F401  (each module adds its routes to the blueprint)
    account,
    admin,
    answers,
    auth,
    bookings,
    campaigns,
    departures,
    incidents,
    kpis,
    leads,
    live,
    me,
    message_rates,
    message_templates,
    papers,
    payments,
    timeline,
    translations,
)
from backend.console.web import console_bp

__all__ = ["console_bp"]
