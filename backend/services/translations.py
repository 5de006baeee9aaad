"""The customer copy in each language as staff keep it: the console's Translations page and
`/api/translations` (ADMIN edits; SALES and OPS read).

The English text in `backend/texts/` is the message id; its translations come from the Babel
catalogues (`backend/locale/<code>/LC_MESSAGES/messages.po`). Staff may write their own
wording of any text in German, French or Spanish: it is stored here (`staff_translations`) and
read before the catalogue (`backend.i18n.override`); saving an empty text goes back to the
catalogue's translation. A text with a count ("{count} seats") is written once per plural form
the language has (`i18n.plural_forms`, as Babel reads the catalogue). A wording keeps exactly
the English text's placeholders (`backend.domain.placeholders`), or it is refused and nothing
is saved. Every save and reset
is on the timeline.

Every process reads the table into `backend.i18n` (`install_overrides`): the one that saves,
once its transaction commits; the others through `refresh`, called where a customer's turn is
built (the inbox's arrivals, the action server's turn) and at the backend's start, which looks
at most every REFRESH_SECONDS whether the table changed (one small query) and reloads it then.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from babel.messages.pofile import read_po
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from backend import clock, i18n
from backend.db import read_transaction
from backend.domain import languages
from backend.domain.actor import Actor
from backend.domain.enums import ObjectType
from backend.domain.errors import ConcurrentChange, DomainError, NotFound
from backend.domain.placeholders import markup_faults, placeholder_faults
from backend.domain.whatsapp_messages import BUTTON_TITLE_LIMIT, TEXT_LIMIT
from backend.models import Staff, StaffTranslation, TimelineEvent
from backend.services import timeline

logger = logging.getLogger(__name__)

# The catalogues' domains (backend/locale/<domain>.pot): the WhatsApp copy, and the web pages'
# and e-mails' where that template exists.
DOMAINS = (i18n.DOMAIN, "pages")
REFRESH_SECONDS = 5.0
SAVED, RESET = "tms.translation.saved", "tms.translation.reset"
# Catalogue states of a text in a language.
TRANSLATED, FUZZY, MISSING = "translated", "fuzzy", "missing"


class WordingRefused(DomainError):
    """Staff's wording cannot be used as it is (its placeholders): nothing was saved."""

    code = "wording_refused"


@dataclass(frozen=True)
class Source:
    """One English text of the copy (a message id of the catalogues' template)."""

    message_id: str
    plural: str | None  # the plural's English, for a text with a count ("{n} seats")
    key: str  # SHA-256 of the message id, hex: how a page or a row names it
    domain: str = i18n.DOMAIN  # the catalogue it is in: WhatsApp's, or the pages' and e-mails'

    @property
    def where(self) -> str:
        """Where customers read it, for staff."""
        return "on WhatsApp" if self.domain == i18n.DOMAIN else "on a web page or an e-mail"

    @property
    def short(self) -> bool:
        """Short enough to be a button's title (WhatsApp shows BUTTON_TITLE_LIMIT characters)."""
        return self.plural is None and len(self.message_id) <= BUTTON_TITLE_LIMIT


@dataclass(frozen=True)
class Row:
    """A text in one language: the catalogue's translation and staff's wording."""

    source: Source
    language: str
    catalogue: str | tuple[str, ...] | None  # None: missing or fuzzy (customers read English)
    status: str  # TRANSLATED, FUZZY or MISSING in the catalogue
    staff_text: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None  # the staff member's name
    staff_forms: tuple[str, ...] | None = None  # a text with a count: each plural form's

    @property
    def editable(self) -> bool:
        """Every text may be written by staff (a text with a count, form by form)."""
        return True

    @property
    def forms(self) -> list[str]:
        """What each plural form of a text with a count is for, in the catalogue's order (for a
        text without one: nothing)."""
        return form_labels(self.language) if self.source.plural is not None else []

    @property
    def customers_read(self) -> str:
        """Whose words a customer reads now, for staff."""
        if self.staff_text:
            return "staff's wording"
        return "the catalogue's translation" if self.catalogue else "English"


def form_labels(language: str) -> list[str]:
    """Each plural form of `language` by the counts it is read for: ["1", "0, 2, 3, 4, …"]."""
    return list(_form_labels(language))


@cache
def _form_labels(language: str) -> tuple[str, ...]:
    count = i18n.plural_forms(language)[0]
    labels = []
    for index in range(count):
        counts = [n for n in range(0, 1001) if i18n.plural_index(language, n) == index]
        shown = ", ".join(str(n) for n in counts[:4])
        labels.append(shown + (", …" if len(counts) > 4 else "") if counts else "other counts")
    return tuple(labels)


