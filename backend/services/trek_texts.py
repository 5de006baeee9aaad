"""A trek's own texts per language (ADMIN writes; SALES and OPS read): its name, its
itinerary's day lines (title and detail), what is included and what to bring, as the team
writes them in German, French or Spanish. The console's Translations page (its treks) and
`PUT /api/products/<code>/texts/<language>` write them here (`trek_texts`).

Customers read them through `backend.texts.treks.trek_texts`, the one rule: a text written in
their language, else the catalogue's English, text by text. Every save and reset is on the
timeline; a refused one (a day line too many, a line too long) writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import clock
from backend.domain import languages
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.domain.errors import ConcurrentChange, DomainError, NotFound
from backend.models import Product, Staff, TrekText
from backend.services import catalog, timeline, translations
from backend.texts.treks import TrekTexts, english_texts, trek_texts

SAVED, RESET = "tms.trek_texts.saved", "tms.trek_texts.reset"
NAME_LIMIT = 120  # as the catalogue's name
TITLE_LIMIT = 200
DETAIL_LIMIT = 2000
LINE_LIMIT = 300  # one thing included, one thing to bring
LIST_LIMIT = 60


class TrekTextsRefused(DomainError):
    """A trek's texts cannot be saved as they are: nothing was saved. `faults` names the
    field of each (name, itinerary, itinerary.<n>.title, inclusions, packingList)."""

    code = "trek_texts_refused"

    def __init__(self, faults: dict[str, str]) -> None:
        self.faults = faults
        super().__init__("Not saved: " + "; ".join(faults.values()) + ".")


@dataclass(frozen=True)
class Draft:
    """What staff typed for a trek in one language; empty texts are read in English."""

    name: str = ""
    itinerary: Sequence[tuple[str, str]] = ()  # (title, detail) by the English day lines
    inclusions: Sequence[str] = ()
    packing_list: Sequence[str] = ()


@dataclass(frozen=True)
class View:
    """A trek in one language, for staff: the English, the team's texts and what customers
    reading that language read."""

    product: Product
    language: str
    english: TrekTexts
    reads: TrekTexts
    written: TrekText | None
    updated_by: str | None = None
    written_fields: tuple[str, ...] = field(default=())


def languages_named() -> dict[str, str]:
    return translations.languages_named()


def _language(code: str) -> str:
    if code not in translations.translated_languages():
        raise NotFound(
            f"No trek texts in {code!r}: they are written in "
            + ", ".join(translations.languages_named().values())
        )
    return code


def _row(session: Session, product: Product, language: str, *, lock: bool) -> TrekText | None:
    query = select(TrekText).where(TrekText.product_id == product.id, TrekText.language == language)
    return session.scalar(query.with_for_update() if lock else query)


def view(session: Session, code: str, language: str) -> View:
    """A trek's texts in `language` (NotFound: no such trek, or a language not written)."""
    language = _language(language)
    product = catalog.get_product(session, code)
    row = _row(session, product, language, lock=False)
    author = (
        session.get(Staff, row.updated_by_staff_id) if row and row.updated_by_staff_id else None
    )
    return View(
        product=product,
        language=language,
        english=english_texts(product),
        reads=trek_texts(product, language),
        written=row,
        updated_by=author.name if author else None,
        written_fields=_fields(row),
    )


def _fields(row: TrekText | None) -> tuple[str, ...]:
    if row is None:
        return ()
    found = [
        name
        for name, value in (
            ("name", row.name),
            ("itinerary", row.itinerary),
            ("inclusions", row.inclusions),
            ("packing list", row.packing_list),
        )
        if value
    ]
    return tuple(found)


def _one_line(text: str) -> str:
    return " ".join(text.replace("\x00", "").split())


