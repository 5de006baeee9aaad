"""Which language a customer page is written in: the booking's contact's
(`languages.language_of`), unless the page was asked for in another one with `?lang=` (a
companion who reads another language switches with the links at the top of every page). The
choice holds for that page and what it posts, never for the contact: their language stays
what the chat decided. A page without a booking (a refused link) follows `?lang=`, then the
browser's `Accept-Language`, then English.

The pages' handlers read the request once (`asking`); the page builders and the renderer
read it back here, so no builder takes the request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from sanic import Request

from backend.domain import languages
from backend.models import Contact
from backend.services.languages import language_of

PARAMETER = "lang"


@dataclass(frozen=True)
class Asked:
    chosen: str | None = None  # `?lang=`, a spoken language
    browser: str | None = None  # the first spoken language of `Accept-Language`


_asked: ContextVar[Asked | None] = ContextVar("tms_page_language", default=None)


def _now() -> Asked:
    return _asked.get() or Asked()


def asked_by(request: Request) -> Asked:
    """What a request asks for; a `?lang=` the product does not speak is ignored."""
    raw = str(request.args.get(PARAMETER) or "").strip().lower()
    chosen = raw if raw != "" and languages.is_spoken(raw) else None
    return Asked(chosen, browser_language(request.headers.get("accept-language") or ""))


def browser_language(header: str) -> str | None:
    """The first spoken language in an `Accept-Language` header, by its weights
    (`de-CH,de;q=0.9,en;q=0.8` → de); None when it names none."""
    weighted: list[tuple[float, int, str]] = []
    for n, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        code = tag.strip().split("-")[0].lower()
        if weight > 0 and languages.is_spoken(code):
            weighted.append((-weight, n, code))
    return min(weighted)[2] if weighted else None


@contextmanager
def asking(asked: Asked) -> Iterator[Asked]:
    """Pages built and rendered inside the block follow what the request asked for."""
    token = _asked.set(asked)
    try:
        yield asked
    finally:
        _asked.reset(token)


def chosen() -> str | None:
    """The language the page was explicitly asked for (`?lang=`), if any."""
    return _now().chosen


def for_reader(contact: Contact | None) -> str:
    """The language to write the page in for this booking's contact (None: no booking)."""
    asked = _now()
    if asked.chosen is not None:
        return asked.chosen
    if contact is not None:
        return language_of(contact)
    return asked.browser or languages.ENGLISH


def carried(url: str) -> str:
    """A link or form action of the same page, keeping an explicit `?lang=` (a companion who
    switched to French stays in French when they send the form)."""
    code = chosen()
    if code is None:
        return url
    parts = urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith(PARAMETER + "="))
    query = f"{query}&{PARAMETER}={code}" if query else f"{PARAMETER}={code}"
    return urlunsplit(parts._replace(query=query))
