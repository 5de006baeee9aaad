"""The timeline page (SALES, OPS): recent events or one object's, each by its own area, each
as the sentence staff read (`timeline.describe`) over its code and its JSON."""

from __future__ import annotations

import json

from sanic.response import HTTPResponse

from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.services import timeline


@console_bp.get("/timeline")
@console_page(Area.TIMELINE)
def timeline_page(ctx: Ctx) -> HTTPResponse:
    object_type, object_id = ctx.arg("object_type").upper()[:24], ctx.arg("object_id")[:36]
    if object_type and object_id:
        found = timeline.for_object(ctx.session, object_type, object_id, reader=ctx.member)
    else:
        found = timeline.latest(ctx.session, reader=ctx.member, limit=100)
    return ctx.page(
        "timeline.html",
        events=found,
        sentences=timeline.describe(ctx.session, found),
        object_type=object_type,
        object_id=object_id,
        as_json=lambda e: json.dumps(e.as_dict(), indent=2, ensure_ascii=False),
    )
