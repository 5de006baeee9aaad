"""The admin API's campaigns (marketing templates to opted-in customers) and Meta's messaging
limit. ADMIN creates a campaign; OPS and SALES may send it. Registered on the admin API's
blueprint (`backend.api.routes.api`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sanic import Request
from sqlalchemy.orm import Session

from backend.api.common import endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import Role
from backend.models import Staff
from backend.services import campaigns, messaging_limits
from backend.whatsapp.templates import approved


def template_seed(name: str) -> campaigns.TemplateChoice | None:
    """The product's own template of that name (backend/whatsapp/templates.yml), for while
    Meta has not been heard from about it."""
    spec = approved(name)
    if spec is None:
        return None
    return campaigns.TemplateChoice(spec.name, spec.params, spec.body, spec.category)


class AudienceBody(BaseModel):
    kind: str = Field(description="past_travellers, enquiries or waitlist")
    product: str | None = Field(default=None, max_length=8, description="the trek's code")
    departure: str | None = Field(default=None, max_length=36, description="for a waitlist")


class CampaignBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str = Field(min_length=1, max_length=120)
    template: str = Field(min_length=1, max_length=512, description="an approved marketing one")
    params: list[str] = Field(default_factory=list, max_length=10)
    audience: AudienceBody
    reply_days: int = Field(default=7, alias="replyDays", ge=1, le=30)


@api.get("/campaigns")
@endpoint(Role.SALES, Role.OPS)
def list_campaigns(request: Request, session: Session, member: Staff) -> Any:
    """Every campaign, newest first, with its audience and what became of it."""
    return {"campaigns": [campaigns.summary(session, c) for c in campaigns.list_campaigns(session)]}


@api.post("/campaigns")
@endpoint(Role.ADMIN, body=CampaignBody)
def create_campaign(request: Request, session: Session, member: Staff, body: CampaignBody) -> Any:
    """Create a campaign (not sent): an approved marketing template, its parameters, the
    audience; answers it with the audience counted."""
    campaign = campaigns.create(
        session,
        name=body.name,
        template_name=body.template,
        params=body.params,
        audience=body.audience.model_dump(exclude_none=True),
        actor=staff_actor(member),
        reply_days=body.reply_days,
        seed=template_seed(body.template),
    )
    return {"campaign": campaigns.summary(session, campaign)}


@api.get("/campaigns/<campaign_id:str>")
@endpoint(Role.SALES, Role.OPS)
def get_campaign(request: Request, session: Session, member: Staff, campaign_id: str) -> Any:
    """One campaign: audience (matched, opted in), queued, sent, delivered, read, failed,
    waiting (the messaging limit), replied."""
    return {"campaign": campaigns.summary(session, campaigns.get(session, campaign_id))}


@api.post("/campaigns/<campaign_id:str>/send")
@endpoint(Role.SALES, Role.OPS)
def send_campaign(request: Request, session: Session, member: Staff, campaign_id: str) -> Any:
    """Queue the campaign to every opted-in recipient not reached yet (once each; sending
    again reaches only the new ones). The sender paces it under Meta's messaging limit."""
    result = campaigns.send(session, campaign_id, staff_actor(member))
    return {**result, "campaign": campaigns.summary(session, campaigns.get(session, campaign_id))}


@api.get("/messaging-limit")
@endpoint(Role.OPS)
def messaging_limit(request: Request, session: Session, member: Staff) -> Any:
    """Meta's messaging limit as last said (tier, unique users a day outside the window) and
    the users counted in the last 24 hours."""
    return messaging_limits.status(session)