def key_of(message_id: str) -> str:
    return hashlib.sha256(message_id.encode("utf-8")).hexdigest()


@cache
def template() -> dict[str, Source]:
    """Every English text of the copy, by message id (a text with a count by its singular):
    the WhatsApp copy's template first, then the web pages' and e-mails' where there is one
    (a text in both is one: staff's wording is read in both)."""
    found: dict[str, Source] = {}
    for domain in DOMAINS:
        path = i18n.LOCALE_DIR / f"{domain}.pot"
        if not path.exists():
            continue
        with path.open("rb") as handle:
            read = read_po(handle)
        for message in read:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
            singular, plural = str(ids[0]), (str(ids[1]) if len(ids) > 1 else None)
            if singular not in found:
                found[singular] = Source(singular, plural, key_of(singular), domain)
    return found


@cache
def _by_key() -> dict[str, Source]:
    return {source.key: source for source in template().values()}


def source_by_key(key: str) -> Source:
    found = _by_key().get(key)
    if found is None:
        raise NotFound("No such text in the customer copy (it may have changed since)")
    return found


@dataclass(frozen=True)
class Entry:
    """A text in a language's catalogue."""

    status: str  # TRANSLATED, FUZZY or MISSING
    translation: str | tuple[str, ...] | None  # what customers read (TRANSLATED only)


@cache
def catalogue(code: str, domain: str = i18n.DOMAIN) -> dict[str, Entry]:
    """Each message id of a language's catalogue, by the rule `i18n.catalogue` reads it with
    (tests/backend/services/test_translations.py holds them together): a translation marked
    fuzzy, or with an empty form, is not used (customers read English)."""
    path = i18n.LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        read = read_po(handle, locale=code)
    found: dict[str, Entry] = {}
    for message in read:
        if not message.id:
            continue
        key = str(message.id[0]) if isinstance(message.id, (tuple, list)) else message.id
        value = message.string
        plural = isinstance(value, (tuple, list))
        forms = (
            tuple(str(f or "") for f in value)
            if isinstance(value, (tuple, list))
            else (str(value or ""),)
        )
        if message.fuzzy:
            found[key] = Entry(FUZZY if any(forms) else MISSING, None)
        elif all(forms):
            found[key] = Entry(TRANSLATED, forms if plural else forms[0])
        else:
            found[key] = Entry(MISSING, None)
    return found


def translated_languages() -> tuple[str, ...]:
    """The languages staff write wording in: every spoken one but English (the message ids)."""
    return tuple(code for code in languages.SPOKEN if code != languages.ENGLISH)


def _language(code: str) -> str:
    if code not in translated_languages():
        raise NotFound(
            f"No translations in {code!r}: the customer copy is translated into "
            f"{', '.join(languages.name_of(c) for c in translated_languages())}"
        )
    return code


def _source(message_id: str) -> Source:
    found = template().get(message_id)
    if found is None:
        raise NotFound(
            "No such text in the customer copy: the English must be exactly as in "
            "the catalogues' templates (backend/locale/*.pot)"
        )
    return found


# -- reading ----------------------------------------------------------------------------------
def rows(
    session: Session,
    language: str,
    *,
    missing_only: bool = False,
    search: str = "",
    domain: str | None = None,
) -> list[Row]:
    """Every text in `language` in the templates' order; `missing_only`: those whose catalogue
    translation is missing or fuzzy; `search`: those whose English, catalogue translation or
    staff's wording holds it (any case); `domain`: those of one catalogue (DOMAINS)."""
    language = _language(language)
    stored = {
        row.message_hash: (row, name)
        for row, name in session.execute(
            select(StaffTranslation, Staff.name)
            .outerjoin(Staff, Staff.id == StaffTranslation.updated_by_staff_id)
            .where(StaffTranslation.language == language)
        )
    }
    needle = search.strip().casefold()
    found = []
    for source in template().values():
        if domain and source.domain != domain:
            continue
        own, name = stored.get(source.key, (None, None))
        entry = catalogue(language, source.domain).get(source.message_id, Entry(MISSING, None))
        row = Row(
            source=source,
            language=language,
            catalogue=entry.translation,
            status=entry.status,
            staff_text=own.text if own else None,
            updated_at=own.updated_at if own else None,
            updated_by=name,
            staff_forms=tuple(str(f) for f in own.forms) if own and own.forms else None,
        )
        if missing_only and row.status == TRANSLATED:
            continue
        if needle and needle not in _searchable(row):
            continue
        found.append(row)
    return found


