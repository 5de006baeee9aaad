"""A departure's papers as PDFs over the admin API: the checkpoint manifest (OPS, ADMIN, and the
trip's lead guide: open to every role, the service decides: a guide gets only their own trip's)
and the permit worksheet (OPS, ADMIN). Each export is on the bookings' timelines. The rules are
`backend.services.traveller_papers_pdf`'s."""

from __future__ import annotations

from sanic import Request
from sanic.response import HTTPResponse, raw
from sqlalchemy.orm import Session

from backend.api.common import EVERY_ROLE, ApiError, endpoint
from backend.api.routes import api
from backend.domain import access
from backend.domain.areas import Area
from backend.domain.errors import NotFound
from backend.models import Departure, Staff
from backend.services import traveller_papers_pdf, travellers

PAPERS = access.roles_for(Area.TRAVELLER_PAPERS)


@api.get("/departures/<departure_id>/manifest.pdf")
@endpoint(*EVERY_ROLE)
def manifest_pdf(
    request: Request, session: Session, member: Staff, departure_id: str
) -> HTTPResponse:
    """The checkpoint manifest (PDF, no photos): names, nationality, passport numbers, emergency
    contacts, insurers' assistance numbers, medical notes and diet. OPS and ADMIN for any
    departure; a guide for a departure whose trip they lead; 403 for anyone else."""
    departure = _departure(session, departure_id)
    try:
        data = traveller_papers_pdf.manifest_pdf(session, departure, member)
    except travellers.NotAllowed as exc:
        raise ApiError(403, str(exc)) from exc
    return _pdf(data, traveller_papers_pdf.filename(departure, "manifest"))


@api.get("/departures/<departure_id>/permits.pdf")
@endpoint(*PAPERS)
def permits_pdf(
    request: Request, session: Session, member: Staff, departure_id: str
) -> HTTPResponse:
    """The permit worksheet (PDF, landscape A4): the rows and columns of permits.csv, each
    permit named."""
    departure = _departure(session, departure_id)
    data = traveller_papers_pdf.permits_pdf(session, departure, member)
    return _pdf(data, traveller_papers_pdf.filename(departure, "permits"))


def _pdf(data: bytes, name: str) -> HTTPResponse:
    return raw(
        data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _departure(session: Session, departure_id: str) -> Departure:
    departure = session.get(Departure, departure_id)
    if departure is None:
        raise NotFound(f"No departure {departure_id}")
    return departure
