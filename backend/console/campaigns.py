"""Campaigns (issue 26): a staff-written marketing template to opted-in customers. Sales,
operations and admins see each campaign's audience and what became of it (sent, delivered,
read, replied, still waiting for Meta's messaging limit); an admin creates one, sales or
operations send it. A view only does form → service → message (`backend/services/campaigns.py`)."""

from __future__ import annotations

from sanic.response import HTTPResponse
from sqlalchemy import select

from backend import clock
from backend.console.web import Ctx, console_bp, console_page, html, see_other
from backend.domain.access import Area
from backend.domain.enums import Role
from backend.domain.errors import DomainError
from backend.models import Departure, Product
from backend.services import campaigns, messaging_limits
from backend.whatsapp.templates import approved, seeds

PATH = "/console/campaigns"


def template_seed(name: str) -> campaigns.TemplateChoice | None:
    """The product's own template of that name (templates.yml): used while Meta has not been
    heard from about it."""
    spec = approved(name)
    return (
        campaigns.TemplateChoice(spec.name, spec.params, spec.body, spec.category) if spec else None
    )


def _seeds() -> list[campaigns.TemplateChoice]:
    return [
        campaigns.TemplateChoice(s.name, s.params, s.body, s.category)
        for s in seeds()
        if s.category == campaigns.MARKETING
    ]


@console_bp.get("/campaigns")
@console_page(Area.MESSAGES)
def campaigns_page(ctx: Ctx) -> HTTPResponse:
    session = ctx.session
    listed = [campaigns.summary(session, c) for c in campaigns.list_campaigns(session)]
    departures = session.scalars(
        select(Departure)
        .where(Departure.start_date >= clock.local_today())
        .order_by(Departure.start_date)
        .limit(200)
    ).all()
    return ctx.page(
        "campaigns.html",
        campaigns=listed,
        limit=messaging_limits.status(session),
        may_create=ctx.member.has_role(Role.ADMIN),
        templates=campaigns.marketing_templates(session, _seeds()),
        products=session.scalars(select(Product).order_by(Product.code)).all(),
        departures=departures,
        kinds=campaigns.AUDIENCE_KINDS,
    )


@console_bp.post("/campaigns")
@console_page(Area.MESSAGES)
def campaigns_create(ctx: Ctx) -> HTTPResponse:
    if not ctx.member.has_role(Role.ADMIN):
        return html(
            "forbidden.html", 403, me=ctx.member, message="Only an admin creates campaigns."
        )
    name = ctx.form("template")
    kind = ctx.form("kind")
    audience = {"kind": kind, "product": ctx.form("product")}
    if kind == "waitlist":
        audience = {"kind": kind, "departure": ctx.form("departure")}
    params = [line.strip() for line in ctx.form("params").splitlines() if line.strip()]
    try:
        days = int(ctx.form("reply_days", "7") or 7)
    except ValueError:
        days = 0
    try:
        campaign = campaigns.create(
            ctx.session,
            name=ctx.form("name"),
            template_name=name,
            params=params,
            audience=audience,
            actor=ctx.actor,
            reply_days=days,
            seed=template_seed(name),
        )
    except DomainError as exc:
        ctx.record.flash = f"error:{exc}"
        return see_other(PATH)
    counts = campaigns.count_audience(ctx.session, campaign.audience)
    return ctx.done(
        f"{PATH}#c-{campaign.id}",
        f"Campaign created: {counts['optedIn']} of {counts['matched']} customers opted in",
    )


@console_bp.post("/campaigns/<campaign_id:str>/send")
@console_page(Area.MESSAGES)
def campaigns_send(ctx: Ctx, campaign_id: str) -> HTTPResponse:
    if not ctx.member.has_role(Role.SALES, Role.OPS):
        return html("forbidden.html", 403, me=ctx.member, message="Sales or operations send.")
    try:
        result = campaigns.send(ctx.session, campaign_id, ctx.actor)
    except DomainError as exc:
        ctx.record.flash = f"error:{exc}"
        return see_other(PATH)
    return ctx.done(
        f"{PATH}#c-{campaign_id}",
        f"Queued for {result['queued']} customers ({result['already']} had it already); "
        "it goes out as Meta's messaging limit allows",
    )
