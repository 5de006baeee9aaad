"""How a console page runs: the session cookie, the role check, the CSRF check, one
transaction, and the flash message a form leaves for the next page.

Every console route goes through `console_page(*roles)` (or is a sign-in page marked with
`access`), so every route names who may use it, as the admin API's routes do."""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from sanic import Blueprint, Request, response
from sanic.response import HTTPResponse
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend import rendering, texts
from backend.config import get_settings
from backend.db import transaction
from backend.domain.access import Area, may_see, roles_for
from backend.domain.actor import Actor
from backend.domain.enums import Role, Source
from backend.domain.errors import DomainError, NotFound
from backend.http_common import access, has_nul
from backend.models import Staff, StaffSession, TimelineEvent
from backend.services import staff_auth

logger = logging.getLogger(__name__)

COOKIE = "tms_console"
# The sign-in forms come before any session: a random cookie they must echo (double submit).
PRE_COOKIE = "tms_console_pre"
# A form value longer than this is refused (the longest real one, a message, is 3,000).
FORM_VALUE_MAX = 10_000

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self';"
        " connect-src 'self'; img-src 'self' data:; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
}

# What each role finds in the menu: the areas of `backend.domain.access`, the same table that
# decides whether a page opens and which events a role reads.
NAV: list[tuple[str, str, Area]] = [
    ("Leads", "/console/leads", Area.LEADS),
    ("Bookings", "/console/bookings", Area.BOOKINGS),
    ("Departures", "/console/departures", Area.DEPARTURES),
    ("Today", "/console/today", Area.TRIPS),
    ("Incidents", "/console/incidents", Area.INCIDENTS),
    ("Payments", "/console/payments", Area.PAYMENTS),
    ("Timeline", "/console/timeline", Area.TIMELINE),
    ("KPIs", "/console/kpis", Area.FEEDBACK),
    ("Answers", "/console/answers", Area.CATALOG),
    ("Translations", "/console/translations", Area.CATALOG),
    ("Campaigns", "/console/campaigns", Area.MESSAGES),
    ("Templates", "/console/templates", Area.ADMINISTRATION),
    ("Rates", "/console/message-rates", Area.ADMINISTRATION),
    ("Admin", "/console/admin", Area.STAFF_ADMIN),
    ("My trips", "/console/me", Area.MY_TRIPS),
]


# The one blueprint every area module (backend/console/auth.py, leads.py, …) adds its routes to;
# backend/console/routes.py imports them all.
console_bp = Blueprint("console", url_prefix="/console")


@console_bp.on_response
async def security_headers(request: Request, resp: HTTPResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(name, value)


@console_bp.get("/static/console.js")
@access("public: the console's script, no data in it")
async def console_js(request: Request) -> HTTPResponse:
    return response.text(
        rendering.render("console/console.js"),
        content_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=600"},
    )


def secure_cookies() -> bool:
    return get_settings().public_base_url.startswith("https://")


def add_console_cookie(resp: HTTPResponse, name: str, value: str, **options: Any) -> None:
    """Over https a `__Host-` cookie (Secure, path "/", no Domain: no other host or subdomain
    can set or shadow it); over plain http (development) a cookie for /console."""
    if secure_cookies():
        resp.add_cookie(name, value, path="/", secure=True, host_prefix=True, **options)
    else:
        resp.add_cookie(name, value, path="/console", secure=False, **options)


def console_cookie(request: Request, name: str) -> str | None:
    """The cookie `name` as `add_console_cookie` set it (over https only the `__Host-` one)."""
    value = request.cookies.get(f"__Host-{name}" if secure_cookies() else name)
    return value if isinstance(value, str) else None


def client_address(request: Request) -> str:
    """The client's address for the sign-in budgets: behind a proxy, Sanic takes it from the
    forwarded headers only when FORWARDED_SECRET / REAL_IP_HEADER / PROXIES_COUNT say so."""
    return (request.remote_addr or request.ip or "")[:64]


def home_of(member: Staff) -> str:
    """Where a staff member lands after signing in."""
    if member.has_role(Role.SALES):
        return "/console/leads"
    if member.has_role(Role.OPS):
        return "/console/incidents"
    return "/console/me"


def safe_next(raw: str | None) -> str | None:
    """Only a path inside the console: never an open redirect."""
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return None
    if "//" in parts.path or "\\" in raw:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def html(template: str, status: int = 200, **context: Any) -> HTTPResponse:
    return response.html(rendering.render(f"console/{template}", **context), status=status)


def see_other(url: str) -> HTTPResponse:
    return response.redirect(url, status=303)


def latest_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(TimelineEvent.id))) or 0)


@dataclass
class Ctx:
    """What a console handler gets: the request, the transaction, who is signed in."""

    request: Request
    session: Session
    member: Staff
    record: StaffSession

    @property
    def actor(self) -> Actor:
        return Actor(Source.ADMIN, phone=self.member.phone, staff_id=self.member.id)

    def form(self, name: str, default: str = "") -> str:
        value = self.request.form.get(name) if self.request.form else None
        return strict_value(value if value is not None else default)

    def arg(self, name: str, default: str = "") -> str:
        return strict_value(self.request.args.get(name) or default)

    def page(self, template: str, status: int = 200, **context: Any) -> HTTPResponse:
        # The live script re-fetches the page in the background; only the page a person
        # navigates to may show (and so use up) the message a form left.
        if self.request.headers.get("x-console-live"):
            flash = None
        else:
            flash, self.record.flash = self.record.flash, None
        kind, _, text = (flash or "").partition(":")
        return html(
            template,
            status,
            me=self.member,
            csrf=self.record.csrf_token,
            nav=[(label, url) for label, url, area in NAV if may_see(self.member.roles, area)],
            path=self.request.path,
            flash={"kind": kind, "text": text} if flash else None,
            after_id=latest_event_id(self.session),
            **context,
        )

    def done(self, url: str, message: str) -> HTTPResponse:
        """A form did its work: say so on the next page (post/redirect/get)."""
        self.record.flash = f"ok:{message}"
        return see_other(url)


