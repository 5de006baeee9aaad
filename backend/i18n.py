"""The product's copy in the customer's language.

English is written in the code and is the message id; German, French and Spanish come from
Babel catalogues, `backend/locale/<code>/LC_MESSAGES/messages.po`, read once (no compile step;
staff may edit a catalogue and restart). The language is set for a turn, a reply or a message
(`speaking`): the copy functions in `backend/texts/` call `gettext` and stay unaware of who reads.

The customer's web pages and e-mails (`backend/templates/web`, `mail`, and the page code in
`backend/web`) keep their ids in a second domain, `pages` (`pages.po`, `%(name)s`
placeholders, as Jinja2's i18n extension formats them), read by `pages_gettext` and
`pages_ngettext`; `backend/rendering.py` installs them in the templates. Staff's own wording
(`install_overrides`) is read first in both domains.

A message id missing from a catalogue, or a translation marked fuzzy, falls back to English:
a customer never reads an empty message. `scripts/translations.sh` extracts the ids and
updates the catalogues; tests/backend/test_i18n.py checks each catalogue is complete and keeps
every placeholder.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from backend.domain import languages

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# The web pages' and e-mails' ids (backend/locale/<code>/LC_MESSAGES/pages.po).
PAGES = "pages"

_language: ContextVar[str] = ContextVar("tms_language", default=languages.ENGLISH)

# Staff's own wording, by language and message id, read before the catalogue (the console's
# translations page keeps it in the database; `install_overrides` puts it here). A text with a
# count has a tuple: its wording of each plural form of the language (`plural_forms`).
_overrides: dict[str, dict[str, str | tuple[str, ...]]] = {}


def install_overrides(by_language: Mapping[str, Mapping[str, str | tuple[str, ...]]]) -> None:
    """Replace staff's wording for every language at once (a reader never sees half of it)."""
    global _overrides
    _overrides = {code: dict(table) for code, table in by_language.items()}


def override(code: str, message: str) -> str | None:
    found = _overrides.get(code, {}).get(message)
    return found if isinstance(found, str) else None


def override_forms(code: str, singular: str) -> tuple[str, ...] | None:
    """Staff's wording of each plural form of a text with a count (by its singular), if any."""
    found = _overrides.get(code, {}).get(singular)
    return found if isinstance(found, tuple) else None


def current() -> str:
    """The language copy is written in right now."""
    return _language.get()


@contextmanager
def speaking(code: str | None) -> Iterator[str]:
    """Copy in `code` inside the block (English for a language not spoken or None)."""
    chosen = code if code is not None and languages.is_spoken(code) else languages.ENGLISH
    token = _language.set(chosen)
    try:
        yield chosen
    finally:
        _language.reset(token)


@functools.cache
def catalogue(code: str, domain: str = DOMAIN) -> dict[str, str | tuple[str, ...]]:
    """A language's translations by message id (a plural's id is its singular), in `domain`:
    the WhatsApp copy's (`messages`) or the pages' and e-mails' (`pages`)."""
    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po"
    if not path.exists():
        return {}
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        read = read_po(handle, locale=code)
    found: dict[str, str | tuple[str, ...]] = {}
    for message in read:
        if not message.id or message.fuzzy:
            continue
        key = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
        value = message.string
        if isinstance(value, (tuple, list)):
            if all(value):
                found[key] = tuple(value)
        elif value:
            found[key] = value
    return found


def _translated(domain: str, message: str) -> str:
    code = current()
    if code == languages.ENGLISH:
        return message
    staff_wording = override(code, message)
    if staff_wording:
        return staff_wording
    translated = catalogue(code, domain).get(message)
    return translated if isinstance(translated, str) else message


