"""Campaigns (issue 26): a marketing template to opted-in customers of a segment, the audience
counted before sending, opt-outs and Meta's refusals respected, each recipient queued once
however often it is sent, and delivery, read and reply counts. On SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import Actor
from backend.domain.enums import BookingStatus, LeadStatus, OutboxStatus, Source
from backend.models import (
    Booking,
    Campaign,
    Contact,
    ContactConsent,
    Departure,
    InboundMessage,
    Lead,
    MessageTemplate,
    OutboundMessage,
    Product,
    TimelineEvent,
)
from backend.services import campaigns
from backend.whatsapp.templates import approved

ADMIN = Actor(Source.ADMIN)


def seed_of(name: str) -> campaigns.TemplateChoice | None:
    spec = approved(name)
    if spec is None:
        return None
    return campaigns.TemplateChoice(spec.name, spec.params, spec.body, spec.category)


def news_campaign(session: Session, **changes: Any) -> Campaign:
    """The departure_news campaign to EBC's past travellers, with `changes` to its arguments."""
    arguments: dict[str, Any] = {
        "name": "News",
        "template_name": "departure_news",
        "params": ["EBC", "Dates!"],
        "audience": {"kind": "past_travellers", "product": "EBC"},
        "actor": ADMIN,
        "seed": seed_of("departure_news"),
    }
    return campaigns.create(session, **{**arguments, **changes})


@dataclass
class World:
    product: str
    opted_in: list[str]  # phones
    declined: list[str]
    stopped_by_meta: list[str]
    undecided: list[str]


def build_world(
    session: Session,
    *,
    opted_in: int,
    declined: int = 0,
    stopped_by_meta: int = 0,
    undecided: int = 0,
    prefix: str = "+49151",
) -> World:
    """Past travellers of EBC in bulk (one completed booking each), with their marketing
    consent: opted in, declined, stopped by Meta (131050) or nothing said."""
    today = clock.local_today()
    product = Product(
        code="EBC",
        name="Everest Base Camp Trek",
        short_name="EBC",
        days=14,
        price_per_person_minor=150_000,
    )
    session.add(product)
    session.flush()
    departure = Departure(
        product_id=product.id,
        start_date=today - timedelta(days=40),
        end_date=today - timedelta(days=26),
        capacity=5000,
    )
    session.add(departure)
    session.flush()
    groups = {
        "opted_in": ("opted_in", "customer", opted_in),
        "declined": ("opted_out", "declined", declined),
        "stopped_by_meta": ("opted_out", "meta_131050", stopped_by_meta),
        "undecided": (None, None, undecided),
    }
    now = clock.now()
    phones: dict[str, list[str]] = {}
    contacts, bookings, consents = [], [], []
    index = 0
    for group, (status, source, count) in groups.items():
        phones[group] = []
        for _ in range(count):
            contact_id = str(uuid.uuid4())
            phone = f"{prefix}{index:08d}"
            index += 1
            phones[group].append(phone)
            contacts.append({"id": contact_id, "phone": phone, "created_at": now})
            bookings.append(
                {
                    "id": str(uuid.uuid4()),
                    "reference": f"EBC-{index:07d}",
                    "ref_key": f"EBC{prefix[1:]}{index:07d}",
                    "contact_id": contact_id,
                    "departure_id": departure.id,
                    "party_size": 1,
                    "status": BookingStatus.COMPLETED,
                    "payment_status": "FULL_PAID",
                    "currency": "USD",
                    "price_per_person_minor": 150_000,
                    "discount_minor": 0,
                    "total_minor": 150_000,
                    "deposit_minor": 45_000,
                    "balance_due_date": today - timedelta(days=55),
                    "created_at": now,
                }
            )
            if status is not None:
                consents.append(
                    {
                        "contact_id": contact_id,
                        "category": "marketing",
                        "status": status,
                        "pauses": 0,
                        "source": source,
                        "changed_at": now,
                    }
                )
    session.execute(insert(Contact), contacts)
    session.execute(insert(Booking), bookings)
    if consents:
        session.execute(insert(ContactConsent), consents)
    session.flush()
    return World(
        "EBC",
        phones["opted_in"],
        phones["declined"],
        phones["stopped_by_meta"],
        phones["undecided"],
    )


def test_a_campaign_needs_an_approved_marketing_template(session):
    build_world(session, opted_in=1)
    with pytest.raises(campaigns.CampaignRefused, match="not an approved marketing"):
        campaigns.create(
            session,
            name="News",
            template_name="customer_update",
            params=["x"],
            audience={"kind": "past_travellers", "product": "EBC"},
            actor=ADMIN,
            seed=seed_of("customer_update"),
        )
    with pytest.raises(campaigns.CampaignRefused, match="takes 2 parameter"):
        news_campaign(session, params=["EBC"])
    with pytest.raises(campaigns.CampaignRefused, match="no product"):
        news_campaign(session, audience={"kind": "past_travellers", "product": "XYZ"})


