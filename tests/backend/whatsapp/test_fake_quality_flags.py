"""The fake Graph API's quality flags (issue 26): `POST /_fake/messaging_limit` with `event`
FLAGGED or UNFLAGGED posts Meta's phone_number_quality_update as its reference shows it (the
tier unchanged, no `old_limit`, which Meta includes only for a messaging limit change), and the
backend alerts operations and admins once. The body on SQLite and PostgreSQL; over HTTP
through the fake and the backend service on PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from backend.db import get_engine, transaction
from backend.domain.enums import Role
from backend.models import OutboundMessage, TimelineEvent
from backend.services import messaging_limits
from backend.whatsapp import inbox
from backend.whatsapp.ingest import store_batch
from devkit.fake_graph import FakeMeta
from tests import factories

PHONE_NUMBER_ID = "100000000000001"


def _fake() -> FakeMeta:
    return FakeMeta(
        webhook_url="http://127.0.0.1:9/none",
        app_secret="s",
        access_token="t",
        phone_number_id=PHONE_NUMBER_ID,
    )


def _flag_actions() -> list[str]:
    with transaction() as s:
        return list(
            s.scalars(
                select(TimelineEvent.action)
                .where(TimelineEvent.action.like("tms.messaging_limit.%flagged"))
                .order_by(TimelineEvent.id)
            )
        )


def _alerts() -> list[str]:
    with transaction() as s:
        return list(
            s.scalars(
                select(OutboundMessage.body)
                .where(OutboundMessage.staff_id.is_not(None))
                .order_by(OutboundMessage.id)
            )
        )


def test_a_flag_is_metas_quality_update_without_a_limit_change():
    fake = _fake()
    fake.config["messaging_limit_tier"] = "TIER_2K"
    (change,) = fake.quality_flag("FLAGGED")["entry"][0]["changes"]
    assert change["field"] == "phone_number_quality_update"
    value = change["value"]
    assert value["event"] == "FLAGGED" and "old_limit" not in value
    assert value["max_daily_conversations_per_business"] == "TIER_2K"
    assert fake.config["messaging_limit_tier"] == "TIER_2K"  # the tier stays


def test_the_fakes_flag_reaches_the_backend_as_meta_would_send_it(db_url):
    with transaction() as s:
        factories.staff(s, "Olga", Role.OPS)
        messaging_limits.set_tier(s, "TIER_2K", source="api")
    before = len(_alerts())
    fake = _fake()
    fake.config["messaging_limit_tier"] = "TIER_2K"
    for event in ("FLAGGED", "FLAGGED", "UNFLAGGED"):
        body = fake.quality_flag(event)
        with get_engine().connect() as connection:
            store_batch(connection, [inbox.parse_webhook(body, PHONE_NUMBER_ID)])
    assert _flag_actions() == ["tms.messaging_limit.flagged", "tms.messaging_limit.unflagged"]
    (alert,) = _alerts()[before:]  # once, however often Meta says it
    assert "flagged" in alert
    with transaction() as s:
        assert messaging_limits.status(s)["tier"] == "TIER_2K"


@pytest.mark.usefixtures("pg_db_url")
def test_flagged_and_unflagged_over_http(fake):
    with transaction() as s:
        factories.staff(s, "Olga", Role.OPS)
    answer = httpx.post(f"{fake}/_fake/messaging_limit", json={"event": "FLAGGED"}).json()
    assert answer["webhook"] == 200 and answer["tier"] == "TIER_250"
    assert _flag_actions() == ["tms.messaging_limit.flagged"]
    assert any("flagged" in body for body in _alerts())
    lifted = httpx.post(f"{fake}/_fake/messaging_limit", json={"event": "unflagged"}).json()
    assert lifted["webhook"] == 200
    assert _flag_actions() == ["tms.messaging_limit.flagged", "tms.messaging_limit.unflagged"]
    odd = httpx.post(f"{fake}/_fake/messaging_limit", json={"event": "DOWNGRADE"})
    assert odd.status_code == 400
    both = httpx.post(f"{fake}/_fake/messaging_limit", json={"event": "FLAGGED", "tier": "TIER_2K"})
    assert both.status_code == 400
    assert httpx.get(f"{fake}/_fake/messaging_limit").json()["tier"] == "TIER_250"
