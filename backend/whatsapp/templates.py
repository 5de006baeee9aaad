"""The templates file: which template carries each proactive message outside 24 h (the
product's choice), and the seed of the template records: each template's English body,
parameters, quick replies and category as submitted to Meta. What Meta says of them now
(status, quality, category, other languages) is in the `message_templates` records
(`backend/services/message_templates.py`, `tms templates sync`); `live_spec` joins the two."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from backend.domain.whatsapp_messages import MessageLimitError, Template
from backend.services import message_templates

TEMPLATES_FILE = Path(__file__).with_name("templates.yml")
TEMPLATE_PARAM_LIMIT = 1024  # characters of one body parameter
QUICK_REPLY_LIMIT = 10  # buttons on one template
QUICK_REPLY_TITLE_LIMIT = 25


_PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    language: str
    params: int
    body: str  # as approved by Meta, with {{1}}, {{2}}, ...
    # Titles of the approved quick-reply buttons; each send gives their payloads.
    quick_replies: tuple[str, ...] = ()
    category: str = "UTILITY"  # as submitted: UTILITY, MARKETING or AUTHENTICATION

    def __post_init__(self) -> None:
        numbers = sorted({int(n) for n in _PLACEHOLDER.findall(self.body)})
        if numbers != list(range(1, self.params + 1)):
            raise ValueError(
                f"template {self.name}: the body's placeholders {numbers} do not match "
                f"its {self.params} parameters"
            )
        if len(self.quick_replies) > QUICK_REPLY_LIMIT or not all(
            0 < len(t) <= QUICK_REPLY_TITLE_LIMIT for t in self.quick_replies
        ):
            raise ValueError(
                f"template {self.name}: up to {QUICK_REPLY_LIMIT} quick replies of 1 to "
                f"{QUICK_REPLY_TITLE_LIMIT} characters"
            )

    def render(self, parameters: list[Any] | tuple[Any, ...]) -> str:
        """What the person reads on their phone."""
        return _PLACEHOLDER.sub(lambda m: str(parameters[int(m.group(1)) - 1]), self.body)

    def build(self, parameters: list[Any], payloads: list[str] | None = None) -> Template:
        """The template with these body parameters; `payloads` for its quick replies when
        they match them one for one (otherwise a tap sends the button's title)."""
        values = tuple(str(p) for p in parameters)
        if len(values) != self.params:
            raise MessageLimitError(
                f"template {self.name} takes {self.params} parameters, {len(values)} given"
            )
        # Template parameters may not hold newlines or tabs, nor more than 4 spaces in a row.
        cleaned = tuple(" ".join(v.split())[:TEMPLATE_PARAM_LIMIT] for v in values)
        replies = tuple(payloads or ())
        if len(replies) != len(self.quick_replies):
            replies = ()
        return Template(self.name, self.language, cleaned, replies)


@cache
def load_templates(path: Path = TEMPLATES_FILE) -> dict[str, TemplateSpec]:
    raw = yaml.safe_load(path.read_text()) or {}
    return {
        purpose: TemplateSpec(
            **{
                **spec,
                "quick_replies": tuple(spec.get("quick_replies") or ()),
                "category": str(spec.get("category") or "utility").upper(),
            }
        )
        for purpose, spec in raw.items()
    }


def template_for(purpose: str | None) -> TemplateSpec | None:
    return load_templates().get(purpose or "")


def all_template_names() -> dict[str, int]:
    """Template name → parameter count (what the fake Graph API treats as approved)."""
    return {spec.name: spec.params for spec in load_templates().values()}


def approved(name: str) -> TemplateSpec | None:
    """The approved template of that name."""
    return next((spec for spec in load_templates().values() if spec.name == name), None)


def seeds() -> list[TemplateSpec]:
    """Each template of the file once (purposes may share one)."""
    return list({spec.name: spec for spec in load_templates().values()}.values())


def live_spec(session: Session, seed: TemplateSpec, language: str | None) -> TemplateSpec:
    """The template to send for `seed` to someone reading `language`, as Meta holds it: the
    approved record in that language, else in English (raises
    message_templates.TemplateUnavailable when Meta lets none be sent); the seed itself while
    no record of its name exists."""
    record = message_templates.choose(session, seed.name, language, seed.params)
    if record is None:
        return seed
    if record.params == message_templates.UNKNOWN_PARAMS or not record.body:
        return replace(seed, language=record.language)  # known from a webhook only
    try:
        return TemplateSpec(
            name=record.name,
            language=record.language,
            params=record.params,
            body=record.body,
            quick_replies=tuple(str(t) for t in record.quick_replies),
            category=record.category,
        )
    except ValueError:  # a body this product cannot fill (named parameters): the seed's
        return replace(seed, language=record.language)
