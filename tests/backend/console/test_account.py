"""The console's account page (sessions and API tokens), the fresh sign-in that changes to
staff ask for, reactivation, and the session cookie's name and lifetime."""

from __future__ import annotations

import re

import httpx
from sanic.response import HTTPResponse
from sqlalchemy import select

from backend.console.auth import _with_pre
from backend.console.web import clear_session_cookie, set_session_cookie
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.models import Staff, TimelineEvent
from backend.services import staff as staff_service
from backend.services import staff_auth

SARAH, RAJESH, ANIL = "+9779801000001", "+9779801000003", "+9779801000009"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def _id_of(db: str, phone: str) -> str:
    with transaction(db) as s:
        return s.scalar(select(Staff.id).where(Staff.phone == phone))


def _link_browser(console, db: str, phone: str, agent: str) -> httpx.Client:
    """A second browser of the same person, signed in with a one-time link."""
    with transaction(db) as s:
        member = s.scalar(select(Staff).where(Staff.phone == phone))
        link = staff_auth.login_link(s, member, staff_auth._actor(member))
    path = "/" + link.split("/", 3)[3]
    browser = console.client()
    browser.headers["user-agent"] = agent
    done = browser.post(path, data={"csrf": _csrf(browser.get(path))})
    assert done.status_code == 303
    return browser


def test_the_session_cookie_lives_as_long_as_a_session_may(console):
    browser = console.client()
    form = browser.get("/console/sign-in")
    since = console.total()
    browser.post("/console/sign-in", data={"csrf": _csrf(form), "phone": SARAH})
    code = console.code_sent_to(SARAH, since)
    done = browser.post(
        "/console/sign-in/code", data={"csrf": _csrf(form), "phone": SARAH, "code": code}
    )
    assert "max-age=43200" in done.headers["set-cookie"].lower()  # SESSION_MAX_HOURS, 12