@functools.cache
def plural_forms(code: str) -> tuple[int, str]:
    """How many plural forms `code` has and its rule choosing one for a count (a C expression
    over n), as Babel reads them from the language's catalogue (its Plural-Forms header, else
    Babel's own data for the locale): German, Spanish `(n != 1)`, French `(n > 1)`."""
    from babel.messages.pofile import read_po

    path = LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        with path.open("rb") as handle:
            read = read_po(handle, locale=code)
    else:
        from babel.messages.catalog import Catalog

        read = Catalog(locale=code)
    return read.num_plurals, read.plural_expr


@functools.cache
def _plural_rule(code: str) -> Callable[[int], int]:
    import gettext as _gettext

    return _gettext.c2py(plural_forms(code)[1])


def plural_index(code: str, n: int) -> int:
    """Which of `code`'s plural forms a count of `n` reads (0 is the first)."""
    if code == languages.ENGLISH:
        return 0 if n == 1 else 1
    count = plural_forms(code)[0]
    return min(max(int(_plural_rule(code)(abs(n))), 0), count - 1)


def _translated_plural(domain: str, singular: str, plural: str, n: int) -> str:
    code = current()
    if code != languages.ENGLISH:
        translated = override_forms(code, singular) or catalogue(code, domain).get(singular)
        if isinstance(translated, tuple) and translated:
            return translated[min(plural_index(code, n), len(translated) - 1)]
    return singular if n == 1 else plural


def gettext(message: str) -> str:
    return _translated(DOMAIN, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translated_plural(DOMAIN, singular, plural, n)


def pages_gettext(message: str) -> str:
    """A web page's or an e-mail's words in the language spoken now (the `pages` domain)."""
    return _translated(PAGES, message)


def pages_ngettext(singular: str, plural: str, n: int) -> str:
    return _translated_plural(PAGES, singular, plural, n)


def in_english(
    module_globals: dict[str, Any], chosen: Callable[[str], bool] = lambda name: True
) -> None:
    """Every public function of a copy module (or those `chosen` by name) writes in English,
    whichever customer's language a turn speaks: staff copy (an alert is built inside the
    customer's turn), an English template's parameters."""
    for name, value in list(module_globals.items()):
        if (
            inspect.isfunction(value)
            and value.__module__ == module_globals["__name__"]
            and not name.startswith("_")
            and chosen(name)
        ):
            module_globals[name] = _english(value)


def _english(function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def written_in_english(*args: Any, **kwargs: Any) -> Any:
        with speaking(languages.ENGLISH):
            return function(*args, **kwargs)

    return written_in_english


# -- A WhatsApp template's parameters, in the language of the template that carries them -------
# The template a message goes as is chosen when it is sent (the reader's language when Meta
# approved the template there, else English), after its parameters were written. So a
# parameter the product writes (a date, a number of days, a short phrase) is kept in English and,
# where it reads differently, in the reader's language too: {"en": "Mar 5, 2027", "de": "5. März
# 2027"}. What is the same in both (a reference, a link) stays a plain string.


def base_language(code: str | None) -> str:
    """`de_DE`, `de-DE` and `de` are German: the part before the locale, lower case."""
    return (code or languages.ENGLISH).replace("-", "_").split("_")[0].lower() or languages.ENGLISH


def in_each_language(build: Callable[[], list[Any]], language: str | None) -> list[Any]:
    """A template's parameters as `build` writes them, in English and in `language` (the
    reader's) where they differ: see `for_template`."""
    with speaking(languages.ENGLISH):
        english = list(build())
    code = base_language(language)
    if code == languages.ENGLISH or not languages.is_spoken(code):
        return english
    with speaking(code):
        local = list(build())
    if len(local) != len(english):
        return english
    return [
        e if e == here else {languages.ENGLISH: str(e), code: str(here)}
        for e, here in zip(english, local, strict=True)
    ]


def for_template(params: list[Any], language: str | None) -> list[str]:
    """The parameters to fill a template in `language` with (`in_each_language`'s values; a
    language they were not written in gets the English)."""
    code = base_language(language)
    return [
        str(p.get(code) or p.get(languages.ENGLISH) or "") if isinstance(p, dict) else str(p)
        for p in params
    ]


_ = gettext
