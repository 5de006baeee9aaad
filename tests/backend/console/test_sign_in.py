"""Signing in to the console: a code on WhatsApp (read back from the fake Graph API), wrong and
expired codes, the one-time link, sign-out, and what an attacker gets to try."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import SignInCode, Staff, StaffSession
from backend.services import staff_auth

SARAH, PRIYA, RAJESH = "+9779801000001", "+9779801000002", "+9779801000003"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def test_a_rep_signs_in_with_the_code_sent_on_whatsapp_and_signs_out(console):
    browser = console.sign_in(SARAH)
    inbox = browser.get("/console/leads")
    assert inbox.status_code == 200 and "Leads" in inbox.text and "Sarah Gurung" in inbox.text
    cookie = browser.cookies.get("tms_console")
    assert cookie
    out = browser.post("/console/sign-out", data={"csrf": _csrf(inbox)})
    assert out.status_code == 303 and out.headers["location"] == "/console/sign-in"
    # The old cookie opens nothing any more, even replayed by hand.
    stale = console.client()
    stale.cookies.set("tms_console", cookie)
    replay = stale.get("/console/leads")
    assert replay.status_code == 303 and replay.headers["location"].startswith("/console/sign-in")


def test_the_session_cookie_is_httponly_and_samesite(console):
    browser = console.client()
    form = browser.get("/console/sign-in")
    since = console.total()
    browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": PRIYA})
    code = console.code_sent_to(PRIYA, since)
    done = browser.post(
        "/console/sign-in/code", data={"csrf": _csrf(form), "phone": PRIYA, "code": code}
    )
    header = done.headers["set-cookie"].lower()
    assert "tms_console=" in header and "httponly" in header and "samesite=lax" in header
    assert "path=/console" in header
    assert done.headers["location"] == "/console/incidents"  # ops land on the incident board


def test_wrong_codes_are_refused_and_then_the_client_is_told_to_wait(
    console, pg_db_url, story_clock
):
    browser = console.client()
    form = browser.get("/console/sign-in")
    since = console.total()
    browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": SARAH})
    code = console.code_sent_to(SARAH, since)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    for _ in range(staff_auth.GUESSES_PER_CLIENT.free):
        refused = browser.post(
            "/console/sign-in/code", data={"csrf": _csrf(form), "phone": SARAH, "code": wrong}
        )
        assert refused.status_code == 401 and "did not work" in refused.text
    # This client is over its budget: even the right code waits, and the page says so.
    wait = browser.post(
        "/console/sign-in/code", data={"csrf": _csrf(form), "phone": SARAH, "code": code}
    )
    assert wait.status_code == 429 and wait.headers["retry-after"] == "60"
    assert "wait 1 minute" in wait.text
    with transaction(pg_db_url) as s:
        assert s.scalar(select(StaffSession).limit(1)) is None
    # The code itself was not used up by those guesses: after the wait it works.
    story_clock.advance(seconds=61)
    done = browser.post(
        "/console/sign-in/code", data={"csrf": _csrf(form), "phone": SARAH, "code": code}
    )
    assert done.status_code == 303


def test_an_expired_code_is_refused(console, story_clock):
    browser = console.client()
    form = browser.get("/console/sign-in")
    since = console.total()
    browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": SARAH})
    code = console.code_sent_to(SARAH, since)
    story_clock.advance(minutes=11)
    late = browser.post(
        "/console/sign-in/code", data={"csrf": _csrf(form), "phone": SARAH, "code": code}
    )
    assert late.status_code == 401 and "older than 10 minutes" in late.text


def test_an_unknown_phone_gets_the_same_answer_and_no_message(console, pg_db_url):
    browser = console.client()
    form = browser.get("/console/sign-in")
    since = console.total()
    stranger = browser.post(
        "/console/sign-in", data={"csrf": _csrf(form), "phone": "+9779812345678"}
    )
    staff = browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": RAJESH})
    assert stranger.status_code == staff.status_code == 200
    strip = lambda text: text.replace("+9779812345678", "X").replace(RAJESH, "X")  # noqa: E731
    assert strip(stranger.text) == strip(staff.text)
    console.code_sent_to(RAJESH, since)
    to_stranger = httpx.get(
        f"{console.fake_url}/_fake/messages", params={"to": "+9779812345678", "since": since}
    ).json()["messages"]
    assert to_stranger == []


def test_a_phone_gets_one_code_a_minute_at_most(console, pg_db_url, story_clock):
    browser = console.client()
    form = browser.get("/console/sign-in")

    def sent() -> int:
        with transaction(pg_db_url) as s:
            sarah = s.scalar(select(Staff).where(Staff.phone == SARAH))
            return len(s.scalars(select(SignInCode).where(SignInCode.staff_id == sarah.id)).all())

    for _ in range(4):
        answer = browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": SARAH})
        assert answer.status_code == 200  # the same page: nothing says a code was held back
    assert sent() == 1
    story_clock.advance(seconds=61)
    browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": SARAH})
    assert sent() == 2


def test_a_client_asking_for_too_many_codes_gets_429(console):
    browser = console.client()
    form = browser.get("/console/sign-in")
    for n in range(staff_auth.CODES_PER_CLIENT.free):
        answer = browser.post(
            "/console/sign-in", data={"csrf": _csrf(form), "phone": f"+97798119{n:05d}"}
        )
        assert answer.status_code == 200
    over = browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": SARAH})
    assert over.status_code == 429 and int(over.headers["retry-after"]) == 60


def test_the_sign_in_form_needs_its_token(console):
    browser = console.client()
    browser.get("/console/sign-in")
    since = console.total()
    forged = browser.post("/console/sign-in", data={"csrf": "forged", "phone": SARAH})
    assert forged.status_code == 403
    assert (
        httpx.get(
            f"{console.fake_url}/_fake/messages", params={"to": SARAH, "since": since}
        ).json()["messages"]
        == []
    )


def test_a_one_time_link_signs_in_once(console, pg_db_url):
    with transaction(pg_db_url) as s:
        priya = s.scalar(select(Staff).where(Staff.phone == PRIYA))
        link = staff_auth.login_link(s, priya, staff_auth._actor(priya))
    path = "/" + link.split("/", 3)[3]
    browser = console.client()
    page = browser.get(path)  # a link preview fetching it uses nothing
    assert page.status_code == 200 and "Sign me in" in page.text
    again = browser.get(path)
    signed = browser.post(path, data={"csrf": _csrf(again)})
    assert signed.status_code == 303 and signed.headers["location"] == "/console/incidents"
    second = console.client()
    replay = second.post(path, data={"csrf": _csrf(second.get(path))})
    assert replay.status_code == 410 and "already used" in replay.text


def test_a_deactivated_member_is_signed_out_everywhere(console, pg_db_url):
    browser = console.sign_in(SARAH)
    assert browser.get("/console/leads").status_code == 200
    with transaction(pg_db_url) as s:
        from backend.services import staff as staff_service

        sarah = s.scalar(select(Staff).where(Staff.phone == SARAH))
        staff_service.deactivate(s, sarah, SYSTEM)
    assert browser.get("/console/leads").status_code == 303


def test_the_code_is_for_its_owner_only(console):
    """Sales and ops can list outbound messages and timelines: the code is not in them."""
    browser = console.client()
    form = browser.get("/console/sign-in")
    since = console.total()
    browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": "+9779801000009"})
    code = console.code_sent_to("+9779801000009", since)
    sales = {"Authorization": f"Bearer {console.tokens['Sarah Gurung']}"}
    listed = httpx.get(f"{console.url}/api/outbox", headers=sales, timeout=30).text
    events = httpx.get(f"{console.url}/api/events/latest", headers=sales, timeout=30).text
    assert code not in listed and code not in events
    assert "[sign-in code, hidden]" in listed


def test_asking_for_a_new_code_does_not_cancel_the_one_on_the_phone(console):
    """Someone typing a staff member's number cannot void the code they are about to use."""
    browser = console.client()
    form = browser.get("/console/sign-in")
    since = console.total()
    browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": SARAH})
    first = console.code_sent_to(SARAH, since)
    stranger = console.client()
    stranger.post(
        "/console/sign-in", data={"csrf": _csrf(stranger.get("/console/sign-in")), "phone": SARAH}
    )
    done = browser.post(
        "/console/sign-in/code", data={"csrf": _csrf(form), "phone": SARAH, "code": first}
    )
    assert done.status_code == 303
