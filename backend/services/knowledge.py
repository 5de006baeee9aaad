"""The operator's knowledge: answers to what travellers ask before and after booking.

The topics and the product's default answers are in backend/knowledge/faq.yml; the answers
live in the database (`faq_answers`), loaded from those defaults with the demo world (or
`tms faq load`), and staff with the ADMIN role edit them through the admin API and the
console. The assistant classifies a question to a topic (Rasa's retrieval intent `faq/<topic>`)
and fetches the answer from here, so an edit needs no retraining. A product's own answer
(the Pokhara tour needs no permits) comes before the general one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend import clock, i18n
from backend.domain import languages
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.domain.errors import DomainError, NotFound
from backend.models import FaqAnswer, Product
from backend.services import cancellation_policy, timeline

FAQ_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "faq.yml"
ANSWER_LIMIT = 2000
POLICY_TOPIC = "cancellation_policy"  # answered from the policy's lines, then the stored text


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    answer: str
    products: dict[str, str] = field(default_factory=dict)


@cache
def topics(language: str = languages.ENGLISH) -> dict[str, Topic]:
    """Every topic with its default answers, in the file's order: the English file's, or
    those of a language's own file (`faq.<code>.yml`, empty when there is none)."""
    path = FAQ_FILE if language == languages.ENGLISH else FAQ_FILE.with_suffix(f".{language}.yml")
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text()) or {}
    return {
        key: Topic(
            key,
            str(spec["title"]),
            str(spec["answer"]).strip(),
            {code: str(text).strip() for code, text in (spec.get("products") or {}).items()},
        )
        for key, spec in raw.items()
    }


def load_defaults(session: Session, actor: Actor) -> int:
    """Store the default answers that are not stored yet (an edit is never overwritten);
    returns how many were added."""
    codes = set(session.scalars(select(Product.code)))
    have = {(a.topic, a.product_code, a.language) for a in session.scalars(select(FaqAnswer))}
    added = 0
    for language in languages.SPOKEN:
        for topic in topics(language).values():
            if topic.key not in topics():
                continue  # a translation of a topic the English file no longer has
            wanted = [("", topic.answer)] + [
                (code, text) for code, text in topic.products.items() if code in codes
            ]
            for code, text in wanted:
                if (topic.key, code, language) not in have:
                    session.add(
                        FaqAnswer(
                            topic=topic.key,
                            product_code=code,
                            language=language,
                            answer=text,
                            updated_at=clock.now(),
                        )
                    )
                    added += 1
    if added:
        timeline.record(
            session,
            object_type=ObjectType.FAQ,
            object_id="defaults",
            event_type="LOADED",
            action="tms.faq.defaults_loaded",
            actor=actor,
            content={"answers": added},
        )
    return added


def answer_for(
    session: Session, topic: str, product: Product | None = None, language: str | None = None
) -> str | None:
    """The product's own answer to the topic, else the general one, in `language` (the one
    replies are written in now, by default) where it is written, else in English; None if
    unknown. A product's own answer in English comes before a general one translated: what
    is true of that trek matters more than the language."""
    language = language or i18n.current()
    rows = {
        (a.product_code, a.language): a.answer
        for a in session.scalars(select(FaqAnswer).where(FaqAnswer.topic == topic))
    }
    wanted = [("", language), ("", languages.ENGLISH)]
    if product is not None:
        wanted = [(product.code, language), (product.code, languages.ENGLISH), *wanted]
    stored = next((rows[key] for key in wanted if key in rows), None)
    if topic == POLICY_TOPIC:
        # The policy's lines are data (ADMIN edits them): the answer is written from them, the
        # stored answer adds what else the operator says.
        return cancellation_policy.answer(session, product, stored)
    return stored


def all_answers(session: Session) -> list[FaqAnswer]:
    order = {key: n for n, key in enumerate(topics())}
    return sorted(
        session.scalars(select(FaqAnswer)),
        key=lambda a: (
            order.get(a.topic, len(order)),
            a.topic,
            a.product_code,
            languages.SPOKEN.index(a.language) if a.language in languages.SPOKEN else 99,
        ),
    )


def set_answer(
    session: Session,
    topic: str,
    text: str,
    actor: Actor,
    *,
    product_code: str = "",
    language: str = languages.ENGLISH,
) -> FaqAnswer:
    """Change (or add) a topic's answer, for one product or in general, in one language; on
    the timeline."""
    if not languages.is_spoken(language):
        raise DomainError(f"Answers are written in {', '.join(languages.SPOKEN)}; not {language!r}")
    if topic not in topics():
        raise NotFound(f"No topic {topic!r}; the topics are in backend/knowledge/faq.yml")
    text = text.replace("\x00", "").strip()
    if not text:
        raise DomainError("An answer cannot be empty")
    if len(text) > ANSWER_LIMIT:
        raise DomainError(f"An answer is at most {ANSWER_LIMIT} characters")
    code = (product_code or "").strip().upper()
    if code and session.scalar(select(Product.id).where(Product.code == code)) is None:
        raise NotFound(f"No product {code}")
    row = session.scalar(
        select(FaqAnswer).where(
            FaqAnswer.topic == topic,
            FaqAnswer.product_code == code,
            FaqAnswer.language == language,
        )
    )
    before = row.answer if row else None
    if row is None:
        row = FaqAnswer(
            topic=topic,
            product_code=code,
            language=language,
            answer=text,
            updated_at=clock.now(),
        )
        session.add(row)
    row.answer = text
    row.updated_at = clock.now()
    row.updated_by_staff_id = actor.staff_id
    session.flush()
    timeline.record(
        session,
        object_type=ObjectType.FAQ,
        object_id=f"{topic}:{code}" if code else topic,
        event_type="UPDATED",
        action="tms.faq.answer_updated",
        actor=actor,
        content={
            "topic": topic,
            "product": code or None,
            "language": language,
            "before": before,
            "after": text,
        },
    )
    return row
