"""Meta's messaging limit, and the one rule the sender consults before a message opens a
conversation outside the customer service window.

Meta limits how many unique users the business (its portfolio, shared by its numbers) may
deliver messages to outside a customer service window in a moving 24 hours: 250, 2,000,
10,000, 100,000 or unlimited (`backend/domain/messaging_limits.py`). The tier is stored
(`messaging_limits`) from the phone number's field (`tms messaging-limit sync`) and from the
`phone_number_quality_update` webhook; until Meta has said anything the product assumes the
starting 250. Every message the sender puts on its way to someone whose window is closed is
recorded (`initiated_conversations`, in the claim's transaction), and the rule reads them.
A send Meta refuses with an error answer (or that never leaves) is struck off again
(`uncount`): it opened no conversation; one Meta accepted stays counted even if a `failed`
status follows, and so does one whose answer never came. A change of tier, and Meta flagging
the number's quality, alert operations and admins with what it means.

- a user already counted in the last 24 hours costs nothing more;
- messages about a booking (and everything else that is not broadcast-like) come first: they
  go while the count is under the limit;
- broadcast-like work (reminders, campaigns) goes only while the count leaves a share of the
  limit (`BOOKING_SHARE`) for them; past that it waits (status `deferred`) with a not-before
  time, the moment the oldest counted user leaves the 24 hours, and is queued again then. A
  deferred row does not hold up its recipient's later messages.

So the product queues rather than goes past the limit, and Meta's 131048 never comes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from backend import clock, texts
from backend.db import is_sqlite, rows_affected
from backend.domain.actor import SYSTEM, Actor
from backend.domain.enums import ObjectType, OutboxStatus
from backend.domain.messaging_limits import (
    STARTING_TIER,
    is_broadcast,
    limit_of,
    tier_of,
)
from backend.models import InitiatedConversation, MessagingLimit, OutboundMessage, TimelineEvent
from backend.services import routing, timeline

PORTFOLIO = "portfolio"
PERIOD = timedelta(hours=24)
# The share of the limit broadcast-like work leaves for messages about bookings.
BOOKING_SHARE = 0.1
# One PostgreSQL advisory lock orders the senders' claims that open conversations.
_LOCK_KEY = 7_302_026


def tier(session: Session) -> str:
    """The portfolio's tier as Meta last said it (Meta's starting 250 until then)."""
    row = session.get(MessagingLimit, PORTFOLIO)
    return row.tier if row is not None else STARTING_TIER


def _broadcast_cap(limit: int | None) -> int | None:
    """How many users broadcast-like work may reach in 24 hours under `limit`."""
    if limit is None:
        return None
    return limit - max(1, int(limit * BOOKING_SHARE))


def set_tier(
    session: Session,
    value: object,
    *,
    source: str,
    actor: Actor = SYSTEM,
    event: str | None = None,
) -> bool:
    """Store the tier Meta gave (`TIER_2K`, ...); true when it changed. A value that is not a
    limit (TIER_NOT_SET, empty) changes nothing. A change is on the timeline and alerts
    operations and admins with the old and the new limit and what it means for reminders and
    campaigns (`event`: Meta's word for it in the webhook, UPGRADE, DOWNGRADE, ...)."""
    found = tier_of(value)
    if found is None:
        return False
    row = session.get(MessagingLimit, PORTFOLIO)
    previous = row.tier if row is not None else None
    if row is None:
        row = MessagingLimit(key=PORTFOLIO, tier=found, source=source, updated_at=clock.now())
        session.add(row)
    row.source, row.updated_at = source, clock.now()
    # Meta confirming what the product assumed (its starting 250) is not news.
    if previous == found or (previous is None and found == STARTING_TIER):
        session.flush()
        return previous is None
    row.tier = found
    limit = limit_of(found)
    # Until Meta said anything the product assumed the starting tier: that is the old limit.
    was = previous or STARTING_TIER
    timeline.record(
        session,
        object_type=ObjectType.SYSTEM,
        object_id=SUBJECT,
        event_type="CONFIG",
        action="tms.messaging_limit.changed",
        actor=actor,
        content={
            "tier": found,
            "previous": was,
            "limit": "unlimited" if limit is None else f"{limit:,}",
            "source": source,
            "event": event,
        },
    )
    routing.alert(
        session,
        "tms.messaging_limit.changed",
        texts.messaging_limit_changed_alert(
            was, found, limit_of(was), limit, _broadcast_cap(limit)
        ),
        object_type=ObjectType.SYSTEM,
        object_id=SUBJECT,
    )
    session.flush()
    return True


def _flag_events(session: Session) -> list[str]:
    """The quality flag's events so far, oldest first."""
    return list(
        session.scalars(
            select(TimelineEvent.action)
            .where(
                TimelineEvent.object_type == ObjectType.SYSTEM,
                TimelineEvent.object_id == SUBJECT,
                TimelineEvent.action.in_(FLAG_ACTIONS.values()),
            )
            .order_by(TimelineEvent.occurred_at, TimelineEvent.id)
        )
    )


def set_flag(session: Session, event: str) -> bool:
    """Meta flagged the number's quality (FLAGGED: if users keep blocking or reporting, the
    limit is lowered) or lifted the flag (UNFLAGGED); true when that is news. Flagging alerts
    operations and admins with what it means; the same webhook again says nothing."""
    action = FLAG_ACTIONS[event]
    said = _flag_events(session)
    if (said[-1] if said else FLAG_ACTIONS["UNFLAGGED"]) == action:
        return False
    limit = limit_of(tier(session))
    timeline.record(
        session,
        object_type=ObjectType.SYSTEM,
        object_id=SUBJECT,
        event_type="CONFIG",
        action=action,
        actor=SYSTEM,
        content={"tier": tier(session), "limit": "unlimited" if limit is None else f"{limit:,}"},
    )
    if event == "FLAGGED":
        routing.alert(
            session,
            "tms.messaging_limit.flagged",
            texts.messaging_limit_flagged_alert(limit),
            object_type=ObjectType.SYSTEM,
            object_id=SUBJECT,
        )
    session.flush()
    return True


WEBHOOK_FIELDS = ("phone_number_quality_update",)
SUBJECT = "messaging-limit"
# Meta's `event` values of phone_number_quality_update about the number's quality flag.
FLAG_ACTIONS = {
    "FLAGGED": "tms.messaging_limit.flagged",
    "UNFLAGGED": "tms.messaging_limit.unflagged",
}


def apply_webhook(session: Session, value: Mapping[str, Any]) -> None:
    """Meta's phone_number_quality_update: the limit in `max_daily_conversations_per_business`
    (or `current_limit`, which Meta removed in February 2026), and `event` (UPGRADE,
    DOWNGRADE, FLAGGED, UNFLAGGED, ONBOARDING, THROUGHPUT_UPGRADE)."""
    event = str(value.get("event") or "").strip().upper() or None
    for key in ("max_daily_conversations_per_business", "current_limit"):
        if tier_of(value.get(key)) is not None:
            set_tier(session, value.get(key), source="webhook", event=event)
            break
    if event in FLAG_ACTIONS:
        set_flag(session, event)


def unique_users(session: Session, *, now: datetime | None = None) -> int:
    """Unique users a message went to outside their window in the last 24 hours."""
    since = (now or clock.now()) - PERIOD
    return int(
        session.scalar(
            select(func.count(func.distinct(InitiatedConversation.phone))).where(
                InitiatedConversation.opened_at > since
            )
        )
        or 0
    )


class Allowance:
    """The limit's room for one claim of the sender, read under a lock (PostgreSQL) so that
    two senders cannot both take the last place. `admit` says whether a row may go now."""

    def __init__(self, session: Session, phones: Iterable[str]) -> None:
        self.session = session
        if not is_sqlite(session):
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        self.now = clock.now()
        self.since = self.now - PERIOD
        self.limit = limit_of(tier(session))
        self.used = unique_users(session, now=self.now)
        wanted = set(phones)
        self.counted: set[str] = (
            set(
                session.scalars(
                    select(InitiatedConversation.phone).where(
                        InitiatedConversation.opened_at > self.since,
                        InitiatedConversation.phone.in_(wanted),
                    )
                )
            )
            if wanted and self.limit is not None
            else set()
        )
        self.before = frozenset(self.counted)  # counted by earlier claims
        self.added: dict[int, InitiatedConversation] = {}

    @property
    def broadcast_cap(self) -> int | None:
        return _broadcast_cap(self.limit)

    def admit(self, row: OutboundMessage) -> datetime | None:
        """None: the row may go now (its user is counted); else the time before which it
        should not be tried again (the limit, or broadcast work's share of it, is used up)."""
        phone = row.recipient_phone
        if self.limit is not None and phone not in self.counted:
            cap = self.broadcast_cap if is_broadcast(row.purpose) else self.limit
            assert cap is not None
            if self.used + 1 > cap:
                return self.next_free()
            self.used += 1
            self.counted.add(phone)
        record = InitiatedConversation(
            phone=phone, opened_at=self.now, outbound_id=row.id, purpose=row.purpose
        )
        self.session.add(record)
        self.added[row.id] = record
        return None

    def withdraw(self, row: OutboundMessage) -> None:
        """The row admitted in this claim will not be sent after all (it could not be built):
        it does not count, and its user frees their place unless counted before this claim."""
        record = self.added.pop(row.id, None)
        if record is None:
            return
        if record in self.session.new:
            self.session.expunge(record)
        else:  # already flushed
            self.session.delete(record)
        phone = row.recipient_phone
        if phone in self.counted and phone not in self.before:
            self.counted.discard(phone)
            self.used -= 1

    def next_free(self) -> datetime:
        """When the oldest user counted now leaves the 24 hours (a minute from now at least)."""
        oldest = self.session.scalar(
            select(func.min(InitiatedConversation.opened_at)).where(
                InitiatedConversation.opened_at > self.since
            )
        )
        soonest = self.now + timedelta(minutes=1)
        return max(oldest + PERIOD, soonest) if oldest is not None else soonest


def uncount(session: Session, outbound_ids: Iterable[int]) -> int:
    """Meta refused these sends before accepting them (an error answer, not a `failed`
    status later): they opened no conversation, so they do not count against the limit. A send
    Meta accepted counts even if it fails later, and so does one whose answer never came (Meta
    may have taken it). Returns how many records were removed."""
    ids = list(outbound_ids)
    if not ids:
        return 0
    return rows_affected(
        session.execute(
            delete(InitiatedConversation).where(InitiatedConversation.outbound_id.in_(ids))
        )
    )


def defer(row: OutboundMessage, not_before: datetime) -> None:
    """The row waits for the limit until `not_before`, out of its recipient's queue: a message
    about their booking queued after it does not wait behind it."""
    row.status = OutboxStatus.DEFERRED
    row.next_attempt_at = not_before
    row.lease_token = None


def release_due(session: Session) -> int:
    """Rows whose wait for the limit is over go back in the queue (the sender, before each
    claim); returns how many."""
    return rows_affected(
        session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.status == OutboxStatus.DEFERRED,
                OutboundMessage.next_attempt_at <= clock.now(),
            )
            .values(status=OutboxStatus.QUEUED)
        )
    )


def status(session: Session) -> dict[str, Any]:
    """What the console and the API show: the tier, its limit, the users counted now."""
    current = tier(session)
    limit = limit_of(current)
    row = session.get(MessagingLimit, PORTFOLIO)
    return {
        "tier": current,
        "limit": limit,
        "uniqueUsers24h": unique_users(session),
        "source": row.source if row is not None else "assumed",
        "updatedAt": row.updated_at.isoformat() if row is not None else None,
    }
