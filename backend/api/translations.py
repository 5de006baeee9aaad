"""The admin API's translations of the customer copy (as the console's Translations page):
every staff member who reads the FAQ reads them, an admin writes the team's own wording.
Registered on the admin API's blueprint (`backend.api.routes.api`)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field
from sanic import Request
from sqlalchemy.orm import Session

from backend.api.common import ApiError, endpoint, staff_actor
from backend.api.routes import api
from backend.domain.enums import Role
from backend.domain.whatsapp_messages import TEXT_LIMIT
from backend.models import Staff
from backend.services import translations


class TranslationBody(BaseModel):
    """The team's wording of one English text; an empty text goes back to the catalogue's. A
    text with a count takes `forms`, one per plural form of the language (`forms` of its row)."""

    message_id: str = Field(min_length=1, max_length=5000, description="the English, exactly")
    text: str = Field(default="", max_length=TEXT_LIMIT)
    forms: list[Annotated[str, Field(max_length=TEXT_LIMIT)]] | None = Field(
        default=None, max_length=6, description="a text with a count: each plural form's wording"
    )


def _row(row: translations.Row) -> dict[str, Any]:
    catalogue = row.catalogue
    return {
        "messageId": row.source.message_id,
        "plural": row.source.plural,
        "domain": row.source.domain,  # messages (WhatsApp) or pages (web pages, e-mails)
        "catalogue": list(catalogue) if isinstance(catalogue, tuple) else catalogue,
        "status": row.status,
        "staffText": row.staff_text,
        "updatedAt": row.updated_at.isoformat() if row.updated_at else None,
        "updatedBy": row.updated_by,
        "editable": row.editable,
        # A text with a count: what each of the language's plural forms is for, and the team's.
        "forms": row.forms or None,
        "staffForms": list(row.staff_forms) if row.staff_forms else None,
    }


@api.get("/translations")
@endpoint(Role.SALES, Role.OPS, query=("language", "missing", "q"))
def list_translations(request: Request, session: Session, member: Staff) -> Any:
    """Every English text with, per language, the catalogue's translation and the team's own
    wording (?language=de; ?missing=1 only those missing or fuzzy in the catalogue; ?q=)."""
    wanted = request.args.get("language")
    codes = translations.translated_languages()
    if wanted is not None and wanted not in codes:
        raise ApiError(422, "invalid query", fields={"language": f"one of {', '.join(codes)}"})
    return {
        "languages": {
            code: [
                _row(row)
                for row in translations.rows(
                    session,
                    code,
                    missing_only=request.args.get("missing") in ("1", "true"),
                    search=(request.args.get("q") or "")[:200],
                )
            ]
            for code in ([wanted] if wanted else codes)
        }
    }


@api.put("/translations/<language:str>")
@endpoint(Role.ADMIN, body=TranslationBody)
def set_translation(
    request: Request, session: Session, member: Staff, language: str, body: TranslationBody
) -> Any:
    """Write the team's wording of one text in one language (an empty text: back to the
    catalogue's translation); customers read it from the next message on."""
    saved = translations.save(
        session, language, body.message_id, body.text, staff_actor(member), forms=body.forms
    )
    return {
        "language": language,
        "messageId": body.message_id,
        "staffText": saved.text if saved is not None else None,
        "staffForms": saved.forms if saved is not None else None,
    }
