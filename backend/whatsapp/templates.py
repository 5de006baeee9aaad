"""The templates file: which approved template carries each proactive message outside 24 h."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from backend.whatsapp.messages import MessageLimitError, Template

TEMPLATES_FILE = Path(__file__).with_name("templates.yml")
TEMPLATE_PARAM_LIMIT = 1024  # characters of one body parameter


@dataclass(frozen=True)
class TemplateSpec:
    name: str
    language: str
    params: int

    def build(self, parameters: list[Any]) -> Template:
        values = tuple(str(p) for p in parameters)
        if len(values) != self.params:
            raise MessageLimitError(
                f"template {self.name} takes {self.params} parameters, {len(values)} given"
            )
        # Template parameters may not hold newlines or tabs, nor more than 4 spaces in a row.
        cleaned = tuple(" ".join(v.split())[:TEMPLATE_PARAM_LIMIT] for v in values)
        return Template(self.name, self.language, cleaned)


@cache
def load_templates(path: Path = TEMPLATES_FILE) -> dict[str, TemplateSpec]:
    raw = yaml.safe_load(path.read_text()) or {}
    return {purpose: TemplateSpec(**spec) for purpose, spec in raw.items()}


def template_for(purpose: str | None) -> TemplateSpec | None:
    return load_templates().get(purpose or "")


def all_template_names() -> dict[str, int]:
    """Template name → parameter count (what the fake Graph API treats as approved)."""
    return {spec.name: spec.params for spec in load_templates().values()}
