"""Tokens can be rotated and revoked, and the change holds at the next request; operations can
put failed messages back from the API."""

from __future__ import annotations

import httpx

from backend import cli
from backend.db import transaction
from backend.domain.actor import SYSTEM
from backend.domain.enums import InboxStatus, Role
from backend.models import InboundMessage, Staff
from backend.services import staff as staff_service
from backend.whatsapp import inbox
from tests.backend.whatsapp import payloads as p


def call(url: str, token: str, method: str, path: str, **kw) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.request(
        method, f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
    )


def _members(pg_db_url: str) -> dict[str, tuple[str, str]]:
    found = {}
    with transaction(pg_db_url) as s:
        for n, (name, role) in enumerate(
            [("Anil Admin", Role.ADMIN), ("Rajesh Kumar", Role.GUIDE), ("Priya Thapa", Role.OPS)]
        ):
            member, token = staff_service.add_staff(
                s, name=name, phone=f"+977980300000{n}", roles=[role], actor=SYSTEM
            )
            found[name] = (member.id, token)
    return found


def test_a_deactivated_member_is_refused_at_once(backend_url, pg_db_url):
    people = _members(pg_db_url)
    admin, (guide_id, guide_token) = people["Anil Admin"][1], people["Rajesh Kumar"]
    assert call(backend_url, guide_token, "GET", "/api/me").status_code == 200
    answer = call(backend_url, admin, "POST", f"/api/staff/{guide_id}/deactivate")
    assert answer.status_code == 200 and answer.json()["staff"]["active"] is False
    assert call(backend_url, guide_token, "GET", "/api/me").status_code == 401
    assert call(backend_url, admin, "POST", f"/api/staff/{guide_id}/deactivate").status_code == 409
    # A guide cannot deactivate anyone.
    _, ops_token = people["Priya Thapa"]
    assert (
        call(backend_url, ops_token, "POST", f"/api/staff/{guide_id}/deactivate").status_code == 403
    )


def test_a_rotated_token_replaces_the_old_one(backend_url, pg_db_url):
    people = _members(pg_db_url)
    admin = people["Anil Admin"][1]
    guide_id, old = people["Rajesh Kumar"]
    new = call(backend_url, admin, "POST", f"/api/staff/{guide_id}/rotate-token").json()["token"]
    assert call(backend_url, old, "GET", "/api/me").status_code == 401
    assert call(backend_url, new, "GET", "/api/me").json()["me"]["name"] == "Rajesh Kumar"
    # Anyone may rotate their own.
    mine = call(backend_url, new, "POST", "/api/me/rotate-token").json()["token"]
    assert call(backend_url, new, "GET", "/api/me").status_code == 401
    assert call(backend_url, mine, "GET", "/api/me").status_code == 200


def test_the_command_line_rotates_and_deactivates(backend_url, pg_db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", pg_db_url)
    people = _members(pg_db_url)
    _, old = people["Priya Thapa"]
    assert cli.main(["staff", "rotate-token", "--phone", "+9779803000002"]) == 0
    new = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    assert call(backend_url, old, "GET", "/api/incidents").status_code == 401
    assert call(backend_url, new, "GET", "/api/incidents").status_code == 200
    assert cli.main(["staff", "deactivate", "--phone", "+9779803000002"]) == 0
    assert call(backend_url, new, "GET", "/api/incidents").status_code == 401
    assert cli.main(["staff", "deactivate", "--phone", "+9779803000099"]) == 2


def test_operations_retry_failed_messages_from_the_api(backend_url, pg_db_url):
    people = _members(pg_db_url)
    _, ops = people["Priya Thapa"]
    with transaction(pg_db_url) as s:
        inbox.store_webhook(s, p.webhook([p.text_message("61412000001", "hi")]), p.PHONE_NUMBER_ID)
        row = s.query(InboundMessage).one()
        row.status = InboxStatus.FAILED
        row_id = row.id
    listed = call(backend_url, ops, "GET", "/api/inbox", params={"status": "failed"}).json()
    assert [m["id"] for m in listed["messages"]] == [row_id]
    assert call(backend_url, ops, "POST", "/api/inbox/retry", json={}).status_code == 422
    # An id no database row can have is refused, not sent to the database (the fuzzer's find).
    for bad in (-5, 0, -(10**28), 2**63):
        refused = call(backend_url, ops, "POST", "/api/inbox/retry", json={"ids": [row_id, bad]})
        assert refused.status_code == 422, refused.text
    answer = call(backend_url, ops, "POST", "/api/inbox/retry", json={"ids": [row_id]})
    assert answer.status_code == 200 and answer.json() == {"retried": [row_id]}
    with transaction(pg_db_url) as s:
        assert s.get(InboundMessage, row_id).status == InboxStatus.PENDING
    naive = call(backend_url, ops, "POST", "/api/outbox/retry", json={"since": "2025-01-01T00:00"})
    assert naive.status_code == 422 and "timezone" in naive.text


def test_a_member_lists_their_tokens_and_revokes_one_over_the_api(backend_url, pg_db_url):
    people = _members(pg_db_url)
    guide_id, first = people["Rajesh Kumar"]
    with transaction(pg_db_url) as s:
        second = staff_service.issue_token(s, s.get(Staff, guide_id), SYSTEM, label="laptop")
    listed = call(backend_url, first, "GET", "/api/me/tokens").json()["tokens"]
    assert len(listed) == 2 and all("token" not in t and "hash" not in str(t) for t in listed)
    laptop = next(t for t in listed if t["label"] == "laptop")
    assert laptop["expiresAt"] > laptop["createdAt"]
    revoked = call(backend_url, first, "POST", f"/api/me/tokens/{laptop['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["token"]["revoked"] is True
    assert call(backend_url, second, "GET", "/api/me").status_code == 401
    assert call(backend_url, first, "GET", "/api/me").status_code == 200
    # Someone else's token is not theirs to revoke, whatever its number.
    admin_token = people["Anil Admin"][1]
    other = call(backend_url, admin_token, "GET", "/api/me/tokens").json()["tokens"][0]
    refused = call(backend_url, first, "POST", f"/api/me/tokens/{other['id']}/revoke")
    assert refused.status_code == 404
    assert call(backend_url, admin_token, "GET", "/api/me").status_code == 200
