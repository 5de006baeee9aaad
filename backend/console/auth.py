"""Signing in and out of the console: a code on WhatsApp or a one-time link, then a
session cookie. These pages are open to anyone, so every form carries a token of its own
(double submit) and a strange value gets the one refusal, never an error."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from backend import texts
from backend.console.web import (
    COOKIE,
    PRE_COOKIE,
    Ctx,
    add_console_cookie,
    clear_session_cookie,
    client_address,
    console_bp,
    console_cookie,
    console_page,
    home_of,
    html,
    safe_next,
    see_other,
    set_session_cookie,
    tokens_match,
)
from backend.db import transaction
from backend.domain.access import Area
from backend.http_common import access
from backend.models import Staff
from backend.services import staff_auth


def _pre_token(request: Request) -> tuple[str, bool]:
    existing = console_cookie(request, PRE_COOKIE)
    return (existing, False) if existing else (secrets.token_urlsafe(24), True)


def _with_pre(resp: HTTPResponse, token: str, fresh: bool) -> HTTPResponse:
    if fresh:
        add_console_cookie(resp, PRE_COOKIE, token, httponly=True, samesite="Strict", max_age=3600)
    return resp


def _field(request: Request, name: str, most: int) -> str:
    """A sign-in form's field, cut to what it can hold (these pages are open to anyone: a
    strange value gets the one refusal, never an error)."""
    value = request.form.get(name) if request.form else None
    return (value if isinstance(value, str) else "").strip()[:most]


def _pre_ok(request: Request) -> bool:
    expected = console_cookie(request, PRE_COOKIE) or ""
    return bool(expected) and tokens_match(_field(request, "csrf", 200), expected)


def _sign_in_page(
    request: Request, template: str = "sign_in.html", status: int = 200, **context: Any
) -> HTTPResponse:
    token, fresh = _pre_token(request)
    raw_next = request.args.get("next") or _field(request, "next", 2000)
    page = html(
        template,
        status,
        me=None,
        csrf=token,
        next=safe_next(raw_next[:2000]) or "",
        again=request.args.get("again") == "1",
        sign_in_again=texts.CONSOLE_SIGN_IN_AGAIN,
        **context,
    )
    return _with_pre(page, token, fresh)


def _wait_page(
    request: Request, refused: staff_auth.TooManyTries, template: str, **context: Any
) -> HTTPResponse:
    """429 with Retry-After: this client has tried too often (its own budget, not the phone's)."""
    page = _sign_in_page(
        request, template, 429, error=texts.console_too_many_tries(refused.retry_after), **context
    )
    page.headers["Retry-After"] = str(refused.retry_after)
    return page


@console_bp.get("/")
@access("anyone: sends a signed-in member home, anyone else to the sign-in page")
async def console_home(request: Request) -> HTTPResponse:
    def work() -> str:
        with transaction() as session:
            record = staff_auth.current_session(session, console_cookie(request, COOKIE))
            return home_of(record.staff) if record else "/console/sign-in"

    return see_other(await asyncio.to_thread(work))


@console_bp.get("/sign-in")
@access("anyone: the sign-in form (a phone number)")
async def sign_in_form(request: Request) -> HTTPResponse:
    return _sign_in_page(request)


@console_bp.post("/sign-in")
@access("anyone with the form's token: sends a code to a staff member's WhatsApp")
async def sign_in_send_code(request: Request) -> HTTPResponse:
    if not _pre_ok(request):
        return _sign_in_page(request, status=403, error=texts.CONSOLE_FORM_EXPIRED)
    phone = _field(request, "phone", 40)
    client = client_address(request)

    def work() -> None:
        with transaction() as session:
            staff_auth.send_code(session, phone, client=client)

    try:
        await asyncio.to_thread(work)
    except staff_auth.TooManyTries as refused:
        return _wait_page(request, refused, "sign_in.html")
    return _sign_in_page(request, "code.html", phone=phone, notice=texts.CONSOLE_CODE_SENT)


async def _open_session(
    request: Request, how: str, member_of: Callable[[Session, str], Staff | None]
) -> tuple[str, str] | None:
    """A session for the member `member_of` finds (by a code, by a link) from this client,
    replacing the browser's earlier one: its cookie and the member's home page; None when
    nobody was found. `staff_auth.TooManyTries` passes through."""
    agent = request.headers.get("user-agent", "")
    client = client_address(request)
    previous = console_cookie(request, COOKIE)

    def work() -> tuple[str, str] | None:
        with transaction() as session:
            member = member_of(session, client)
            if member is None:
                return None
            opened = staff_auth.open_session(
                session, member, how=how, user_agent=agent, client=client, replacing=previous
            )
            return opened.cookie, home_of(member)

    return await asyncio.to_thread(work)


def _signed_in(request: Request, opened: tuple[str, str]) -> HTTPResponse:
    cookie, home = opened
    resp = see_other(safe_next(_field(request, "next", 2000)) or home)
    set_session_cookie(resp, cookie)
    return resp


@console_bp.post("/sign-in/code")
@access("anyone with the form's token and a valid code: opens a session")
async def sign_in_check_code(request: Request) -> HTTPResponse:
    phone = _field(request, "phone", 40)
    if not _pre_ok(request):
        return _sign_in_page(
            request, "code.html", 403, phone=phone, error=texts.CONSOLE_FORM_EXPIRED
        )
    code = _field(request, "code", 20)
    try:
        signed = await _open_session(
            request,
            "whatsapp code",
            lambda session, client: staff_auth.check_code(session, phone, code, client=client),
        )
    except staff_auth.TooManyTries as refused:
        return _wait_page(request, refused, "code.html", phone=phone)
    if signed is None:
        return _sign_in_page(
            request, "code.html", 401, phone=phone, error=texts.CONSOLE_CODE_REFUSED
        )
    return _signed_in(request, signed)


@console_bp.get("/sign-in/link/<secret:str>")
@access("anyone holding a one-time link: a page with a button (link previews must not use it)")
async def sign_in_link_page(request: Request, secret: str) -> HTTPResponse:
    return _sign_in_page(request, "link.html", secret=secret[:100])


@console_bp.post("/sign-in/link/<secret:str>")
@access("anyone holding a one-time link and the form's token: opens a session, uses the link")
async def sign_in_with_link(request: Request, secret: str) -> HTTPResponse:
    secret = secret[:100]
    if not _pre_ok(request):
        return _sign_in_page(
            request, "link.html", 403, secret=secret, error=texts.CONSOLE_FORM_EXPIRED
        )
    try:
        signed = await _open_session(
            request,
            "one-time link",
            lambda session, client: staff_auth.use_link(session, secret, client=client),
        )
    except staff_auth.TooManyTries as refused:
        return _wait_page(request, refused, "link.html", secret=secret)
    if signed is None:
        return _sign_in_page(request, status=410, error=texts.CONSOLE_LINK_REFUSED)
    return _signed_in(request, signed)


@console_bp.post("/sign-out")
@console_page(Area.ACCOUNT)
def sign_out(ctx: Ctx) -> HTTPResponse:
    staff_auth.end_session(ctx.session, ctx.record)
    resp = see_other("/console/sign-in")
    clear_session_cookie(resp)
    return resp
