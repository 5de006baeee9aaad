"""Usernames over the fake Graph API: a customer who shares no phone writes (the webhook has
`user_id` and no `wa_id`), the product answers by `recipient`, the statuses name them by
`recipient_user_id`; a new number (Meta's `system` message `user_changed_user_id` for a user
who shares no phone) moves their contact to the new BSUID."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import func, select

from backend.db import transaction
from backend.models import Contact
from backend.services import contacts
from devkit.fake_graph import FakeMeta

CUSTOMER = "+61499777101"


def _replies(fake_url: str, to: str, since: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = httpx.get(f"{fake_url}/_fake/messages", params={"to": to, "since": since}).json()[
            "messages"
        ]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"nothing reached {to}")


def test_the_fake_names_a_username_user_by_user_id_alone():
    fake = FakeMeta(
        webhook_url="http://127.0.0.1:9/none", app_secret="s", access_token="t", phone_number_id="1"
    )
    fake.usernames["61499777101"] = "anna.treks"
    contact = fake.contact_of("61499777101", "Anna")
    assert "wa_id" not in contact and contact["profile"]["username"] == "anna.treks"
    body, user_id = fake.addressed({"recipient": contact["user_id"], "type": "text"})
    assert user_id == contact["user_id"] and body["to"] == "61499777101"
    status = {"id": "wamid.X", "status": "delivered", "recipient_id": "61499777101"}
    fake.status_user(status, "61499777101", by_user_id=True)
    assert status == {"id": "wamid.X", "status": "delivered", "recipient_user_id": user_id}


def test_a_username_customer_says_stop_and_is_answered_by_recipient(console, pg_db_url):
    since = console.total()
    httpx.post(
        f"{console.fake_url}/_fake/inbound",
        json={"from": CUSTOMER, "username": "anna.treks", "text": "STOP", "name": "Anna"},
    ).raise_for_status()
    (reply,) = _replies(console.fake_url, CUSTOMER, since)
    assert reply["text"].startswith("You're unsubscribed")
    user_id = reply["recipient"]  # sent by BSUID: the product never learnt the phone
    with transaction(pg_db_url) as s:
        contact = contacts.find_contact(s, user_id)
        assert contact is not None and contact.phone is None and contact.opted_out_at
        before = s.scalar(select(func.count()).select_from(Contact))
    # Their phone changes: a new BSUID, and the contact follows it once the inbox takes the
    # notice (in the customer's order, after what they wrote before it).
    moved = httpx.post(
        f"{console.fake_url}/_fake/change_number", json={"from": CUSTOMER, "again": True}
    ).json()
    assert moved["webhook_status"] == 200 and moved["user_id"] != user_id
    assert moved["type"] == "user_changed_user_id"  # a username user: no phone to share
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with transaction(pg_db_url) as s:
            contact = contacts.find_contact(s, moved["user_id"])
            if contact is not None:
                assert contact.opted_out_at  # consent follows them
                assert contacts.find_contact(s, user_id) is None
                assert s.scalar(select(func.count()).select_from(Contact)) == before
                return
        time.sleep(0.1)
    raise AssertionError("the contact never moved to the new BSUID")
