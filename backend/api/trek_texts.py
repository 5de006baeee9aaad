"""The admin API's texts of a trek per language (as the console's Translations page, its
treks): staff who read the catalogue read them, an admin writes them. Registered on the admin
API's blueprint (`backend.api.routes.api`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sanic import Request
from sqlalchemy.orm import Session

from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import Role
from backend.models import Staff
from backend.services import trek_texts
from backend.texts.treks import TrekTexts


class DayBody(BaseModel):
    """One day line of the itinerary, in the English's order; empty: read in English."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=trek_texts.TITLE_LIMIT)
    detail: str = Field(default="", max_length=trek_texts.DETAIL_LIMIT)


class TrekTextsBody(BaseModel):
    """A trek's texts in one language; what is left out or empty is read in English (every
    text empty: back to the English)."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    name: str = Field(default="", max_length=trek_texts.NAME_LIMIT)
    itinerary: list[DayBody] = Field(default_factory=list, max_length=100)
    inclusions: list[str] = Field(default_factory=list, max_length=trek_texts.LIST_LIMIT)
    packing_list: list[str] = Field(
        default_factory=list, alias="packingList", max_length=trek_texts.LIST_LIMIT
    )


def _texts(texts: TrekTexts) -> dict[str, Any]:
    return {
        "name": texts.name,
        "itinerary": [
            {"days": d.days, "title": d.title, "detail": d.detail} for d in texts.itinerary
        ],
        "inclusions": list(texts.inclusions),
        "packingList": list(texts.packing_list),
    }


def _view(view: trek_texts.View) -> dict[str, Any]:
    row = view.written
    return {
        "product": view.product.code,
        "language": view.language,
        "english": _texts(view.english),
        # What customers reading the language read: the team's texts, else the English.
        "customersRead": _texts(view.reads),
        "written": {
            "name": row.name,
            "itinerary": row.itinerary,
            "inclusions": row.inclusions,
            "packingList": row.packing_list,
        }
        if row is not None
        else None,
        "updatedAt": row.updated_at.isoformat() if row is not None else None,
        "updatedBy": view.updated_by,
    }


@api.get("/products/<code:str>/texts/<language:str>")
@endpoint(Role.SALES, Role.OPS)
def trek_texts_of(
    request: Request, session: Session, member: Staff, code: str, language: str
) -> Any:
    """A trek's texts in one language: the English, the team's and what customers read."""
    return _view(trek_texts.view(session, code, language))


@api.put("/products/<code:str>/texts/<language:str>")
@endpoint(Role.ADMIN, body=TrekTextsBody)
def set_trek_texts(
    request: Request,
    session: Session,
    member: Staff,
    code: str,
    language: str,
    body: TrekTextsBody,
) -> Any:
    """Write a trek's texts in one language (German, French, Spanish): customers reading it
    read them from their next message, page or e-mail on. A text left empty is read in
    English; all empty goes back to the English. Refused (422 naming the fields, nothing
    written): a day line more than the English has, a text too long."""
    draft = trek_texts.Draft(
        name=body.name,
        itinerary=[(day.title, day.detail) for day in body.itinerary],
        inclusions=body.inclusions,
        packing_list=body.packing_list,
    )
    try:
        trek_texts.save(session, code, language, draft, staff_actor(member))
    except trek_texts.TrekTextsRefused as exc:
        raise ApiError(422, "invalid body", fields=exc.faults) from exc
    return _view(trek_texts.view(session, code, language))