def _searchable(row: Row) -> str:
    catalogue = row.catalogue if isinstance(row.catalogue, tuple) else (row.catalogue or "",)
    parts = [row.source.message_id, row.source.plural or "", *catalogue, row.staff_text or ""]
    parts += list(row.staff_forms or ())
    return "\n".join(parts).casefold()


def wording(session: Session) -> dict[str, dict[str, str | tuple[str, ...]]]:
    """Staff's whole table: language → English → their wording, a text with a count's as its
    forms (what `i18n` reads)."""
    found: dict[str, dict[str, str | tuple[str, ...]]] = {}
    query = select(
        StaffTranslation.language,
        StaffTranslation.message_id,
        StaffTranslation.text,
        StaffTranslation.forms,
    )
    for code, message_id, text, forms in session.execute(query):
        found.setdefault(code, {})[message_id] = tuple(str(f) for f in forms) if forms else text
    return found


# -- changing ---------------------------------------------------------------------------------
def check(message_id: str, text: str, *, english: str | None = None) -> list[str]:
    """Why `text` cannot stand for the English `message_id` (empty: it can); `english`: the
    English it is checked against when not the message id (a text with a count's plural)."""
    source = template().get(message_id)
    pages = source is not None and source.domain != i18n.DOMAIN
    english = english or message_id
    faults = placeholder_faults(english, text, filled_with_percent=True if pages else None)
    faults += markup_faults(english, text)
    if len(text) > TEXT_LIMIT:
        faults.append(f"longer than WhatsApp's {TEXT_LIMIT:,} characters")
    return faults


