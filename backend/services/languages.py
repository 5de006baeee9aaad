"""Which language a customer writes in: detected from their words (lingua, whose models ship
in its package: nothing is downloaded), remembered on the contact, changed when they ask.

A short message says too little to change anything ("ok", "EBC?", "hola!"): the language
moves only on a message of a few words that the detector is sure of, and never once the
customer has chosen one. A message in a language the product does not speak, clearly so, is
answered in English and handed to a person (`services/arrivals.py`)."""

from __future__ import annotations

import functools
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from backend import i18n
from backend.domain import languages
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.models import Contact
from backend.services import timeline

# How sure, and how long, a message must be to set a customer's language, or to be taken as
# written in a language the product does not speak (then a person answers).
SURE_ENOUGH = 0.45
# Or less sure, but far ahead of the runner-up (French with English trek names: 0.43 to 0.15).
FAIRLY_SURE, AHEAD = 0.35, 2.5
WORDS_ENOUGH = 3
FOREIGN_SURE = 0.75
FOREIGN_WORDS = 4

_WORD = re.compile(r"[^\W\d_]{2,}")
# Scripts where words are not separated by spaces: count characters instead.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


@dataclass(frozen=True)
class Heard:
    language: str  # ISO 639-1
    confidence: float
    words: int
    runner_up: float = 0.0  # the next language's confidence

    @property
    def clear(self) -> bool:
        """Sure enough to set a customer's language."""
        return self.words >= WORDS_ENOUGH and (
            self.confidence >= SURE_ENOUGH
            or (self.confidence >= FAIRLY_SURE and self.confidence >= AHEAD * self.runner_up)
        )


@functools.cache
def _detector() -> Any:
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    chosen = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in languages.NAMES
    ]
    return LanguageDetectorBuilder.from_languages(*chosen).build()


def detect(text: str | None) -> Heard | None:
    """The language a message is most likely in, with the detector's confidence; None when
    it has no words to go on."""
    words = len(_WORD.findall(text or "")) + len(_UNSPACED.findall(text or "")) // 2
    if words == 0:
        return None
    values = _detector().compute_language_confidence_values(text)
    if not values:
        return None
    best = values[0]
    runner_up = float(values[1].value) if len(values) > 1 else 0.0
    return Heard(best.language.iso_code_639_1.name.lower(), float(best.value), words, runner_up)


def language_of(contact: Contact) -> str:
    """The language to write to this contact in."""
    code = contact.language
    return code if code is not None and languages.is_spoken(code) else languages.ENGLISH


def writing_to(contact: Contact) -> AbstractContextManager[str]:
    """Customer copy inside the block is in this contact's language (`backend/i18n.py`)."""
    return i18n.speaking(language_of(contact))


def reader_language(contact: Contact) -> str:
    """For staff: the language the customer is written to in, in English words."""
    name = languages.name_of(language_of(contact))
    if contact.language_chosen:
        return f"{name} (their choice)"
    return name if contact.language else f"{name} (not yet known)"


def choose(session: Session, contact: Contact, code: str, actor: Actor) -> None:
    """The customer asked for a language ("English please"): kept until they ask again."""
    before = contact.language
    contact.language = code
    contact.language_chosen = True
    if before != code:
        _record(session, contact, "tms.contact.language_chosen", code, actor)


def foreign_language(text: str | None) -> str | None:
    """The language a message is clearly written in when the product does not speak it."""
    heard = detect(text)
    if (
        heard is None
        or languages.is_spoken(heard.language)
        or heard.confidence < FOREIGN_SURE
        or heard.words < FOREIGN_WORDS
    ):
        return None
    return heard.language


def notice(session: Session, contact: Contact, text: str | None, actor: Actor) -> str:
    """What a customer's message says of their language: a spoken language the detector is
    sure of becomes theirs (unless they chose one). Returns the language to answer in."""
    if contact.language_chosen:
        return language_of(contact)
    heard = detect(text)
    if (
        heard is not None
        and languages.is_spoken(heard.language)
        and heard.clear
        and heard.language != language_of(contact)
    ):
        contact.language = heard.language
        _record(session, contact, "tms.contact.language_detected", heard.language, actor)
    return language_of(contact)


def _record(session: Session, contact: Contact, action: str, code: str, actor: Actor) -> None:
    timeline.record(
        session,
        object_type=ObjectType.CONTACT,
        object_id=contact.id,
        event_type="LANGUAGE",
        action=action,
        actor=actor,
        content={"language": code, "language_name": languages.name_of(code)},
    )
