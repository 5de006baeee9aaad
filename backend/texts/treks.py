"""A trek's own texts as a customer reads them: its name, its itinerary's day lines, what is
included and what to bring, in the language copy is written in now (`i18n.current`).

The English is the catalogue's product data (`Product`); staff may write a trek's texts in
German, French or Spanish (`backend/services/trek_texts.py`, the console's Translations page,
`PUT /api/products/<code>/texts/<language>`), kept in `trek_texts`. `trek_texts` is the one
rule every place that shows them follows (the chat's answers, the customer pages, the
e-mails, the pre-trek guide): a text written in the reader's language, else the English, text
by text. It lives with the copy, below the services, because the copy functions and the
pre-trek guide that show these texts sit below them too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session
from sqlalchemy.orm.exc import UnmappedInstanceError

from backend import i18n
from backend.domain import languages
from backend.models import Product, TrekText


@dataclass(frozen=True)
class DayLine:
    """One line of a trek's itinerary: "Day 3-4: Namche Bazaar" and its detail."""

    days: str
    title: str
    detail: str

    def __getitem__(self, key: str) -> Any:
        # Templates and pages read a line as the catalogue's dict ({"days", "title", "detail"}).
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


@dataclass(frozen=True)
class TrekTexts:
    """A trek's texts in one language (each the written one, else the English)."""

    language: str
    name: str
    itinerary: tuple[DayLine, ...]
    inclusions: tuple[str, ...]
    packing_list: tuple[str, ...]


def english_texts(product: Product) -> TrekTexts:
    """The catalogue's own (English) texts of a trek."""
    return TrekTexts(
        language=languages.ENGLISH,
        name=product.name,
        itinerary=tuple(
            DayLine(
                str(item.get("days") or ""),
                str(item.get("title") or ""),
                str(item.get("detail") or ""),
            )
            for item in (product.itinerary or [])
            if isinstance(item, dict)
        ),
        inclusions=tuple(str(x) for x in (product.inclusions or [])),
        packing_list=tuple(str(x) for x in (product.packing_list or [])),
    )


def written(product: Product, language: str) -> TrekText | None:
    """Staff's texts of a trek in `language`, read through the product's own session (None
    for English, a language not spoken, or a product no longer in a session)."""
    if language == languages.ENGLISH or not languages.is_spoken(language):
        return None
    try:
        session = object_session(product)
    except UnmappedInstanceError:  # a stand-in for a product (a test's, a preview's)
        return None
    if session is None or product.id is None:
        return None
    with session.no_autoflush:  # reading copy never writes what the turn has pending
        return session.scalar(
            select(TrekText).where(TrekText.product_id == product.id, TrekText.language == language)
        )


def trek_texts(product: Product, language: str | None = None) -> TrekTexts:
    """A trek's texts as a customer reading `language` (default: the language copy is written
    in now) reads them: each text written in that language where staff wrote one, else the
    catalogue's English. The itinerary keeps the English's lines and days; a day's title and
    detail are each the written one where there is one."""
    english = english_texts(product)
    code = language or i18n.current()
    row = written(product, code)
    if row is None:
        return english
    days = list(row.itinerary or [])
    itinerary = []
    for index, line in enumerate(english.itinerary):
        own = days[index] if index < len(days) and isinstance(days[index], dict) else {}
        itinerary.append(
            DayLine(
                line.days,
                str(own.get("title") or "").strip() or line.title,
                str(own.get("detail") or "").strip() or line.detail,
            )
        )
    return TrekTexts(
        language=code,
        name=(row.name or "").strip() or english.name,
        itinerary=tuple(itinerary),
        inclusions=_list(row.inclusions) or english.inclusions,
        packing_list=_list(row.packing_list) or english.packing_list,
    )


def _list(items: list[Any] | None) -> tuple[str, ...]:
    return tuple(str(item).strip() for item in (items or []) if str(item).strip())