def _cleaned(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").strip()


def _plural_wording(language: str, source: Source, forms: Sequence[str]) -> list[str]:
    """Staff's forms of a text with a count, one per plural form of the language, each
    keeping its English's placeholders (the first the singular's, the others the plural's)."""
    labels = form_labels(language)
    if len(forms) != len(labels) or not all(forms):
        raise WordingRefused(
            f"Not saved: {languages.name_of(language)} has {len(labels)} forms of a text with "
            "a count (for " + "; ".join(labels) + "): write each one."
        )
    faults = []
    for index, form in enumerate(forms):
        english = source.message_id if index == 0 else (source.plural or source.message_id)
        faults += [
            f"the form for {labels[index]}: {fault}"
            for fault in check(source.message_id, form, english=english)
        ]
    if faults:
        raise WordingRefused("Not saved: " + "; ".join(faults) + ".")
    return list(forms)


def save(
    session: Session,
    language: str,
    message_id: str,
    text: str,
    actor: Actor,
    *,
    forms: Sequence[str] | None = None,
) -> StaffTranslation | None:
    """Staff's wording of one English text in one language, used from the next message on.
    A text with a count takes `forms`, its wording for each plural form of the language (in
    the order of `form_labels`; `text` is not read). An empty text (every form empty) goes
    back to the catalogue's translation (`reset`; None is returned). Refused, with nothing
    saved: a language the copy is not translated into, a text the copy does not have
    (NotFound), forms for a text without a count or a form missing (WordingRefused), a
    wording that does not keep exactly the English placeholders (WordingRefused)."""
    language = _language(language)
    source = _source(message_id)
    typed = [_cleaned(form) for form in forms] if forms is not None else None
    cleaned = _cleaned(text) if typed is None else (typed[0] if typed else "")
    if typed is not None and source.plural is None:
        raise WordingRefused("Not saved: this text has no count, so it has one form only.")
    if not cleaned and not any(typed or ()):
        reset(session, language, message_id, actor)
        return None
    plural: list[str] | None = None
    if source.plural is not None:
        plural = _plural_wording(language, source, typed if typed is not None else [cleaned])
        cleaned = plural[0]
    else:
        faults = check(source.message_id, cleaned)
        if faults:
            raise WordingRefused("Not saved: " + "; ".join(faults) + ".")
    row = _stored(session, language, source)
    before = _shown(row) if row is not None else None
    after = " | ".join(plural) if plural is not None else cleaned
    if before == after:
        return row  # nothing changed: nothing on the timeline
    now = clock.now()
    if row is None:
        row = StaffTranslation(
            language=language,
            message_hash=source.key,
            message_id=source.message_id,
            text=cleaned,
            forms=plural,
            updated_at=now,
            updated_by_staff_id=actor.staff_id,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError as exc:
            raise ConcurrentChange(
                "Someone saved this text a moment ago: nothing was changed, look again"
            ) from exc
    else:
        row.text = cleaned
        row.forms = plural
        row.updated_at = now
        row.updated_by_staff_id = actor.staff_id
        session.flush()
    _record(session, SAVED, language, source, actor, before=before, after=after)
    _install_on_commit(session)
    return row


def reset(session: Session, language: str, message_id: str, actor: Actor) -> bool:
    """Drop staff's wording: customers read the catalogue's translation again (English where
    it has none). False when there was none (nothing on the timeline)."""
    language = _language(language)
    source = _source(message_id)
    row = _stored(session, language, source)
    if row is None:
        return False
    before = _shown(row)
    session.delete(row)
    session.flush()
    _record(session, RESET, language, source, actor, before=before, after=None)
    _install_on_commit(session)
    return True


def _shown(row: StaffTranslation) -> str:
    """Staff's wording as the timeline shows it (a text with a count: its forms, with |)."""
    return " | ".join(str(f) for f in row.forms) if row.forms else row.text


def _stored(session: Session, language: str, source: Source) -> StaffTranslation | None:
    return session.scalar(
        select(StaffTranslation)
        .where(StaffTranslation.language == language, StaffTranslation.message_hash == source.key)
        .with_for_update()
    )


def _record(
    session: Session,
    action: str,
    language: str,
    source: Source,
    actor: Actor,
    *,
    before: str | None,
    after: str | None,
) -> None:
    timeline.record(
        session,
        object_type=ObjectType.TRANSLATION,
        object_id=object_id(language, source.message_id),
        event_type="UPDATED",
        action=action,
        actor=actor,
        content={
            "language": language,
            "languageName": languages.name_of(language),
            "message": source.message_id,
            "before": before,
            "after": after,
        },
    )


def object_id(language: str, message_id: str) -> str:
    """The timeline's object id of one text in one language (36 characters at most)."""
    return f"{language}:{key_of(message_id)[:32]}"


# -- every process reads the table --------------------------------------------------------------
_PENDING = "staff_wording_to_install"
_lock = threading.Lock()
_checked_at: float | None = None  # time.monotonic() of the last look
_seen: tuple[object, ...] | None = None  # what the table looked like then


def _fingerprint(session: Session) -> tuple[object, ...]:
    """Changes whenever the table does: its size and latest change, and the latest save or
    reset on the (append-only) timeline, which also tells two changes in one clock tick apart."""
    count, latest = session.execute(
        select(func.count(StaffTranslation.id), func.max(StaffTranslation.updated_at))
    ).one()
    last_event = session.scalar(
        select(func.max(TimelineEvent.id)).where(
            TimelineEvent.object_type == str(ObjectType.TRANSLATION)
        )
    )
    return (count, latest, last_event)


def refresh(session: Session, *, force: bool = False) -> bool:
    """Load staff's wording into `i18n` if the table changed since this process last looked;
    looks at most every REFRESH_SECONDS (`force`: now). True when it loaded it."""
    global _checked_at, _seen
    now = time.monotonic()
    with _lock:
        if not force and _checked_at is not None and now - _checked_at < REFRESH_SECONDS:
            return False
        _checked_at = now
    seen = _fingerprint(session)
    if not force and seen == _seen:
        return False
    i18n.install_overrides(wording(session))
    with _lock:
        _seen = seen
    return True


def load_at_start() -> None:
    """A process's first load (the backend's start), in a transaction of its own. A database
    that does not answer yet is no reason not to start: the first turn loads it then."""
    try:
        with read_transaction() as session:
            refresh(session, force=True)
    except SQLAlchemyError:
        logger.warning("staff's translations not loaded at start; loaded at the first turn")


def _install_on_commit(session: Session) -> None:
    """Once this transaction commits, this process reads the table as it now stands (a
    rolled-back change is never read)."""
    session.info[_PENDING] = wording(session)
    if not event.contains(session, "after_commit", _installed):
        event.listen(session, "after_commit", _installed)
        event.listen(session, "after_rollback", _dropped)


def _installed(session: Session) -> None:
    global _seen
    table = session.info.pop(_PENDING, None)
    if table is not None:
        i18n.install_overrides(table)
        with _lock:
            _seen = None  # the next look compares with the database again


def _dropped(session: Session) -> None:
    session.info.pop(_PENDING, None)


def languages_named() -> dict[str, str]:
    """The languages staff write wording in, with their English names."""
    return {code: languages.name_of(code) for code in translated_languages()}


def domains() -> tuple[str, ...]:
    """The catalogues whose texts are listed (the pages' once their template exists)."""
    return tuple(dict.fromkeys(source.domain for source in template().values()))
