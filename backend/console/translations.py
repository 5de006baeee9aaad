"""The customer copy in each language (SALES, OPS read; ADMIN edits): the English text, the
catalogue's translation and staff's own wording, which customers read from the next message
on (`backend/services/translations.py`)."""

from __future__ import annotations

from urllib.parse import urlencode

from sanic.response import HTTPResponse

from backend.console.web import Ctx, console_bp, console_page
from backend.domain import languages
from backend.domain.access import Area
from backend.domain.enums import Role
from backend.domain.errors import DomainError, NotFound
from backend.domain.whatsapp_messages import BUTTON_TITLE_LIMIT
from backend.services import translations


@console_bp.get("/translations")
@console_page(Area.CATALOG)
def translations_page(ctx: Ctx) -> HTTPResponse:
    return _page(ctx, _language(ctx))


@console_bp.post("/translations/<language:str>/<key:str>")
@console_page(Area.ADMINISTRATION)
def translations_change(ctx: Ctx, language: str, key: str) -> HTTPResponse:
    source = translations.source_by_key(key)
    name = languages.name_of(language)
    reset = ctx.form("do") == "reset"
    typed = "" if reset else _typed(ctx)
    try:
        if reset or not typed.strip():
            done = translations.reset(ctx.session, language, source.message_id, ctx.actor)
            message = (
                f"Back to the catalogue's {name} translation"
                if done
                else f"Nothing to reset: customers read the catalogue's {name} translation"
            )
        else:
            translations.save(ctx.session, language, source.message_id, typed, ctx.actor)
            message = f"Saved: customers reading {name} get these words from the next message on"
    except NotFound:
        raise
    except DomainError as exc:
        # Shown next to the text, with what was typed kept (nothing was saved).
        return _page(ctx, language, errors={key: str(exc)}, typed={key: typed}, status=422)
    return ctx.done(f"/console/translations?{_query(ctx, language)}#t-{key[:16]}", message)


def _typed(ctx: Ctx) -> str:
    """The textarea as typed (the line breaks a browser sends as CR LF, read as LF)."""
    return ctx.form("text").replace("\r\n", "\n")


def _language(ctx: Ctx) -> str:
    wanted = ctx.arg("language")
    choices = translations.translated_languages()
    return wanted if wanted in choices else choices[0]


def _query(ctx: Ctx, language: str) -> str:
    """The page's filters, kept from one request to the next."""
    kept = {"language": language}
    if ctx.arg("missing") == "1":
        kept["missing"] = "1"
    if ctx.arg("q"):
        kept["q"] = ctx.arg("q")[:200]
    if ctx.arg("where") in translations.domains():
        kept["where"] = ctx.arg("where")
    return urlencode(kept)


def _page(
    ctx: Ctx,
    language: str,
    *,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HTTPResponse:
    missing_only = ctx.arg("missing") == "1"
    search = ctx.arg("q")[:200]
    where = ctx.arg("where") if ctx.arg("where") in translations.domains() else ""
    every = translations.rows(ctx.session, language)
    shown = translations.rows(
        ctx.session, language, missing_only=missing_only, search=search, domain=where or None
    )
    return ctx.page(
        "translations.html",
        status,
        language=language,
        language_name=languages.name_of(language),
        languages=translations.languages_named(),
        rows=shown,
        total=len(every),
        not_translated=sum(1 for row in every if row.status != translations.TRANSLATED),
        by_staff=sum(1 for row in every if row.staff_text),
        missing_only=missing_only,
        where=where,
        domains=translations.domains(),
        search=search,
        query=_query(ctx, language),
        can_edit=ctx.member.has_role(Role.ADMIN),
        button_limit=BUTTON_TITLE_LIMIT,
        errors=errors or {},
        typed=typed or {},
    )
