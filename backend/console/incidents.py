"""Operations (OPS): today's trips, the incident board, an incident's page and updates, and the
files that come in from the field."""

from __future__ import annotations

from sanic import response
from sanic.response import HTTPResponse

from backend import clock
from backend.console import page_data
from backend.console.web import Ctx, console_bp, console_page
from backend.domain import rescue
from backend.domain.access import Area, may_see, media_area
from backend.domain.enums import IncidentStatus, ObjectType
from backend.domain.errors import NotFound
from backend.http_common import get_or_404
from backend.models import Incident, MediaAttachment, Staff
from backend.services import (
    assignments,
    incident_dossier_pdf,
    incident_rescue,
    incidents,
    media,
    timeline,
    travellers,
    trips,
)
from backend.whatsapp.media import store_for


@console_bp.get("/today")
@console_page(Area.TRIPS)
def today_page(ctx: Ctx) -> HTTPResponse:
    return ctx.page("today.html", trips=page_data.today(ctx.session))


@console_bp.get("/incidents")
@console_page(Area.INCIDENTS)
def incidents_board(ctx: Ctx) -> HTTPResponse:
    board = page_data.incident_board(ctx.session)
    return ctx.page(
        "incidents.html",
        incidents=board,
        affected={i.id: page_data.guests_affected(ctx.session, i) for i in board},
        reporters={
            i.id: ctx.session.get(Staff, i.reported_by_staff_id) if i.reported_by_staff_id else None
            for i in board
        },
        now=clock.now(),
    )


def _incident(ctx: Ctx, incident_id: str) -> Incident:
    return get_or_404(ctx.session, Incident, incident_id, "incident")


@console_bp.get("/incidents/<incident_id:str>")
@console_page(Area.INCIDENTS)
def incident_page(ctx: Ctx, incident_id: str) -> HTTPResponse:
    incident = _incident(ctx, incident_id)
    guests = trips.guests_of(ctx.session, incident.trip)
    events = timeline.for_object(ctx.session, ObjectType.INCIDENT, incident.id, reader=ctx.member)
    # The guests' papers open for OPS and ADMIN, on the page a person opens (each time on the
    # bookings' timelines); the page's background refresh never opens them again.
    papers = travellers.may_read(ctx.member)
    everyone = ctx.arg("guests") == "all"
    rescue_guests = (
        incident_rescue.guests_for_incident(ctx.session, incident, ctx.member, everyone=everyone)
        if papers and not ctx.request.headers.get("x-console-live")
        else None
    )
    return ctx.page(
        "incident.html",
        incident=incident,
        papers=papers,
        rescue_guests=rescue_guests,
        concerned=incident_rescue.concerned(ctx.session, incident),
        everyone=everyone,
        checklist=incident_rescue.checklist(ctx.session, incident),
        steps=rescue.STEPS,
        local_now=clock.local_now().strftime("%Y-%m-%dT%H:%M"),
        reporter=ctx.session.get(Staff, incident.reported_by_staff_id)
        if incident.reported_by_staff_id
        else None,
        guide=assignments.lead_guide(ctx.session, incident.trip),
        guests=guests,
        notices={b.id: incidents.notice_for(ctx.session, incident, b) for b in guests},
        receipts=page_data.guest_notices(ctx.session, incident, guests),
        attachments=media.attachments_of_incident(ctx.session, incident),
        statuses=[s for s in IncidentStatus],
        events=events,
        sentences=timeline.describe(ctx.session, events),
        now=clock.now(),
    )


# Served inline only when the type is a plain image; anything else downloads as bytes, so a
# sender cannot get HTML or SVG run on the console's origin.
INLINE_MEDIA = {"image/jpeg", "image/png", "image/webp", "image/gif"}


