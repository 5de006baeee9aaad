"""Meta's messaging limit (issue 26): the tier is stored from the phone number's field and the
phone_number_quality_update webhook; the sender counts the unique users it messages outside
their window in a moving 24 hours; broadcast-like work (reminders, campaigns) waits, queued
with a not-before time, before the limit, leaving room for messages about bookings, which come
first. On SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from backend import clock
from backend.config import Settings
from backend.db import get_engine, transaction
from backend.domain.enums import OutboxStatus
from backend.domain.messaging_limits import tier_of
from backend.models import Contact, InitiatedConversation, OutboundMessage, TimelineEvent
from backend.services import contacts, messaging_limits, outbox
from backend.whatsapp import inbox
from backend.whatsapp.ingest import store_batch
from backend.whatsapp.sender import OutboxSender
from tests.backend.whatsapp import payloads as p


class NoClient:
    """Only the claim runs here: nothing goes on the wire."""


def _prepare() -> int:
    """One claim of the sender; returns how many rows it would put on the wire."""
    settings = Settings()
    sender = OutboxSender(NoClient(), settings, batch=500)  # type: ignore[arg-type]
    sender.recipients.take = lambda _s, phones: dict.fromkeys(phones, 0.0)  # type: ignore[method-assign]
    batch, _ = sender._claim_and_prepare()
    with transaction() as s:  # as if sent: the rows leave the queue
        for item in batch.items:
            row = s.get(OutboundMessage, item.row_id)
            assert row is not None
            row.status, row.lease_token = OutboxStatus.SENT, None
    return len(batch.items)


def _queue(count: int, purpose: str, start: int = 0) -> None:
    with transaction() as s:
        for i in range(start, start + count):
            contact = contacts.get_or_create_contact(s, f"+6142{i:07d}")
            outbox.enqueue_text(
                s,
                to_phone=contact.phone or "",
                contact_id=contact.id,
                body=f"{purpose} {i}",
                purpose=purpose,
                template_params=["EBC-2501234", "$900", "Jan 5", "https://pay"][
                    : 4 if purpose == "balance_reminder" else 1
                ],
            )


def test_tiers_are_read_as_meta_names_them():
    assert tier_of("TIER_2K") == "TIER_2K"
    assert tier_of("2000") == "TIER_2K"
    assert tier_of("UNLIMITED") == "TIER_UNLIMITED"
    assert tier_of("TIER_NOT_SET") is None
    assert tier_of("") is None


def test_reminders_wait_at_the_limit_and_booking_messages_come_first(db_url, frozen_clock):
    with transaction() as s:
        assert messaging_limits.tier(s) == "TIER_250"  # Meta's start until Meta says more
        messaging_limits.set_tier(s, "TIER_50", source="api")
    _queue(60, "balance_reminder")
    # Broadcast-like work leaves a tenth of the limit for messages about bookings.
    assert _prepare() == 45
    assert _prepare() == 0
    with transaction() as s:
        waiting = s.scalars(
            select(OutboundMessage).where(OutboundMessage.status == OutboxStatus.DEFERRED)
        ).all()
        assert len(waiting) == 15
        assert all(r.next_attempt_at and r.next_attempt_at > clock.now() for r in waiting)
        assert messaging_limits.unique_users(s) == 45
        # A reminder waiting for the limit does not hold up its recipient's booking notice.
        held = waiting[0]
        outbox.enqueue_text(
            s,
            to_phone=held.recipient_phone,
            contact_id=held.contact_id,
            body="Your hold ends soon",
            purpose="customer_update",
            template_params=["Your hold ends soon"],
        )
    assert _prepare() == 1
    # A notice about a booking still goes, up to the limit itself; past it, it waits too.
    _queue(6, "customer_update", start=100)
    assert _prepare() == 4
    with transaction() as s:
        assert messaging_limits.unique_users(s) == 50
    # Someone already messaged in the 24 hours costs nothing more.
    with transaction() as s:
        first = s.scalar(select(Contact).where(Contact.phone == "+61420000000"))
        assert first is not None
        outbox.enqueue_text(
            s,
            to_phone=first.phone or "",
            contact_id=first.id,
            body="x",
            purpose="customer_update",
            template_params=["x"],
        )
    assert _prepare() == 1
    # A user inside their window does not count at all.
    with transaction() as s:
        talking = contacts.get_or_create_contact(s, "+61429999999")
        contacts.touch_inbound(talking)
        outbox.enqueue_text(s, to_phone=talking.phone or "", contact_id=talking.id, body="hi")
    assert _prepare() == 1
    # A day later the oldest have left the 24 hours: the waiting reminders go.
    frozen_clock.advance(hours=24, minutes=1)
    assert _prepare() == 15 + 2
    with transaction() as s:
        assert not s.scalars(
            select(OutboundMessage).where(
                OutboundMessage.status.in_([OutboxStatus.QUEUED, OutboxStatus.DEFERRED])
            )
        ).all()
        assert s.scalar(select(func.count()).select_from(InitiatedConversation)) >= 67


def test_unlimited_counts_but_never_holds_back(db_url, frozen_clock):
    with transaction() as s:
        messaging_limits.set_tier(s, "TIER_UNLIMITED", source="api")
    _queue(300, "balance_reminder")
    assert _prepare() == 300


def test_a_username_customer_outside_the_window_is_counted_by_their_bsuid(db_url, frozen_clock):
    """A BSUID is longer than a phone: the count keeps it whole (PostgreSQL refused it once,
    and the sender's whole claim rolled back with it)."""
    bsuid = "US.13491208655302741918"
    with transaction() as s:
        contact = contacts.get_or_create_contact(s, bsuid)
        outbox.enqueue_text(
            s,
            to_phone=contact.address,
            contact_id=contact.id,
            body="Your balance is due",
            purpose="balance_reminder",
            template_params=["EBC-2501234", "$900", "Jan 5", "https://pay"],
        )
    assert _prepare() == 1
    with transaction() as s:
        assert s.scalars(select(InitiatedConversation.phone)).all() == [bsuid]


def test_the_quality_update_webhook_sets_the_tier(db_url):
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "WABA_FAKE",
                "time": 1,
                "changes": [
                    {
                        "field": "phone_number_quality_update",
                        "value": {
                            "display_phone_number": "15550783881",
                            "event": "UPGRADE",
                            "old_limit": "TIER_250",
                            "current_limit": "TIER_2K",
                            "max_daily_conversations_per_business": "TIER_2K",
                        },
                    }
                ],
            }
        ],
    }

    def ingest() -> None:
        with get_engine().connect() as connection:
            store_batch(connection, [inbox.parse_webhook(body, p.PHONE_NUMBER_ID)])

    ingest()
    with transaction() as s:
        assert messaging_limits.tier(s) == "TIER_2K"
        (event,) = s.scalars(
            select(TimelineEvent).where(TimelineEvent.action == "tms.messaging_limit.changed")
        ).all()
        assert event.content["limit"] == "2,000" and event.content["source"] == "webhook"
    # The same webhook again changes nothing.
    ingest()
    with transaction() as s:
        assert (
            len(
                s.scalars(
                    select(TimelineEvent).where(
                        TimelineEvent.action == "tms.messaging_limit.changed"
                    )
                ).all()
            )
            == 1
        )
