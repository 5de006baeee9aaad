"""Campaigns: a staff-written marketing message to opted-in customers, sent as an approved
marketing template (issue 26).

- The audience is a segment (past travellers of a product, enquiries about a product that did
  not book, a departure's waitlist) narrowed to the customers who opted in to marketing and
  whom nothing stops now (STOP, Meta's 131050, a 131049 pause): counted before sending.
- Sending queues each recipient once (`campaign_recipients` is unique per campaign and
  contact; the campaign's row is locked while it is sent), through the outbox with purpose
  `campaign`, so consent is checked again where every message is queued and the sender's
  messaging-limit rule paces it (broadcast work waits; messages about bookings go first).
  Sending again reaches only who was not reached yet (a new opt-in, a pause that ended).
- Counts come from what the outbox learnt (sent, delivered, read, failed, still waiting) and
  from the inbox: a recipient who writes within `reply_days` of their message replied. The
  reply itself is an ordinary message: it lands in the inbox with the assistant.

ADMIN creates a campaign; OPS, SALES (or ADMIN) send it. Both are on the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from backend import clock
from backend.domain.actor import Actor
from backend.domain.enums import BookingStatus, LeadStatus, ObjectType, OutboxStatus, WaitlistStatus
from backend.domain.errors import DomainError, NotFound
from backend.models import (
    Booking,
    Campaign,
    CampaignRecipient,
    Contact,
    ContactConsent,
    Departure,
    InboundMessage,
    Lead,
    MessageTemplate,
    OutboundMessage,
    Product,
    WaitlistEntry,
)
from backend.services import consent, languages, outbox, timeline

PURPOSE = "campaign"
AUDIENCE_KINDS = {
    "past_travellers": "past travellers of {product}",
    "enquiries": "enquiries about {product} that did not book",
    "waitlist": "the waitlist of {product} on {date}",
}
MARKETING = "MARKETING"


class CampaignRefused(DomainError):
    code = "campaign_refused"


@dataclass(frozen=True)
class TemplateChoice:
    name: str
    params: int
    body: str
    category: str = MARKETING


def marketing_template(
    session: Session, name: str, seed: TemplateChoice | None = None
) -> TemplateChoice:
    """The approved marketing template of that name: its English record as Meta last said,
    else `seed` (the product's templates.yml, which the caller reads: an edge's file) while
    Meta has not been heard from. Refused when it is not marketing or not approved."""
    record = session.scalar(
        select(MessageTemplate).where(
            MessageTemplate.name == name, MessageTemplate.language == "en"
        )
    )
    if record is not None:
        if seed is None:  # known from Meta only: the sender sends the product's templates
            raise CampaignRefused(
                f"the template {name} is not one of the product's (backend/whatsapp/templates.yml)"
            )
        if record.category != MARKETING:
            raise CampaignRefused(
                f"the template {name} is {record.category.lower()}, not marketing"
            )
        if record.status != "APPROVED":
            raise CampaignRefused(f"the template {name} is {record.status.lower()}, not approved")
        return TemplateChoice(record.name, record.params, record.body)
    if seed is None or seed.category != MARKETING or seed.name != name:
        raise CampaignRefused(f"{name!r} is not an approved marketing template")
    return seed


def marketing_templates(session: Session, seeds: list[TemplateChoice]) -> list[TemplateChoice]:
    """The approved marketing templates a campaign may use: records, and seeds Meta has not
    been heard from about (the create form's choices)."""
    recorded = set(session.scalars(select(MessageTemplate.name)))
    ours = {s.name for s in seeds}
    found = [
        TemplateChoice(r.name, r.params, r.body)
        for r in session.scalars(
            select(MessageTemplate).where(
                MessageTemplate.category == MARKETING,
                MessageTemplate.status == "APPROVED",
                MessageTemplate.language == "en",
                MessageTemplate.name.in_(ours),
            )
        )
    ]
    found += [s for s in seeds if s.category == MARKETING and s.name not in recorded]
    return sorted(found, key=lambda t: t.name)


def _audience(session: Session, audience: dict[str, Any]) -> dict[str, Any]:
    kind = str(audience.get("kind") or "")
    if kind not in AUDIENCE_KINDS:
        raise CampaignRefused(f"the audience must be one of: {', '.join(AUDIENCE_KINDS)}")
    if kind == "waitlist":
        departure = session.get(Departure, str(audience.get("departure") or ""))
        if departure is None:
            raise CampaignRefused("name the departure whose waitlist hears about it")
        return {"kind": kind, "departure": departure.id, "product": departure.product.code}
    code = str(audience.get("product") or "").strip().upper()
    if session.scalar(select(Product.id).where(Product.code == code)) is None:
        raise CampaignRefused(f"no product {code!r}")
    return {"kind": kind, "product": code}


def describe_audience(session: Session, audience: dict[str, Any]) -> str:
    """The audience in words: "past travellers of EBC"."""
    departure = session.get(Departure, audience["departure"]) if audience.get("departure") else None
    return AUDIENCE_KINDS.get(str(audience.get("kind")), "customers").format(
        product=audience.get("product") or "",
        date=f"{departure.start_date:%d %b %Y}" if departure is not None else "",
    )


def create(
    session: Session,
    *,
    name: str,
    template_name: str,
    params: list[str],
    audience: dict[str, Any],
    actor: Actor,
    reply_days: int = 7,
    seed: TemplateChoice | None = None,
) -> Campaign:
    """A new campaign (not sent yet): its template must be an approved marketing one (`seed`:
    the product's own, while Meta has not been heard from), its parameters as many as the
    template takes. `note` keeps the text customers read."""
    name = " ".join(str(name or "").split())
    if not name or len(name) > 120:
        raise CampaignRefused("name the campaign (1 to 120 characters)")
    template = marketing_template(session, template_name, seed)
    params = [str(p).strip() for p in params]
    if len(params) != template.params or not all(params):
        raise CampaignRefused(
            f"the template {template.name} takes {template.params} parameter(s), "
            f"{len([p for p in params if p])} given"
        )
    if not 1 <= int(reply_days) <= 30:
        raise CampaignRefused("replies are counted for 1 to 30 days")
    campaign = Campaign(
        name=name,
        template_name=template.name,
        template_params=params,
        audience=_audience(session, audience),
        note=_render(template.body, params),
        reply_days=int(reply_days),
        created_by=actor.staff_id,
    )
    session.add(campaign)
    session.flush()
    timeline.record(
        session,
        object_type=ObjectType.CAMPAIGN,
        object_id=campaign.id,
        event_type="CAMPAIGN",
        action="tms.campaign.created",
        actor=actor,
        content={
            "name": campaign.name,
            "template": campaign.template_name,
            "audience": describe_audience(session, campaign.audience),
        },
    )
    return campaign


def get(session: Session, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def segment(session: Session, audience: dict[str, Any]) -> Any:
    """The contact ids the audience names, before consent (a select of Contact.id)."""
    kind = audience.get("kind")
    if kind == "waitlist":
        return (
            select(Booking.contact_id)
            .join(WaitlistEntry, WaitlistEntry.booking_id == Booking.id)
            .where(
                WaitlistEntry.departure_id == audience["departure"],
                WaitlistEntry.status.in_([WaitlistStatus.WAITING, WaitlistStatus.OFFERED]),
            )
        )
    product_id = select(Product.id).where(Product.code == audience["product"]).scalar_subquery()
    travelled = (
        select(Booking.contact_id)
        .join(Departure, Departure.id == Booking.departure_id)
        .where(Departure.product_id == product_id)
    )
    if kind == "past_travellers":
        return travelled.where(
            (Booking.status == BookingStatus.COMPLETED)
            | and_(
                Booking.status == BookingStatus.CONFIRMED,
                Departure.end_date < clock.local_today(),
            )
        )
    booked = travelled.where(
        Booking.status.not_in([BookingStatus.CANCELLED, BookingStatus.EXPIRED])
    )
    return select(Lead.contact_id).where(
        Lead.product_id == product_id,
        Lead.status != LeadStatus.WON,
        Lead.contact_id.not_in(booked),
    )


def _eligible(session: Session, audience: dict[str, Any]) -> Any:
    """The audience's contacts who opted in to marketing, with a number, nothing stopping
    marketing to them now (STOP, 131050, a 131049 pause that has not ended)."""
    now = clock.now()
    return (
        select(Contact)
        .join(
            ContactConsent,
            and_(
                ContactConsent.contact_id == Contact.id,
                ContactConsent.category == consent.MARKETING,
            ),
        )
        .where(
            Contact.id.in_(segment(session, audience)),
            Contact.opted_out_at.is_(None),
            (ContactConsent.status == consent.OPTED_IN)
            | and_(ContactConsent.status == consent.PAUSED, ContactConsent.paused_until <= now),
        )
        .order_by(Contact.created_at, Contact.id)
    )


def count_audience(session: Session, audience: dict[str, Any]) -> dict[str, int]:
    """Before sending: how many the segment names, and how many of them may get it."""
    matched = int(
        session.scalar(
            select(func.count(func.distinct(Contact.id))).where(
                Contact.id.in_(segment(session, audience))
            )
        )
        or 0
    )
    eligible = int(
        session.scalar(select(func.count()).select_from(_eligible(session, audience).subquery()))
        or 0
    )
    return {"matched": matched, "optedIn": eligible, "excluded": matched - eligible}


def send(session: Session, campaign_id: str, actor: Actor) -> dict[str, int]:
    """Queue the campaign to each opted-in recipient not reached yet (once each, however often
    it is sent); returns how many were queued now and how many had it already."""
    campaign = session.get(Campaign, campaign_id, with_for_update=True)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    # Meta may have paused or reclassified it since: the record says (none: the seed's).
    name = campaign.template_name
    template = marketing_template(
        session, name, TemplateChoice(name, len(campaign.template_params), campaign.note or "")
    )
    reached = set(
        session.scalars(
            select(CampaignRecipient.contact_id).where(CampaignRecipient.campaign_id == campaign.id)
        )
    )
    audience = _eligible(session, campaign.audience)
    queued = 0
    now = clock.now()
    for contact in session.scalars(audience).unique():
        if contact.id in reached:
            continue
        params = list(campaign.template_params)
        rows = outbox.enqueue_template(
            session,
            to_phone=contact.address,  # a username customer's BSUID: Meta sends marketing to it
            contact_id=contact.id,
            template_name=template.name,
            params=params,
            body=campaign.note or _render(template.body, params),
            language=languages.language_of(contact),
            purpose=PURPOSE,
            object_type=ObjectType.CAMPAIGN,
            object_id=campaign.id,
        )
        if not rows:  # consent said no where every message is queued
            continue
        session.add(
            CampaignRecipient(
                campaign_id=campaign.id,
                contact_id=contact.id,
                phone=contact.address,
                outbound_id=rows[0].id,
                queued_at=now,
            )
        )
        reached.add(contact.id)
        queued += 1
    session.flush()
    if campaign.sent_at is None:
        campaign.sent_at, campaign.sent_by = now, actor.staff_id
    counts = count_audience(session, campaign.audience)
    timeline.record(
        session,
        object_type=ObjectType.CAMPAIGN,
        object_id=campaign.id,
        event_type="CAMPAIGN",
        action="tms.campaign.sent",
        actor=actor,
        content={"name": campaign.name, "queued": queued, "audience": counts["optedIn"]},
    )
    return {"queued": queued, "already": len(reached) - queued}


def _render(body: str, params: list[str]) -> str:
    for index, value in enumerate(params, start=1):
        body = body.replace(f"{{{{{index}}}}}", value)
    return body


def stats(session: Session, campaign: Campaign) -> dict[str, int]:
    """What became of the campaign: recipients queued, sent, delivered, read, failed, still
    waiting (the messaging limit or pacing), and who replied within `reply_days`."""
    row = OutboundMessage
    base = (
        select(func.count())
        .select_from(CampaignRecipient)
        .join(row, row.id == CampaignRecipient.outbound_id)
        .where(CampaignRecipient.campaign_id == campaign.id)
    )

    def count(*where: Any) -> int:
        return int(session.scalar(base.where(*where)) or 0)

    return {
        "queued": count(),
        "sent": count(row.sent_at.is_not(None)),
        "delivered": count(row.delivered_at.is_not(None) | row.read_at.is_not(None)),
        "read": count(row.read_at.is_not(None)),
        "failed": count(row.status == OutboxStatus.FAILED),
        "waiting": count(row.status.in_([OutboxStatus.QUEUED, OutboxStatus.DEFERRED])),
        "replied": _replied(session, campaign),
    }


def _replied(session: Session, campaign: Campaign) -> int:
    """Recipients who wrote within `reply_days` after their message was sent (matched in
    Python: SQLite cannot add an interval to a column)."""
    sent: list[tuple[str, datetime]] = [
        (phone, at)
        for phone, at in session.execute(
            select(CampaignRecipient.phone, OutboundMessage.sent_at)
            .join(OutboundMessage, OutboundMessage.id == CampaignRecipient.outbound_id)
            .where(
                CampaignRecipient.campaign_id == campaign.id, OutboundMessage.sent_at.is_not(None)
            )
        )
        if at is not None
    ]
    if not sent:
        return 0
    first = min(at for _, at in sent)
    inbound: dict[str, list[datetime]] = {}
    for phone, at in session.execute(
        select(InboundMessage.from_phone, InboundMessage.stored_at).where(
            InboundMessage.from_phone.in_([p for p, _ in sent]),
            InboundMessage.stored_at >= first,
        )
    ):
        inbound.setdefault(phone, []).append(at)
    span = timedelta(days=campaign.reply_days)
    return sum(1 for phone, at in sent if any(at <= t <= at + span for t in inbound.get(phone, [])))


def summary(session: Session, campaign: Campaign) -> dict[str, Any]:
    """A campaign as the console and the API show it."""
    return {
        "id": campaign.id,
        "name": campaign.name,
        "template": campaign.template_name,
        "params": list(campaign.template_params),
        "audience": dict(campaign.audience),
        "audienceText": describe_audience(session, campaign.audience),
        "replyDays": campaign.reply_days,
        "createdAt": campaign.created_at.isoformat(),
        "sentAt": campaign.sent_at.isoformat() if campaign.sent_at else None,
        "counts": count_audience(session, campaign.audience),
        "progress": stats(session, campaign),
    }


def list_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.created_at.desc())))
