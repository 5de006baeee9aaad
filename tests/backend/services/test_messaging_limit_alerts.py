"""Meta changing the messaging limit, or flagging the number's quality, is news for staff
(issue 26): operations and admins are alerted, from Meta's phone_number_quality_update webhook
as documented (`event`, `old_limit`, `current_limit`, `max_daily_conversations_per_business`),
with the old and the new limit and what it means for reminders and campaigns. A repeated
webhook alerts nobody again. On SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.db import get_engine, transaction
from backend.domain.enums import Role
from backend.models import OutboundMessage, Staff, TimelineEvent
from backend.services import messaging_limits
from backend.whatsapp import inbox
from backend.whatsapp.ingest import store_batch
from tests import factories
from tests.backend.whatsapp import payloads as p


def _quality_update(event: str, old: str, new: str) -> dict[str, Any]:
    """Meta's webhook body for the field (its reference's syntax)."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA_FAKE",
                "time": 1_735_000_000,
                "changes": [
                    {
                        "field": "phone_number_quality_update",
                        "value": {
                            "display_phone_number": "15550783881",
                            "event": event,
                            "old_limit": old,
                            "current_limit": new,
                            "max_daily_conversations_per_business": new,
                        },
                    }
                ],
            }
        ],
    }


def _ingest(body: dict[str, Any]) -> None:
    with get_engine().connect() as connection:
        store_batch(connection, [inbox.parse_webhook(body, p.PHONE_NUMBER_ID)])


def _staff() -> dict[str, str]:
    with transaction() as s:
        people = {
            "olga": factories.staff(s, "Olga", Role.OPS),
            "ada": factories.staff(s, "Ada", Role.ADMIN),
            "sarah": factories.staff(s, "Sarah", Role.SALES),
            "gita": factories.staff(s, "Gita", Role.GUIDE),
        }
        return {name: member.id for name, member in people.items()}


def _alerts() -> dict[str, list[str]]:
    """Each staff member's alerts so far, by name."""
    with transaction() as s:
        rows = s.execute(
            select(Staff.name, OutboundMessage.body)
            .join(Staff, Staff.id == OutboundMessage.staff_id)
            .order_by(OutboundMessage.id)
        ).all()
    said: dict[str, list[str]] = {}
    for name, body in rows:
        said.setdefault(name.lower(), []).append(body or "")
    return said


def test_a_downgrade_alerts_operations_and_admins_with_both_limits_and_what_it_means(db_url):
    _staff()
    with transaction() as s:
        messaging_limits.set_tier(s, "TIER_10K", source="api")
    _alerts_before = _alerts()
    assert set(_alerts_before) == {"olga", "ada"}  # 250 (assumed) → 10,000: news too

    _ingest(_quality_update("DOWNGRADE", "TIER_10K", "TIER_2K"))
    said = _alerts()
    assert set(said) == {"olga", "ada"}  # not sales, not guides
    for name in ("olga", "ada"):
        (alert,) = said[name][len(_alerts_before[name]) :]
        assert "lowered" in alert and "from 10,000 to 2,000" in alert
        assert "TIER_10K → TIER_2K" in alert
        # What it means: reminders and campaigns wait at the broadcast share of the limit.
        assert "reminders and campaigns wait once 1,800" in alert
        assert "messages about bookings go first" in alert
    with transaction() as s:
        event = s.scalars(
            select(TimelineEvent)
            .where(TimelineEvent.action == "tms.messaging_limit.changed")
            .order_by(TimelineEvent.id.desc())
        ).first()
        assert event is not None
        assert event.content["previous"] == "TIER_10K" and event.content["tier"] == "TIER_2K"
        assert event.content["event"] == "DOWNGRADE"

    # Meta sends the same webhook again: nothing new is said.
    _ingest(_quality_update("DOWNGRADE", "TIER_10K", "TIER_2K"))
    assert _alerts() == said


def test_an_upgrade_alerts_with_the_old_and_the_new_limit(db_url):
    _staff()
    _ingest(_quality_update("UPGRADE", "TIER_250", "TIER_2K"))
    said = _alerts()
    assert set(said) == {"olga", "ada"}
    (alert,) = said["olga"]
    assert "raised" in alert and "from 250 to 2,000" in alert
    assert "may now reach 1,800 customers a day" in alert
    _ingest(_quality_update("UPGRADE", "TIER_100K", "TIER_UNLIMITED"))
    assert "no longer wait" in _alerts()["ada"][-1]


def test_a_quality_flag_alerts_once_and_says_what_it_means(db_url):
    _staff()
    with transaction() as s:
        messaging_limits.set_tier(s, "TIER_2K", source="api")
    before = {name: len(bodies) for name, bodies in _alerts().items()}
    # FLAGGED: the limit itself has not changed yet.
    _ingest(_quality_update("FLAGGED", "TIER_2K", "TIER_2K"))
    said = _alerts()
    for name in ("olga", "ada"):
        (alert,) = said[name][before[name] :]
        assert "flagged" in alert and "2,000" in alert
        assert "Meta lowers the messaging limit" in alert and "campaigns" in alert
    assert "sarah" not in said
    _ingest(_quality_update("FLAGGED", "TIER_2K", "TIER_2K"))  # Meta's retry
    assert _alerts() == said
    # Lifted (on the timeline, nobody alerted), then flagged again: news again.
    _ingest(_quality_update("UNFLAGGED", "TIER_2K", "TIER_2K"))
    assert _alerts() == said
    _ingest(_quality_update("FLAGGED", "TIER_2K", "TIER_2K"))
    assert len(_alerts()["olga"]) == len(said["olga"]) + 1
    with transaction() as s:
        actions = s.scalars(
            select(TimelineEvent.action)
            .where(TimelineEvent.object_id == "messaging-limit")
            .order_by(TimelineEvent.id)
        ).all()
    assert [a for a in actions if "flag" in a] == [
        "tms.messaging_limit.flagged",
        "tms.messaging_limit.unflagged",
        "tms.messaging_limit.flagged",
    ]
