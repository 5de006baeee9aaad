"""WhatsApp message templates as Meta holds them (ADMIN): each template in each language with
its category (and the one Meta moved it from), status, quality and parameters, as the last
`tms templates sync` and Meta's template webhooks left them
(`backend/services/message_templates.py`)."""

from __future__ import annotations

from sanic.response import HTTPResponse

from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.services import message_templates
from backend.whatsapp.templates import seeds


@console_bp.get("/templates")
@console_page(Area.ADMINISTRATION)
def templates_page(ctx: Ctx) -> HTTPResponse:
    records = message_templates.records(ctx.session)
    known = {r.name for r in records}
    return ctx.page(
        "templates.html",
        records=records,
        sendable=message_templates.SENDABLE,
        # The product's templates Meta has not been heard about yet: sent as the seed says.
        not_synced=[spec for spec in seeds() if spec.name not in known],
    )
