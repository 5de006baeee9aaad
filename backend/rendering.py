"""Jinja2 for the customers' pages and the e-mails: one environment, the same formatting
helpers as the WhatsApp copy (`texts`), the templates in `backend/templates/`.

The templates' words go through Jinja2's i18n extension (`{% trans %}`, `_()`) to
`i18n.pages_gettext`: the language spoken around `render` (`i18n.speaking`) decides, as it
does for the dates. English is the message id; the translations are the `pages` catalogues
(`backend/locale/<code>/LC_MESSAGES/pages.po`, scripts/translations.sh)."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache
from typing import Any

from babel import Locale
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from backend import clock, i18n, texts
from backend.config import get_settings
from backend.domain import languages


def _wa_link(phone: str | None) -> str:
    """A click-to-chat link; none for a customer WhatsApp shares no phone of (a BSUID)."""
    if not phone:
        return "#"
    return "https://wa.me/" + "".join(ch for ch in phone if ch.isdigit())


def _ago(value: datetime | None) -> str:
    """`4 min`, `3 h 10 min`, `2 d` since a moment (on the project clock)."""
    if value is None:
        return ""
    minutes = max(int((clock.now() - value).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    return f"{minutes // (24 * 60)} d"


def _minutes_left(value: datetime | None) -> int:
    return 0 if value is None else int((value - clock.now()).total_seconds() // 60)


def meeting_time(day: date, hhmm: str) -> str:
    """A departure's meeting time (`07:00` in the operator's timezone) as the language spoken
    now writes a time: `7:00 AM`, `07:00 Uhr`."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return texts.local_time(datetime.combine(day, time(hour, minute), tzinfo=get_settings().tz))


@cache
def own_name(code: str) -> str:
    """A language as its readers name it: `Deutsch`, `Français`, `Español`."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def language_choices() -> list[dict[str, Any]]:
    """The spoken languages for a page's switch, the one it is written in marked current."""
    now = i18n.current()
    return [
        {"code": code, "name": own_name(code), "current": code == now} for code in languages.SPOKEN
    ]


def _column(label: str, width: int = 11) -> str:
    """A plain-text e-mail's label padded to its column (`Total:     `); a space at least
    after a label longer than the column."""
    return label.ljust(max(width, len(label) + 1))


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("backend", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # A `{% trans %}` block's id is its words with the line breaks and indents folded.
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.pages_gettext, ngettext=i18n.pages_ngettext, newstyle=True
    )
    env.filters.update(
        money=lambda minor, currency: texts.money(minor, currency),
        long_date=texts.long_date,
        local_datetime=texts.local_datetime,
        local_time=texts.local_time,
        wa_link=_wa_link,
        ago=_ago,
        minutes_left=_minutes_left,
        column=_column,
    )
    env.globals["current_language"] = i18n.current
    env.globals["language_choices"] = language_choices
    env.globals["date_range"] = texts.date_range
    env.globals["trek_label"] = texts.trek_label
    return env


def render(name: str, /, **context: Any) -> str:
    settings = get_settings()
    return (
        environment()
        .get_template(name)
        .render(
            operator=settings.operator_name,
            business_phone=settings.whatsapp_business_phone,
            emergency_phone=settings.emergency_phone,
            **context,
        )
    )
