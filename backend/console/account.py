"""My account (every role): signed-in sessions and API tokens."""

from __future__ import annotations

from sanic.response import HTTPResponse

from backend.config import get_settings
from backend.console.forms import whole_number
from backend.console.web import Ctx, console_bp, console_page
from backend.domain.access import Area
from backend.services import staff as staff_service
from backend.services import staff_auth


def _account(ctx: Ctx, new_token: str | None = None) -> HTTPResponse:
    return ctx.page(
        "account.html",
        sessions=staff_auth.sessions_of(ctx.session, ctx.member),
        current_id=ctx.record.id,
        tokens=staff_service.tokens_of(ctx.session, ctx.member),
        token_days=get_settings().api_token_days,
        idle_minutes=get_settings().session_idle_minutes,
        max_hours=f"{get_settings().session_max_hours:g}",
        max_token_days=staff_service.MAX_TOKEN_DAYS,
        new_token=new_token,
    )


@console_bp.get("/account")
@console_page(Area.ACCOUNT)
def account_page(ctx: Ctx) -> HTTPResponse:
    return _account(ctx)


@console_bp.post("/account/sessions/end")
@console_page(Area.ACCOUNT)
def account_end_sessions(ctx: Ctx) -> HTTPResponse:
    only = ctx.form("session_id")[:64] or None
    ended = staff_auth.end_other_sessions(ctx.session, ctx.record, only=only)
    return ctx.done("/console/account", f"Signed out of {ended} other session(s)")


@console_bp.post("/account/tokens")
@console_page(Area.ACCOUNT, fresh=True)
def account_new_token(ctx: Ctx) -> HTTPResponse:
    raw_days = ctx.form("days")
    days = whole_number(raw_days, "Days", 1, staff_service.MAX_TOKEN_DAYS) if raw_days else None
    token = staff_service.issue_token(
        ctx.session, ctx.member, ctx.actor, label=ctx.form("label")[:80], days=days
    )
    # Shown once, on this response only (never stored, never in a redirect URL).
    return _account(ctx, token)


@console_bp.post("/account/tokens/<token_id:int>/revoke")
@console_page(Area.ACCOUNT)
def account_revoke_token(ctx: Ctx, token_id: int) -> HTTPResponse:
    found = staff_service.revoke_token(ctx.session, ctx.member, token_id, ctx.actor)
    return ctx.done("/console/account", f"Token “{found.label}” revoked: it stops working now")
