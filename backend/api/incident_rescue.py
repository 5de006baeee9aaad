"""An incident on the mountain over the admin API (OPS, ADMIN): its detail with the guests it
concerns (insurer, policy, 24-hour assistance, emergency contact, medical notes; the read is
on each booking's timeline) and the insurer-first checklist, a step of that checklist, and
the incident dossier (PDF) for the insurer's claim. The rules are
`backend.services.incident_rescue`'s and `backend.services.incident_dossier_pdf`'s."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sanic import Request
from sanic.response import HTTPResponse, raw
from sqlalchemy.orm import Session

from backend.api import serializers
from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain import access, rescue
from backend.domain.areas import Area
from backend.domain.errors import NotFound
from backend.http_common import get_or_404
from backend.models import Incident, Staff
from backend.services import incident_dossier_pdf, incident_rescue, travellers

INCIDENTS = access.roles_for(Area.INCIDENTS)


class StepBody(BaseModel):
    """What the step records (`backend.domain.rescue.STEPS`): insurer_called needs `case`;
    evacuation_arranged `provider` and `at` (ISO 8601; without an offset, the operator's
    time; or `15:30`, today), and `override` (why) when the insurer was not called first;
    hospital needs `hospital`; family_informed may name `contact`. Any may carry a `note`."""

    model_config = ConfigDict(extra="forbid")

    case: str | None = Field(default=None, max_length=60)
    insurer: str | None = Field(default=None, max_length=120)
    provider: str | None = Field(default=None, max_length=120)
    at: str | None = Field(default=None, max_length=40)
    hospital: str | None = Field(default=None, max_length=160)
    contact: str | None = Field(default=None, max_length=160)
    note: str | None = Field(default=None, max_length=1000)
    override: str | None = Field(default=None, max_length=500)


@api.get("/incidents/<incident_id:str>/rescue")
@endpoint(*INCIDENTS, query=("everyone",))
def incident_rescue_detail(
    request: Request, session: Session, member: Staff, incident_id: str
) -> Any:
    """The incident, its insurer-first checklist (each step's records: when, by whom, what)
    and the guests it concerns with their emergency details (`everyone=1`: every guest of the
    trip when the reports name some). Each booking's read is on its timeline."""
    incident = get_or_404(session, Incident, incident_id, "incident")
    everyone = request.args.get("everyone") in ("1", "true")
    return {
        "incident": serializers.incident(incident),
        "checklist": incident_rescue.checklist(session, incident).as_dict(),
        "guests": [
            _guest(g)
            for g in incident_rescue.guests_for_incident(
                session, incident, member, everyone=everyone
            )
        ]
        if travellers.may_read(member)
        else None,
    }


@api.post("/incidents/<incident_id:str>/rescue/<step:str>")
@endpoint(*INCIDENTS, body=StepBody)
def record_rescue_step(
    request: Request, session: Session, member: Staff, incident_id: str, step: str, body: StepBody
) -> Any:
    """Record a step of the insurer-first checklist: `insurer_called`, `evacuation_arranged`,
    `hospital`, `family_informed`. 404 for another step; 409 (`insurer_first`) for the
    evacuation before the insurer without an `override` reason, or an incident without a
    checklist; 422 naming what the step needs."""
    incident = get_or_404(session, Incident, incident_id, "incident")
    if step not in rescue.BY_CODE:
        raise NotFound(f"No step {step}: the steps are " + ", ".join(rescue.BY_CODE))
    try:
        done = incident_rescue.record_step(
            session, incident, step, body.model_dump(exclude_none=True), staff_actor(member)
        )
    except incident_rescue.StepInvalid as exc:
        raise ApiError(422, str(exc), code=exc.code) from exc
    return {
        "recorded": {"step": done.step, "at": done.at.isoformat(), "by": done.by, **done.content},
        "checklist": incident_rescue.checklist(session, incident).as_dict(),
    }


@api.get("/incidents/<incident_id:str>/dossier.pdf")
@endpoint(*INCIDENTS)
def incident_dossier(
    request: Request, session: Session, member: Staff, incident_id: str
) -> HTTPResponse:
    """The incident dossier for the insurer's claim (PDF): the incident, the case number, each
    step with its time and who did it, the guests' insurers, every report from the field with
    its photos and locations, the timeline. The export is on the timelines."""
    incident = get_or_404(session, Incident, incident_id, "incident")
    try:
        data = incident_dossier_pdf.dossier_pdf(session, incident, member)
    except travellers.NotAllowed as exc:
        raise ApiError(403, str(exc)) from exc
    return raw(
        data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{incident_dossier_pdf.filename(incident)}"'
            ),
            "Cache-Control": "no-store",
        },
    )


def _guest(g: incident_rescue.GuestPapers) -> dict[str, Any]:
    return {
        "booking": g.booking,
        "position": g.position,
        "fullName": g.name,
        "namedInReport": g.named,
        "insurer": g.insurer,
        "policyNumber": g.policy_number,
        "assistancePhone": g.assistance_phone,
        "coversHelicopter": g.covers_helicopter,
        "coverAltitudeM": g.cover_altitude_m,
        "emergencyName": g.emergency_name,
        "emergencyRelationship": g.emergency_relationship,
        "emergencyPhone": g.emergency_phone,
        "medical": g.medical,
    }