def test_over_https_the_cookies_are_host_only(monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://trek.example")
    resp = HTTPResponse()
    set_session_cookie(resp, "value")
    header = str(resp.headers["set-cookie"])
    assert header.startswith("__Host-tms_console=value")
    assert "Path=/;" in header and "Secure" in header and "Domain" not in header
    pre = _with_pre(HTTPResponse(), "token", fresh=True)
    assert str(pre.headers["set-cookie"]).startswith("__Host-tms_console_pre=token")
    # Signing out clears the same cookie (a __Host- cookie is cleared with its prefix).
    gone = HTTPResponse()
    clear_session_cookie(gone)
    cleared = str(gone.headers["set-cookie"])
    assert cleared.startswith("__Host-tms_console=") and "Max-Age=0" in cleared


def test_a_member_sees_where_they_are_signed_in_and_signs_the_other_out(console, pg_db_url):
    desk = console.sign_in(SARAH)
    phone = _link_browser(console, pg_db_url, SARAH, "Phone browser")
    page = desk.get("/console/account")
    assert page.status_code == 200
    assert "Phone browser" in page.text and "127.0.0.1" in page.text and "this browser" in page.text
    other = re.search(r'name="session_id" value="([0-9a-f]{64})"', page.text).group(1)
    ended = desk.post(
        "/console/account/sessions/end", data={"csrf": _csrf(page), "session_id": other}
    )
    assert ended.status_code == 303
    assert phone.get("/console/leads").status_code == 303  # back to the sign-in page
    assert desk.get("/console/leads").status_code == 200


def test_every_role_reaches_the_account_page(console, pg_db_url):
    assert console.sign_in(RAJESH).get("/console/account").status_code == 200


def test_roles_change_only_after_a_fresh_sign_in(console, pg_db_url, story_clock):
    anil = console.sign_in(ANIL)
    page = anil.get("/console/admin")
    sarah_id = _id_of(pg_db_url, SARAH)
    story_clock.advance(minutes=11)
    stale = anil.post(
        f"/console/admin/staff/{sarah_id}/roles",
        data={"csrf": _csrf(page), "role_SALES": "1", "role_OPS": "1"},
    )
    assert stale.status_code == 303
    assert stale.headers["location"] == "/console/sign-in?again=1&next=/console/admin"
    with transaction(pg_db_url) as s:
        assert s.get(Staff, sarah_id).roles == {"SALES"}
    again = anil.get(stale.headers["location"])
    assert "sign in again" in again.text and 'name="next" value="/console/admin"' in again.text
    # Signing in again brings them back to the page, and the change goes through.
    since = console.total()
    anil.post(
        "/console/sign-in", data={"csrf": _csrf(again), "phone": ANIL, "next": "/console/admin"}
    )
    code = console.code_sent_to(ANIL, since)
    back = anil.post(
        "/console/sign-in/code",
        data={"csrf": _csrf(again), "phone": ANIL, "code": code, "next": "/console/admin"},
    )
    assert back.headers["location"] == "/console/admin"
    page = anil.get("/console/admin")
    done = anil.post(
        f"/console/admin/staff/{sarah_id}/roles",
        data={"csrf": _csrf(page), "role_SALES": "1", "role_OPS": "1"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/admin"
    with transaction(pg_db_url) as s:
        assert s.get(Staff, sarah_id).roles == {"SALES", "OPS"}


def test_an_admin_deactivates_and_reactivates_a_member(console, pg_db_url):
    anil = console.sign_in(ANIL)
    rajesh_id = _id_of(pg_db_url, RAJESH)
    page = anil.get("/console/admin")
    anil.post(f"/console/admin/staff/{rajesh_id}/deactivate", data={"csrf": _csrf(page)})
    page = anil.get("/console/admin")
    assert f"/console/admin/staff/{rajesh_id}/reactivate" in page.text
    done = anil.post(f"/console/admin/staff/{rajesh_id}/reactivate", data={"csrf": _csrf(page)})
    assert done.status_code == 303
    with transaction(pg_db_url) as s:
        assert s.get(Staff, rajesh_id).active
        actions = s.scalars(
            select(TimelineEvent.action).where(TimelineEvent.object_id == rajesh_id)
        ).all()
        assert "tms.staff.reactivated" in actions
    assert "active again" in anil.get("/console/admin").text


def test_an_admin_cannot_deactivate_themselves_by_the_same_rule_as_the_api(console, pg_db_url):
    anil = console.sign_in(ANIL)
    anil_id = _id_of(pg_db_url, ANIL)
    page = anil.get("/console/admin")
    refused = anil.post(f"/console/admin/staff/{anil_id}/deactivate", data={"csrf": _csrf(page)})
    assert refused.status_code == 303 and refused.headers["location"] == "/console/admin"
    assert "You cannot deactivate yourself" in anil.get("/console/admin").text
    with transaction(pg_db_url) as s:
        assert s.get(Staff, anil_id).active


def test_a_member_makes_an_expiring_token_and_revokes_it(console, pg_db_url, story_clock):
    sarah = console.sign_in(SARAH)
    page = sarah.get("/console/account")
    shown = sarah.post(
        "/console/account/tokens", data={"csrf": _csrf(page), "label": "export", "days": "1"}
    )
    token = re.search(r"copy it now\): <code>([^<]+)</code>", shown.text).group(1)
    api = f"{console.url}/api/me"
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(api, headers=auth).status_code == 200
    page = sarah.get("/console/account")
    assert "export" in page.text and token not in page.text
    token_id = re.search(r"/console/account/tokens/(\d+)/revoke", page.text).group(1)
    # The tokens are listed newest first: the new one is the first form.
    revoked = sarah.post(f"/console/account/tokens/{token_id}/revoke", data={"csrf": _csrf(page)})
    assert revoked.status_code == 303
    assert httpx.get(api, headers=auth).status_code == 401
    # A token made without a lifetime expires after API_TOKEN_DAYS (90); the demo's own
    # tokens last the story's season (365 days).
    with transaction(pg_db_url) as s:
        member = s.scalars(select(Staff).where(Staff.name == "Sarah Gurung")).one()
        plain = staff_service.issue_token(s, member, SYSTEM, label="plain")
    default = {"Authorization": f"Bearer {plain}"}
    demo = {"Authorization": f"Bearer {console.tokens['Sarah Gurung']}"}
    story_clock.advance(days=89)
    assert httpx.get(api, headers=default).status_code == 200
    story_clock.advance(days=2)
    assert httpx.get(api, headers=default).status_code == 401
    assert httpx.get(api, headers=demo).status_code == 200
    story_clock.advance(days=275)
    assert httpx.get(api, headers=demo).status_code == 401