@console_bp.get("/media/<attachment_id:str>")
@console_page(Area.MESSAGES)
def media_file(ctx: Ctx, attachment_id: str) -> HTTPResponse:
    attachment = get_or_404(ctx.session, MediaAttachment, attachment_id, "file")
    area = media_area(
        incident=bool(attachment.incident_id),
        trip=bool(attachment.trip_id),
        staff=bool(attachment.staff_id),
    )
    if not may_see(ctx.member.roles, area):
        raise NotFound("No such file")
    if attachment.status != media.STORED or not attachment.storage_key:
        raise NotFound("That file has not been downloaded")
    content = store_for().get(attachment.storage_key)
    mime = (attachment.mime_type or "").split(";")[0].strip().lower()
    inline = mime in INLINE_MEDIA
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
        "Content-Disposition": "inline"
        if inline
        else f'attachment; filename="{attachment.storage_key.rsplit("/", 1)[-1]}"',
    }
    return response.raw(
        content, content_type=mime if inline else "application/octet-stream", headers=headers
    )


@console_bp.post("/incidents/<incident_id:str>/update")
@console_page(Area.INCIDENTS)
def incident_update(ctx: Ctx, incident_id: str) -> HTTPResponse:
    incident = _incident(ctx, incident_id)
    status_raw = ctx.form("status")
    status = IncidentStatus(status_raw) if status_raw in set(IncidentStatus) else None
    chosen = [
        key[len("booking_") :]
        for key in (ctx.request.form or {})
        if key.startswith("booking_") and ctx.form(key) == "1"
    ]
    to_chosen = ctx.form("message_to_bookings")
    sent = incidents.ops_update(
        ctx.session,
        incident,
        ctx.actor,
        status=status if status and status != incident.status else None,
        resolution=ctx.form("resolution") or None,
        eta=ctx.form("eta")[:60] or None,
        message_to_guide=ctx.form("message_to_guide") or None,
        message_to_guests=ctx.form("message_to_guests") or None,
        message_to_bookings={b: to_chosen for b in chosen} if to_chosen and chosen else None,
    )
    told = ", ".join(
        f"{count} to the {who}"
        for who, count in (
            ("guide", sent.get("guide", 0)),
            ("guests", sent.get("guests", 0)),
            ("chosen bookings", sent.get("bookings", 0)),
        )
        if count
    )
    return ctx.done(
        f"/console/incidents/{incident.id}",
        f"Incident updated ({incident.status})" + (f"; messages sent: {told}" if told else ""),
    )


@console_bp.post("/incidents/<incident_id:str>/acknowledge")
@console_page(Area.INCIDENTS)
def incident_acknowledge(ctx: Ctx, incident_id: str) -> HTTPResponse:
    incident = _incident(ctx, incident_id)
    incidents.acknowledge(ctx.session, incident, ctx.actor)
    return ctx.done(f"/console/incidents/{incident.id}", "Acknowledged")


@console_bp.post("/incidents/<incident_id:str>/rescue")
@console_page(Area.INCIDENTS)
def incident_rescue_step(ctx: Ctx, incident_id: str) -> HTTPResponse:
    """A step of the insurer-first checklist (the form's `step`), through the same rules as
    the admin API's: a refusal comes back to the incident's page with its reason."""
    incident = _incident(ctx, incident_id)
    step = ctx.form("step")
    fields = ("case", "insurer", "provider", "at", "hospital", "contact", "note", "override")
    done = incident_rescue.record_step(
        ctx.session, incident, step, {f: ctx.form(f) or None for f in fields}, ctx.actor
    )
    label = rescue.BY_CODE[step].label
    return ctx.done(f"/console/incidents/{incident.id}#rescue", f"{label}: recorded by {done.by}")


@console_bp.get("/incidents/<incident_id:str>/dossier.pdf")
@console_page(Area.INCIDENTS)
def incident_dossier(ctx: Ctx, incident_id: str) -> HTTPResponse:
    """The incident dossier for the insurer's claim (OPS, ADMIN; the export is recorded)."""
    incident = _incident(ctx, incident_id)
    data = incident_dossier_pdf.dossier_pdf(ctx.session, incident, ctx.member)
    return response.raw(
        data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{incident_dossier_pdf.filename(incident)}"'
            ),
            "Cache-Control": "no-store",
        },
    )