def test_a_template_known_from_meta_only_is_not_offered_nor_accepted(session):
    """The sender sends the product's templates: a campaign on another would fail each send."""
    build_world(session, opted_in=1)
    session.add(
        MessageTemplate(
            name="spring_sale",
            language="en",
            category="MARKETING",
            status="APPROVED",
            body="Spring sale: {{1}}",
            params=1,
            quick_replies=[],
            updated_at=clock.now(),
        )
    )
    session.flush()
    ours = seed_of("departure_news")
    assert ours is not None
    assert [t.name for t in campaigns.marketing_templates(session, [ours])] == ["departure_news"]
    with pytest.raises(campaigns.CampaignRefused, match="not one of the product's"):
        campaigns.create(
            session,
            name="Sale",
            template_name="spring_sale",
            params=["20% off"],
            audience={"kind": "past_travellers", "product": "EBC"},
            actor=ADMIN,
        )


def test_audience_is_counted_and_sending_twice_queues_each_once(session):
    world = build_world(session, opted_in=30, declined=3, stopped_by_meta=2, undecided=4)
    campaign = campaigns.create(
        session,
        name="Spring departures",
        template_name="departure_news",
        params=["Everest Base Camp", "New spring dates are open."],
        audience={"kind": "past_travellers", "product": "EBC"},
        actor=ADMIN,
        seed=seed_of("departure_news"),
    )
    assert campaigns.count_audience(session, campaign.audience) == {
        "matched": 39,
        "optedIn": 30,
        "excluded": 9,
    }
    assert campaigns.send(session, campaign.id, ADMIN) == {"queued": 30, "already": 0}
    rows = session.scalars(select(OutboundMessage)).all()
    assert len(rows) == 30
    assert {r.recipient_phone for r in rows} == set(world.opted_in)
    assert {(r.kind, r.purpose, r.template_name) for r in rows} == {
        ("template", "campaign", "departure_news")
    }
    assert rows[0].template_params == ["Everest Base Camp", "New spring dates are open."]
    # Again: nobody twice.
    assert campaigns.send(session, campaign.id, ADMIN) == {"queued": 0, "already": 30}
    assert len(session.scalars(select(OutboundMessage)).all()) == 30
    actions = session.scalars(
        select(TimelineEvent.action).where(TimelineEvent.object_id == campaign.id)
    ).all()
    assert actions == ["tms.campaign.created", "tms.campaign.sent", "tms.campaign.sent"]


def test_a_username_customer_gets_the_campaign_by_their_bsuid(session):
    world = build_world(session, opted_in=2)
    contact = session.scalar(select(Contact).where(Contact.phone == world.opted_in[0]))
    assert contact is not None
    contact.phone, contact.user_id = None, "DE.13491208655302741918"
    session.flush()
    campaign = news_campaign(session)
    assert campaigns.send(session, campaign.id, ADMIN)["queued"] == 2
    sent_to = set(session.scalars(select(OutboundMessage.recipient_phone)))
    assert sent_to == {"DE.13491208655302741918", world.opted_in[1]}


def test_progress_counts_delivery_read_and_replies(session):
    world = build_world(session, opted_in=5)
    campaign = news_campaign(session)
    campaigns.send(session, campaign.id, ADMIN)
    # The first who writes back among the four sent (the queue's order is not the audience's).
    rows = sorted(
        session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all(),
        key=lambda row: row.recipient_phone != world.opted_in[0],
    )
    now = clock.now()
    for i, row in enumerate(rows[:4]):
        row.status, row.sent_at, row.provider_message_id = OutboxStatus.SENT, now, f"wamid.C{i}"
    rows[0].delivered_at = rows[1].delivered_at = now
    rows[1].read_at = now
    rows[2].read_at = now  # read without a delivered status first
    # Two write back: one within the reply days, one long after.
    for i, (phone, at) in enumerate(
        [
            (world.opted_in[0], now + timedelta(hours=2)),
            (world.opted_in[1], now + timedelta(days=9)),
        ]
    ):
        session.add(
            InboundMessage(
                wamid=f"wamid.R{i}",
                from_phone=phone,
                message_type="text",
                text="Tell me more",
                stored_at=at,
                status="DONE",
            )
        )
    session.flush()
    assert campaigns.stats(session, campaign) == {
        "queued": 5,
        "sent": 4,
        "delivered": 3,
        "read": 2,
        "failed": 0,
        "waiting": 1,
        "replied": 1,
    }


def test_enquiries_that_did_not_book_and_a_waitlist_are_audiences(session):
    build_world(session, opted_in=2)
    product_id = session.scalar(select(Product.id).where(Product.code == "EBC"))
    contact = session.scalars(select(Contact).order_by(Contact.phone)).first()
    assert contact is not None
    session.add(
        Lead(
            reference="EBC2500001",
            ref_key="EBC2500001",
            contact_id=contact.id,
            product_id=product_id,
            status=LeadStatus.LOST,
        )
    )
    session.flush()
    # Their past booking counts as booked: an enquiry that did book is not "did not book".
    counts = campaigns.count_audience(session, {"kind": "enquiries", "product": "EBC"})
    assert counts["matched"] == 0