def _paragraph(text: str) -> str:
    lines = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def checked(product: Product, draft: Draft) -> dict[str, Any]:
    """The columns to store for `draft` (None: the English is read), or TrekTextsRefused
    naming every fault."""
    faults: dict[str, str] = {}
    name = _one_line(draft.name)
    if len(name) > NAME_LIMIT:
        faults["name"] = f"the name is longer than {NAME_LIMIT} characters"
    english = english_texts(product).itinerary
    if len(draft.itinerary) > len(english):
        faults["itinerary"] = (
            f"{product.code} has {len(english)} day lines: write at most {len(english)}, "
            "in the English's order"
        )
    days: list[dict[str, str]] = []
    for index, (title, detail) in enumerate(draft.itinerary):
        title, detail = _one_line(title), _paragraph(detail)
        where = english[index].days if index < len(english) else str(index + 1)
        if len(title) > TITLE_LIMIT:
            faults[f"itinerary.{index}.title"] = (
                f"day {where}'s title is longer than {TITLE_LIMIT} characters"
            )
        if len(detail) > DETAIL_LIMIT:
            faults[f"itinerary.{index}.detail"] = (
                f"day {where}'s detail is longer than {DETAIL_LIMIT:,} characters"
            )
        days.append({"title": title, "detail": detail})
    lists: dict[str, list[str]] = {}
    for key, label, items in (
        ("inclusions", "what is included", draft.inclusions),
        ("packingList", "what to bring", draft.packing_list),
    ):
        kept = [_one_line(item) for item in items if _one_line(item)]
        if len(kept) > LIST_LIMIT:
            faults[key] = f"{label} has more than {LIST_LIMIT} lines"
        elif any(len(item) > LINE_LIMIT for item in kept):
            faults[key] = f"a line of {label} is longer than {LINE_LIMIT} characters"
        lists[key] = kept
    if faults:
        raise TrekTextsRefused(faults)
    return {
        "name": name or None,
        "itinerary": days if any(d["title"] or d["detail"] for d in days) else None,
        "inclusions": lists["inclusions"] or None,
        "packing_list": lists["packingList"] or None,
    }


def save(session: Session, code: str, language: str, draft: Draft, actor: Actor) -> TrekText | None:
    """The team's texts of a trek in one language, read by customers from their next message
    (page, e-mail) on. Every text left empty is read in English; all empty goes back to the
    English (`reset`; None is returned). Refused, nothing saved: no such trek or a language
    not written (NotFound), a fault in the texts (TrekTextsRefused)."""
    language = _language(language)
    product = catalog.get_product(session, code)
    values = checked(product, draft)
    if not any(values.values()):
        reset(session, code, language, actor)
        return None
    row = _row(session, product, language, lock=True)
    before = _fields(row)
    if row is not None and all(getattr(row, key) == value for key, value in values.items()):
        return row  # nothing changed: nothing on the timeline
    now = clock.now()
    if row is None:
        row = TrekText(
            product_id=product.id,
            language=language,
            updated_at=now,
            updated_by_staff_id=actor.staff_id,
            **values,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError as exc:
            raise ConcurrentChange(
                "Someone saved this trek's texts a moment ago: nothing was changed, look again"
            ) from exc
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.updated_at = now
        row.updated_by_staff_id = actor.staff_id
        session.flush()
    _record(session, SAVED, product, language, actor, before=before, after=_fields(row))
    return row


def reset(session: Session, code: str, language: str, actor: Actor) -> bool:
    """Drop the team's texts of a trek in one language: customers read the English again.
    False when there were none (nothing on the timeline)."""
    language = _language(language)
    product = catalog.get_product(session, code)
    row = _row(session, product, language, lock=True)
    if row is None:
        return False
    before = _fields(row)
    session.delete(row)
    session.flush()
    _record(session, RESET, product, language, actor, before=before, after=())
    return True


def _record(
    session: Session,
    action: str,
    product: Product,
    language: str,
    actor: Actor,
    *,
    before: tuple[str, ...],
    after: tuple[str, ...],
) -> None:
    timeline.record(
        session,
        object_type=ObjectType.PRODUCT,
        object_id=product.id,
        event_type="UPDATED",
        action=action,
        actor=actor,
        content={
            "product": product.code,
            "language": language,
            "languageName": languages.name_of(language),
            "written": ", ".join(after) or None,
            "before": ", ".join(before) or None,
        },
    )
