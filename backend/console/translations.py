"""The customer copy in each language (SALES, OPS read; ADMIN edits): the English text, the
catalogue's translation and staff's own wording, which customers read from the next message
on (`backend/services/translations.py`); a text with a count is written form by form. And each
trek's own texts (name, itinerary, what is included, what to bring) per language
(`/console/translations/treks`, `backend/services/trek_texts.py`)."""

from __future__ import annotations

from urllib.parse import urlencode

from sanic.response import HTTPResponse

from backend.console.web import Ctx, console_bp, console_page
from backend.domain import languages
from backend.domain.access import Area
from backend.domain.enums import Role
from backend.domain.errors import DomainError, NotFound
from backend.domain.whatsapp_messages import BUTTON_TITLE_LIMIT
from backend.services import catalog, translations, trek_texts


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
    # A text with a count: one box per plural form of the language (form_0, form_1, ...).
    forms = (
        [_typed(ctx, f"form_{index}") for index in range(len(translations.form_labels(language)))]
        if source.plural is not None and language in translations.translated_languages()
        else None
    )
    typed = "" if reset else ("\n".join(forms) if forms is not None else _typed(ctx))
    try:
        if reset or not typed.strip():
            done = translations.reset(ctx.session, language, source.message_id, ctx.actor)
            message = (
                f"Back to the catalogue's {name} translation"
                if done
                else f"Nothing to reset: customers read the catalogue's {name} translation"
            )
        else:
            translations.save(
                ctx.session, language, source.message_id, typed, ctx.actor, forms=forms
            )
            message = f"Saved: customers reading {name} get these words from the next message on"
    except NotFound:
        raise
    except DomainError as exc:
        # Shown next to the text, with what was typed kept (nothing was saved).
        kept: dict[str, str | list[str]] = {key: forms if forms is not None else typed}
        return _page(ctx, language, errors={key: str(exc)}, typed=kept, status=422)
    return ctx.done(f"/console/translations?{_query(ctx, language)}#t-{key[:16]}", message)


def _typed(ctx: Ctx, field: str = "text") -> str:
    """A textarea as typed (the line breaks a browser sends as CR LF, read as LF)."""
    return ctx.form(field).replace("\r\n", "\n")


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
    typed: dict[str, str | list[str]] | None = None,
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


# -- a trek's own texts per language -----------------------------------------------------------
@console_bp.get("/translations/treks")
@console_page(Area.CATALOG)
def trek_texts_page(ctx: Ctx) -> HTTPResponse:
    products = catalog.active_products(ctx.session)
    wanted = ctx.arg("product").upper()
    code = (
        wanted if wanted in {p.code for p in products} else (products[0].code if products else "")
    )
    return _trek_page(ctx, _language(ctx), code)


@console_bp.post("/translations/treks/<code:str>/<language:str>")
@console_page(Area.ADMINISTRATION)
def trek_texts_change(ctx: Ctx, code: str, language: str) -> HTTPResponse:
    view = trek_texts.view(ctx.session, code, language)  # NotFound: no such trek or language
    name = languages.name_of(language)
    here = f"/console/translations/treks?{urlencode({'language': language, 'product': code})}"
    if ctx.form("do") == "reset":
        done = trek_texts.reset(ctx.session, code, language, ctx.actor)
        message = (
            f"Back to the English: customers reading {name} read {code}'s English texts"
            if done
            else f"Nothing to reset: customers reading {name} read {code}'s English texts"
        )
        return ctx.done(here, message)
    draft = _draft(ctx, len(view.english.itinerary))
    try:
        saved = trek_texts.save(ctx.session, code, language, draft, ctx.actor)
    except trek_texts.TrekTextsRefused as exc:
        # Shown next to each field, with what was typed kept (nothing was saved).
        return _trek_page(ctx, language, code, errors=exc.faults, typed=draft, status=422)
    if saved is None:
        return ctx.done(here, f"Nothing written: customers reading {name} read the English")
    return ctx.done(here, f"Saved: customers reading {name} read these texts of {code} now")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _draft(ctx: Ctx, days: int) -> trek_texts.Draft:
    return trek_texts.Draft(
        name=ctx.form("name"),
        itinerary=[
            (ctx.form(f"title_{index}"), ctx.form(f"detail_{index}").replace("\r\n", "\n"))
            for index in range(days)
        ],
        inclusions=_lines(ctx.form("inclusions")),
        packing_list=_lines(ctx.form("packing_list")),
    )


def _trek_page(
    ctx: Ctx,
    language: str,
    code: str,
    *,
    errors: dict[str, str] | None = None,
    typed: trek_texts.Draft | None = None,
    status: int = 200,
) -> HTTPResponse:
    products = catalog.active_products(ctx.session)
    view = trek_texts.view(ctx.session, code, language) if code else None
    row = view.written if view else None
    if typed is None:
        days = list(row.itinerary or []) if row else []
        typed = trek_texts.Draft(
            name=(row.name or "") if row else "",
            itinerary=[
                (str(d.get("title") or ""), str(d.get("detail") or ""))
                for d in days
                if isinstance(d, dict)
            ],
            inclusions=list(row.inclusions or []) if row else [],
            packing_list=list(row.packing_list or []) if row else [],
        )
    return ctx.page(
        "translations_treks.html",
        status,
        language=language,
        language_name=languages.name_of(language),
        languages=translations.languages_named(),
        products=products,
        view=view,
        typed=typed,
        days_typed=list(typed.itinerary),
        can_edit=ctx.member.has_role(Role.ADMIN),
        errors=errors or {},
    )
