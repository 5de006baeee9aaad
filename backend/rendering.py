"""Jinja2 for the customers' pages and the e-mails: one environment, the same formatting
helpers as the WhatsApp copy (`texts`), the templates in `backend/templates/`."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from backend import clock, texts
from backend.config import get_settings


def _wa_link(phone: str) -> str:
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


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("backend", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        money=lambda minor, currency: texts.money(minor, currency),
        long_date=texts.long_date,
        local_datetime=texts.local_datetime,
        local_time=texts.local_time,
        wa_link=_wa_link,
        ago=_ago,
        minutes_left=_minutes_left,
    )
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
