"""The operator's knowledge: what the assistant answers (SALES, OPS read; ADMIN edits)."""

from __future__ import annotations

from typing import Any

from sanic.response import HTTPResponse
from sqlalchemy import select

from backend.console.web import Ctx, console_bp, console_page
from backend.domain import languages as language_names
from backend.domain.access import Area
from backend.domain.enums import Role
from backend.models import Product
from backend.services import knowledge, timeline


@console_bp.get("/answers")
@console_page(Area.CATALOG)
def answers_page(ctx: Ctx) -> HTTPResponse:
    stored: dict[str, list[Any]] = {}
    for answer in knowledge.all_answers(ctx.session):
        stored.setdefault(answer.topic, []).append(answer)
    return ctx.page(
        "answers.html",
        topics=knowledge.topics(),
        stored=stored,
        products=list(ctx.session.scalars(select(Product.code).order_by(Product.code))),
        can_edit=ctx.member.has_role(Role.ADMIN),
        languages={code: language_names.name_of(code) for code in language_names.SPOKEN},
        unanswered=timeline.recent_by_action(
            ctx.session, "tms.conversation.question_unanswered", limit=30, reader=ctx.member
        ),
    )


@console_bp.post("/answers/<topic:str>")
@console_page(Area.ADMINISTRATION)
def answers_change(ctx: Ctx, topic: str) -> HTTPResponse:
    product = ctx.form("product")
    language = ctx.form("language") or language_names.ENGLISH
    knowledge.set_answer(
        ctx.session, topic, ctx.form("answer"), ctx.actor, product_code=product, language=language
    )
    title = knowledge.topics()[topic].title
    where = f" for {product}" if product else ""
    return ctx.done(
        f"/console/answers#t-{topic}",
        f"“{title}”{where} in {language_names.name_of(language)} saved: the assistant answers "
        "with it now",
    )
