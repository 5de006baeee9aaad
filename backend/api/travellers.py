"""The traveller file over the admin API: a booking's travellers (OPS, ADMIN: the contents;
each read is on the booking's timeline), a departure's readiness (SALES too: completeness and
flags only) and its permit worksheet (OPS, ADMIN). The rules are
`backend.services.travellers`'; field names are `backend.domain.travellers.FIELDS`' `api`."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from sanic import Request, response
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain import access
from backend.domain import travellers as rules
from backend.domain.areas import Area
from backend.domain.errors import NotFound
from backend.models import Departure, Staff, Traveller
from backend.services import bookings, travellers

PAPERS = access.roles_for(Area.TRAVELLER_PAPERS)
COMPLETENESS = access.roles_for(Area.BOOKINGS)


class TravellerBody(BaseModel):
    """The fields to set (left out: unchanged; null or "": cleared)."""

    model_config = ConfigDict(extra="forbid")

    fullName: str | None = None
    nationality: str | None = None
    passportNumber: str | None = None
    passportExpiry: date | str | None = None
    dateOfBirth: date | str | None = None
    sex: str | None = None
    insurer: str | None = None
    policyNumber: str | None = None
    assistancePhone: str | None = None
    coversHelicopter: bool | None = None
    coverAltitudeM: int | None = None
    emergencyName: str | None = None
    emergencyRelationship: str | None = None
    emergencyPhone: str | None = None
    diet: str | None = None
    medical: str | None = None
    arrivalFlight: str | None = None
    arrivalDate: date | str | None = None


def status_json(traveller: Traveller) -> dict[str, Any]:
    """What SALES may see too: no sealed value."""
    return {
        "position": traveller.position,
        "fullName": traveller.full_name,
        "complete": not traveller.missing and traveller.purged_at is None,
        "missing": [rules.BY_NAME[n].api if n in rules.BY_NAME else n for n in traveller.missing],
        "flags": list(traveller.flags or []),
        "verified": traveller.verified_at is not None,
        "verifiedAt": traveller.verified_at.isoformat() if traveller.verified_at else None,
        "locked": traveller.locked_at is not None,
        "purged": traveller.purged_at is not None,
        "photos": {
            "passportPhoto": traveller.passport_photo_key is not None,
            "portraitPhoto": traveller.portrait_photo_key is not None,
        },
    }


def details_json(traveller: Traveller, values: dict[str, Any]) -> dict[str, Any]:
    out = status_json(traveller)
    for spec in rules.FIELDS:
        value = values.get(spec.name)
        out[spec.api] = value.isoformat() if isinstance(value, date) else value
    return out


@api.get("/bookings/<reference>/travellers")
@endpoint(*PAPERS)
def list_travellers(request: Request, session: Session, member: Staff, reference: str) -> Any:
    """Every traveller of the booking with their papers (the read is recorded on the booking's
    timeline)."""
    booking = bookings.find_booking(session, reference)
    rows = travellers.read_for_staff(session, booking, member)
    return {
        "booking": booking.reference,
        "travellers": [details_json(t, values) for t, values in rows],
    }


@api.put("/bookings/<reference>/travellers/<position:str>")
@endpoint(*PAPERS, body=TravellerBody)
def put_traveller(
    request: Request, session: Session, member: Staff, reference: str, position: str, body: Any
) -> Any:
    """Set traveller `position`'s details (1 to the party's size). All or nothing: one field
    wrong answers 422 naming each wrong field and saves none. Locked papers answer 409."""
    booking = bookings.find_booking(session, reference)
    if not position.isdigit():
        raise NotFound(f"No traveller {position!r}: travellers are numbered 1, 2, 3 ...")
    raw = {rules.BY_API[k].name: v for k, v in body.model_dump(exclude_unset=True).items()}
    try:
        saved = travellers.save(
            session,
            booking,
            int(position),
            raw,
            staff_actor(member),
            all_or_nothing=True,
            source="api",
        )
    except rules.TravellerInvalid as exc:
        raise ApiError(
            422,
            "some details are not right",
            fields={rules.BY_NAME[k].api: v for k, v in exc.errors.items()},
        ) from exc
    values = travellers.values_of(saved.traveller)
    return details_json(saved.traveller, values)


@api.get("/departures/<departure_id>/readiness")
@endpoint(*COMPLETENESS)
def departure_readiness(
    request: Request, session: Session, member: Staff, departure_id: str
) -> Any:
    """The departure's papers: travellers complete and verified out of all of its live
    bookings', what is missing and the flags per traveller (no personal details)."""
    departure = _departure(session, departure_id)
    found = travellers.readiness(session, departure)
    return {
        "departure": departure.id,
        "product": departure.product.code,
        "startDate": departure.start_date.isoformat(),
        "total": found.total,
        "complete": found.complete,
        "verified": found.verified,
        "papersReady": found.papers_ready,
        "bookings": [
            {
                "booking": papers.booking.reference,
                "total": papers.total,
                "complete": papers.complete,
                "verified": papers.verified,
                "flags": papers.flags,
                "travellers": [status_json(t) for t in papers.travellers],
            }
            for papers in found.bookings
        ],
    }


@api.get("/departures/<departure_id>/permits.csv")
@endpoint(*PAPERS)
def permits_csv(
    request: Request, session: Session, member: Staff, departure_id: str
) -> HTTPResponse:
    """The permit worksheet: a row per traveller, a column per field the trek's permits ask for
    (the export is recorded on each booking's timeline)."""
    departure = _departure(session, departure_id)
    text = travellers.permits_csv(session, departure, member)
    name = f"permits-{departure.product.code}-{departure.start_date.isoformat()}.csv"
    return response.text(
        text,
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _departure(session: Session, departure_id: str) -> Departure:
    departure = session.get(Departure, departure_id)
    if departure is None:
        raise NotFound(f"No departure {departure_id}")
    return departure
