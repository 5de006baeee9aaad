"""The console's forms and the sign-in routes fuzzed (issue 21): every POST route, signed in
as an administrator (every role) or not at all, with any path segment, any form value (a
non-ASCII CSRF token, digits `int()` refuses, megabytes) and the real CSRF token or another.
No 5xx: a strange value gets a 4xx or a page that says what was wrong."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from backend.app import create_app
from backend.db import transaction
from backend.models import Booking, Departure, Incident, Lead, Product, Staff
from backend.web.limits import body_limit_for

pytestmark = pytest.mark.fuzz

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ANIL, SARAH = "+9779801000009", "+9779801000001"
# Signing out would end the fuzzing's own session; every other form is fair game.
SKIPPED = {"/console/sign-out"}
TRICKY = [
    "²",
    "５",
    "١٢",
    "9" * 5000,
    " 3 ",
    "ü" * 40_000,
    "x" * 200_000,
    "1e999999",
    "sNaN",
    "-0",
    "2026-02-30",
    "٢٠٢٦-٠١-٠١",
    "+97798０１000001",
    "ﬀ",
    "\u202e",
    "",
]
FIELDS = [
    "csrf",
    "phone",
    "code",
    "next",
    "name",
    "email",
    "price",
    "price_per_person",
    "prefilled_price",
    "discount",
    "party_size",
    "days",
    "capacity",
    "start_date",
    "meeting_time",
    "compensation",
    "role",
    "staff_id",
    "departure_id",
    "product_id",
    "status",
    "text",
    "template",
    "reason",
    "label",
    "session_id",
    "answer",
    "product",
    "available",
    "role_ADMIN",
    "role_SALES",
    "booking_x",
]
value = st.one_of(st.sampled_from(TRICKY), st.text(max_size=300), st.integers().map(str))
segment = st.one_of(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"),
        min_size=1,
        max_size=200,
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


def _post_routes() -> list[str]:
    app = create_app(workers=False)
    found = set()
    for route in app.router.routes:
        path = "/" + route.path
        if path.startswith("/console") and "POST" in route.methods and path not in SKIPPED:
            found.add(path)
    return sorted(found)


ROUTES = _post_routes()
PARAM = re.compile(r"<([a-z_]+):?([a-z]*)>")


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def admin(console, pg_db_url):
    browser = console.sign_in(ANIL)
    with transaction(pg_db_url) as s:
        ids = {
            "lead_id": s.scalar(select(Lead.id).limit(1)),
            "booking_id": s.scalar(select(Booking.id).limit(1)),
            "departure_id": s.scalar(select(Departure.id).limit(1)),
            "incident_id": s.scalar(select(Incident.id).limit(1)),
            "product_id": s.scalar(select(Product.id).limit(1)),
            "staff_id": s.scalar(select(Staff.id).where(Staff.phone == SARAH)),
        }
    return browser, _csrf(browser.get("/console/account")), ids


def _fill(path: str, ids: dict[str, str | None], raw: str | None) -> str:
    def one(match: re.Match[str]) -> str:
        known = ids.get(match.group(1)) or "1"
        return quote(raw if raw is not None else known, safe="")

    return PARAM.sub(one, path)


@FUZZ
@given(
    path=st.sampled_from(ROUTES),
    raw=st.one_of(st.none(), segment),
    body=st.dictionaries(st.sampled_from(FIELDS), value, max_size=6),
    real_csrf=st.booleans(),
)
def test_no_console_form_fails_the_server(admin, path, raw, body, real_csrf):
    browser, csrf, ids = admin
    if real_csrf:
        body = {**body, "csrf": csrf}
    target = _fill(path, ids, raw)
    try:
        answer = browser.post(target, data=body)
    except (httpx.ReadError, httpx.WriteError):
        # A body over the route's limit is refused (413) before it is read, and the server
        # closes the connection while the client may still be writing: only allowed then.
        size = len(urlencode(body).encode())
        assert size > body_limit_for(target), target
    else:
        assert answer.status_code < 500, (path, raw, {k: v[:50] for k, v in body.items()})
    # The session survives whatever was sent (nothing signs the administrator out).
    assert browser.get("/console/account").status_code == 200


@FUZZ
@given(
    path=st.sampled_from(["/console/sign-in", "/console/sign-in/code", "/console/sign-in/link/x"]),
    body=st.dictionaries(st.sampled_from(["csrf", "phone", "code", "next"]), value, max_size=4),
    real_csrf=st.booleans(),
)
def test_no_sign_in_form_fails_the_server(console, path, body, real_csrf):
    browser = console.client()
    if real_csrf:
        body = {**body, "csrf": _csrf(browser.get("/console/sign-in"))}
    answer = browser.post(path, data=body)
    assert answer.status_code < 500, (path, {k: v[:50] for k, v in body.items()})
    assert answer.status_code in (303, 200, 401, 403, 410, 413, 429)


@pytest.mark.parametrize("token", ["é", "²" * 40, "x" * 200_000])
def test_a_non_ascii_or_huge_csrf_token_is_refused_not_a_crash(console, pg_db_url, token):
    sarah = console.sign_in(SARAH)
    with transaction(pg_db_url) as s:
        lead_id = s.scalar(select(Lead.id).limit(1))
    answer = sarah.post(f"/console/leads/{lead_id}/lost", data={"csrf": token, "reason": "x"})
    assert answer.status_code in (403, 413)
    form = console.client()
    form.get("/console/sign-in")
    pre = form.post("/console/sign-in", data={"csrf": token, "phone": SARAH})
    assert pre.status_code in (403, 413)
