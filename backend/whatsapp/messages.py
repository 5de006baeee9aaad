"""Typed builders for outgoing messages that know Meta's limits, and the request bodies.

A builder refuses what Meta would refuse, before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TEXT_LIMIT = 4096
BUTTON_LIMIT = 3
BUTTON_TITLE_LIMIT = 20
BUTTON_BODY_LIMIT = 1024


class MessageLimitError(ValueError):
    """The message breaks one of WhatsApp's limits."""


@dataclass(frozen=True)
class Text:
    body: str

    def __post_init__(self) -> None:
        if not self.body.strip():
            raise MessageLimitError("text is empty")
        if len(self.body) > TEXT_LIMIT:
            raise MessageLimitError(
                f"text is {len(self.body)} characters; the limit is {TEXT_LIMIT}"
            )

    def payload(self) -> dict[str, Any]:
        return {"type": "text", "text": {"preview_url": False, "body": self.body}}


@dataclass(frozen=True)
class Button:
    id: str
    title: str


@dataclass(frozen=True)
class Buttons:
    body: str
    buttons: tuple[Button, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.buttons) <= BUTTON_LIMIT:
            raise MessageLimitError(
                f"{len(self.buttons)} buttons; WhatsApp allows 1 to {BUTTON_LIMIT}"
            )
        for button in self.buttons:
            if not button.title or len(button.title) > BUTTON_TITLE_LIMIT:
                raise MessageLimitError(
                    f"button title {button.title!r} must be 1 to {BUTTON_TITLE_LIMIT} characters"
                )
        if len(self.body) > BUTTON_BODY_LIMIT:
            raise MessageLimitError(f"button message body is over {BUTTON_BODY_LIMIT} characters")

    def payload(self) -> dict[str, Any]:
        return {
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": self.body},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": b.id[:256], "title": b.title}}
                        for b in self.buttons
                    ]
                },
            },
        }


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    parameters: tuple[str, ...] = field(default_factory=tuple)

    def payload(self) -> dict[str, Any]:
        template: dict[str, Any] = {"name": self.name, "language": {"code": self.language}}
        if self.parameters:
            template["components"] = [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": p} for p in self.parameters],
                }
            ]
        return {"type": "template", "template": template}


def request_body(to_wa_id: str, message: Text | Buttons | Template) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to_wa_id,
        **message.payload(),
    }