Handler = Callable[..., HTTPResponse]


def _origin_ok(request: Request) -> bool:
    """A browser's POST from another site carries that site's Origin: refuse it."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def strict_value(value: object) -> str:
    """A form or query value as text, stripped; a huge one is refused (a business-rule answer,
    so the person sees why), never passed on."""
    text = value if isinstance(value, str) else ""
    if len(text) > FORM_VALUE_MAX:
        raise DomainError(
            f"A field is longer than {FORM_VALUE_MAX:,} characters: nothing was saved"
        )
    return text.strip()


def tokens_match(given: str, expected: str) -> bool:
    """Constant-time comparison of a submitted token, whatever characters it holds
    (`hmac.compare_digest` raises on non-ASCII text: compare the bytes)."""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def _csrf_ok(request: Request, expected: str) -> bool:
    given = (request.form.get("csrf") if request.form else None) or ""
    return tokens_match(given, expected) and _origin_ok(request)


def parent_of(path: str) -> str:
    """Where a refused form goes back to: the page it was posted from (`<page>/<action>`;
    every administration form comes from the admin page)."""
    if path.startswith("/console/admin/"):
        return "/console/admin"
    return path.rsplit("/", 1)[0] or "/console/"


def console_page(area: Area, *, fresh: bool = False) -> Callable[[Handler], Any]:
    """A console route of `area`, for the roles `backend.domain.access` gives it (ADMIN may do
    everything): no session
    → the sign-in page; wrong role → 403; a POST without its CSRF token → 403 and nothing
    changed. A business rule that says no → back to the page with the reason. `fresh`: the
    route changes who may do what (roles, tokens, staff), so a session signed in longer ago
    than FRESH_SIGN_IN_MINUTES is sent to sign in again and back to the page (ASVS 3.7.1)."""
    roles = roles_for(area)

    def wrap(handler: Handler) -> Any:
        @functools.wraps(handler)
        async def run(request: Request, **kwargs: Any) -> HTTPResponse:
            def work() -> HTTPResponse:
                if has_nul(request):
                    return html(
                        "forbidden.html", 400, me=None, message="That input holds a NUL character."
                    )
                with transaction() as session:
                    # The page's own background refresh is not the person using it.
                    record = staff_auth.current_session(
                        session,
                        console_cookie(request, COOKIE),
                        extend=not request.headers.get("x-console-live"),
                    )
                    if record is None:
                        target = request.path + (
                            f"?{request.query_string}" if request.query_string else ""
                        )
                        return see_other(f"/console/sign-in?next={quote(target)}")
                    member = record.staff
                    if not member.has_role(*roles):
                        return html(
                            "forbidden.html", 403, me=member, message=texts.CONSOLE_FORBIDDEN
                        )
                    if request.method == "POST" and not _csrf_ok(request, record.csrf_token):
                        return html(
                            "forbidden.html", 403, me=member, message=texts.CONSOLE_FORM_EXPIRED
                        )
                    if fresh and not staff_auth.is_fresh(record):
                        back = parent_of(request.path) if request.method == "POST" else request.path
                        return see_other(f"/console/sign-in?again=1&next={quote(back)}")
                    return handler(Ctx(request, session, member, record), **kwargs)

            try:
                return await asyncio.to_thread(work)
            except (DomainError, OperationalError) as exc:
                if isinstance(exc, OperationalError) and "lock" not in str(exc).lower():
                    raise
                message = (
                    str(exc)
                    if isinstance(exc, DomainError)
                    else "Busy with another change; nothing was changed, try again."
                )
                if request.method == "POST":  # back to the form's page, which says why
                    await asyncio.to_thread(_flash_error, console_cookie(request, COOKIE), message)
                    return see_other(parent_of(request.path))
                status = 404 if isinstance(exc, NotFound) else 400
                if request.path.endswith(".json"):
                    return response.json({"error": message}, status=status)
                return html("forbidden.html", status, me=None, message=message)

        run.tms_roles = roles  # type: ignore[attr-defined]
        run.tms_area = area  # type: ignore[attr-defined]
        run.tms_fresh = fresh  # type: ignore[attr-defined]
        return run

    return wrap


def _flash_error(cookie: str | None, message: str) -> None:
    with transaction() as session:
        record = staff_auth.current_session(session, cookie)
        if record is not None:
            record.flash = f"error:{message}"


def set_session_cookie(resp: HTTPResponse, value: str) -> None:
    # The browser may forget it when the session can no longer be alive anyway.
    add_console_cookie(
        resp,
        COOKIE,
        value,
        httponly=True,
        samesite="Lax",
        max_age=int(staff_auth.session_max().total_seconds()),
    )


def clear_session_cookie(resp: HTTPResponse) -> None:
    if secure_cookies():
        resp.delete_cookie(COOKIE, path="/", host_prefix=True)
    else:
        resp.delete_cookie(COOKIE, path="/console")
